"""OMOP CDM v5.4 into the canonical cohort, from a folder of tables or a DuckDB database file.

Tables read (names in either case): ``person`` (``person_id``, ``gender_concept_id`` 8532
female / 8507 male / else unknown, ``year_of_birth``); ``observation_period`` (follow-up from the
earliest start to the latest end); ``death`` (``death_date`` ends follow-up; cause from
``cause_concept_id`` or an ICD-10 ``cause_source_value``: C00-D48 cancer, U07.1/U07.2 or the
COVID-19 concept covid, any other cause other, none NULL); ``condition_occurrence`` (cancer,
secondary malignancy and respiratory infection concepts, with ICD-10 ``condition_source_value``
as fallback; an infection diagnosed at an inpatient visit, ``visit_concept_id`` 9201 or 262 in
``visit_occurrence``, is hospitalised); ``measurement`` (SARS-CoV-2, influenza and RSV tests;
positive when ``value_as_concept_id`` is a positive/detected concept or ``value_source_value``
says detected/positive); ``drug_exposure`` and ``procedure_occurrence`` (vaccinations: a CVX
concept per the ``concept`` table when present, else a CVX code in the source value);
``episode`` (oncology extension, optional: ``episode_concept_id`` 32528 Disease First Occurrence
is a cancer diagnosis, its site from ``episode_object_concept_id``).

Concept sets are in ``reawaken/cohort/concepts/omop.csv`` (and ``icd10.csv``, ``cvx.csv``);
pass ``concepts=FOLDER`` holding files of the same names to extend them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from reawaken.cohort import codes
from reawaken.cohort.schema import Issues, empty
from reawaken.cohort.sources.common import (
    SourceTables,
    as_text,
    birth_years,
    canonical,
    find_table,
    parse_dates,
    read_source_table,
    report,
    report_death_before_birth,
    require_columns,
    truncate_at,
)
from reawaken.errors import InputError

SEX = {8532: "female", 8507: "male"}
INPATIENT_VISITS = {9201, 262}
FIRST_OCCURRENCE_EPISODE = 32528
_POSITIVE_TEXT = r"(?i)^(?!.*\b(?:not|no|neg)).*\b(?:detected|positive|present)"


class _Tables:
    """Access to OMOP tables by lower-case name, from a folder or a DuckDB file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: dict[str, str] = {}
        if path.is_file():
            try:
                con = duckdb.connect(str(path), read_only=True)
                rows = con.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                ).fetchall()
                con.close()
            except duckdb.Error as exc:
                raise InputError(f"not a DuckDB database: {exc}", file=path) from exc
            for schema, name in rows:
                self.db.setdefault(name.lower(), f'"{schema}"."{name}"')

    def get(self, name: str, required: bool = False) -> pd.DataFrame | None:
        if not self.db and not self.path.is_file():
            file = find_table(self.path, name, required=required)
            return None if file is None else read_source_table(file)
        if name not in self.db:
            if required:
                raise InputError(f"table {name} not found in the database", file=self.path)
            return None
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            frame = con.execute(f"SELECT * FROM {self.db[name]}").df()
        finally:
            con.close()
        frame.columns = [c.lower() for c in frame.columns]
        frame["_file"] = f"{self.path}:{name}"
        frame["_row"] = np.arange(1, len(frame) + 1)
        return frame


def _lower(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [c if c.startswith("_") else c.lower() for c in frame.columns]
    return frame


def _ids(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype("Int64")


def read_omop(
    path: str | Path,
    issues: Issues,
    *,
    censor_date: pd.Timestamp | None = None,
    concepts: str | Path | None = None,
) -> SourceTables:
    """Read an OMOP CDM v5.4 extract into canonical tables (with provenance)."""
    src = _Tables(Path(path))
    per = _lower(src.get("person", required=True))
    file = per["_file"].iloc[0] if len(per) else str(path)
    require_columns(per, ["person_id", "gender_concept_id", "year_of_birth"], file)
    per["person_id"] = as_text(per["person_id"])
    per = report(
        per,
        per["person_id"].isna(),
        "missing person_id",
        issues,
        table="person",
        column="person_id",
    )
    year = pd.to_numeric(per["year_of_birth"], errors="coerce")
    per = report(
        per,
        year.isna(),
        "bad year_of_birth {year_of_birth}",
        issues,
        table="person",
        column="year_of_birth",
    )
    births = birth_years(per, per["person_id"], per["year_of_birth"], "year_of_birth")
    person = canonical(
        per,
        {
            "person_id": per["person_id"],
            "birth_year": pd.to_numeric(per["year_of_birth"]).astype("Int64"),
            "sex": _ids(per, "gender_concept_id").map(SEX).fillna("unknown").astype(object),
        },
        "person_id",
    )

    obs = _lower(src.get("observation_period", required=True))
    require_columns(
        obs,
        ["person_id", "observation_period_start_date", "observation_period_end_date"],
        obs["_file"].iloc[0] if len(obs) else path,
    )
    obs["person_id"] = as_text(obs["person_id"])
    obs, ostart = parse_dates(
        obs, "observation_period_start_date", issues, table="follow_up", required=True
    )
    obs, oend = parse_dates(
        obs, "observation_period_end_date", issues, table="follow_up", required=True
    )
    obs = obs.assign(start=ostart.loc[obs.index], end=oend)
    first = obs.sort_values("start").drop_duplicates("person_id")
    span = obs.groupby("person_id").agg(start=("start", "min"), end=("end", "max"))

    deaths = empty("outcome")
    dead_before_birth: set = set()
    death = _lower(src.get("death")) if src.get("death") is not None else None
    death_date = pd.Series(dtype="datetime64[ns]")
    if death is not None and len(death):
        require_columns(death, ["person_id", "death_date"], death["_file"].iloc[0])
        death["person_id"] = as_text(death["person_id"])
        death, ddate = parse_dates(death, "death_date", issues, table="outcome", required=True)
        death, dead_before_birth = report_death_before_birth(
            death,
            death["person_id"],
            ddate.loc[death.index].dt.year,
            ddate.loc[death.index].dt.strftime("%Y-%m-%d"),
            births,
            issues,
            column="death_date",
        )
        ddate = ddate.loc[death.index]
        cause = _death_cause(death, concepts)
        deaths = canonical(
            death,
            {
                "person_id": death["person_id"],
                "outcome_date": ddate,
                "outcome_type": "death",
                "site": None,
                "cause": cause,
            },
            "death_date",
        )
        death_date = deaths.drop_duplicates("person_id").set_index("person_id")["outcome_date"]

    ids = first["person_id"]
    end = ids.map(span["end"])
    died = ids.map(death_date)
    reason = np.where(died.notna(), "death", "end_of_data")
    end = died.fillna(end)
    if censor_date is not None:
        late = end > censor_date
        reason = np.where(late, "censor_date", reason)
        end = end.where(~late, censor_date)
    follow_up = canonical(
        first,
        {
            "person_id": ids,
            "start_date": ids.map(span["start"]),
            "end_date": end,
            "end_reason": reason,
        },
        "observation_period_end_date",
    )

    visits = src.get("visit_occurrence")
    inpatient: set = set()
    if visits is not None and len(visits):
        visits = _lower(visits)
        if {"visit_occurrence_id", "visit_concept_id"} <= set(visits.columns):
            sel = _ids(visits, "visit_concept_id").isin(INPATIENT_VISITS).fillna(False)
            inpatient = set(_ids(visits, "visit_occurrence_id")[sel.to_numpy()].dropna())
    cond = _conditions(src, issues, concepts, inpatient)
    tests = _measurements(src, issues, concepts)
    vacc = _vaccinations(src, issues, concepts)
    episodes = _episodes(src, issues, concepts)
    if dead_before_birth:  # lenient: quarantined, and the person is left out
        person = person.loc[~person["person_id"].isin(dead_before_birth)]
    tables = {
        "person": person,
        "follow_up": follow_up,
        "cancer_diagnosis": pd.concat([cond["cancer_diagnosis"], episodes], ignore_index=True),
        "infection": pd.concat([cond["infection"], tests], ignore_index=True),
        "vaccination": vacc,
        "outcome": pd.concat([cond["outcome"], deaths], ignore_index=True),
    }
    dropped = truncate_at(tables, censor_date) if censor_date is not None else 0
    return SourceTables(tables, censor_date=censor_date, n_after_censor=dropped)


def _death_cause(death: pd.DataFrame, concepts) -> pd.Series:
    cause = pd.Series(None, index=death.index, dtype=object)
    if "cause_source_value" in death:
        text = as_text(death["cause_source_value"])
        icd = text.where(text.fillna("").str.match(r"^[A-Za-z]\d"))
        cause = codes.classify_icd(icd, "death_cause", extra=concepts).astype(object)
        cause = cause.where(cause.notna() | icd.isna(), "other")
        cause = cause.where(cause.notna() | text.isna(), "other")
    if "cause_concept_id" in death:
        cid = _ids(death, "cause_concept_id")
        covid = set(codes.omop_concepts("infection", concepts)).intersection(
            k for k, v in codes.omop_concepts("infection", concepts).items() if v == "sars-cov-2"
        )
        cancer = set(codes.omop_concepts("cancer", concepts)) | set(
            codes.omop_concepts("metastasis", concepts)
        )
        by_id = pd.Series(None, index=death.index, dtype=object)
        by_id[cid.isin(covid).fillna(False).to_numpy()] = "covid"
        by_id[cid.isin(cancer).fillna(False).to_numpy()] = "cancer"
        given = (cid.fillna(0) != 0).to_numpy()
        cause = by_id.where(by_id.notna(), cause)
        cause = cause.where(cause.notna() | ~given, "other")
    return cause.where(cause.notna(), None)


def _conditions(src: _Tables, issues: Issues, concepts, inpatient: set) -> dict[str, pd.DataFrame]:
    out = {
        "cancer_diagnosis": empty("cancer_diagnosis"),
        "infection": empty("infection"),
        "outcome": empty("outcome"),
    }
    cond = src.get("condition_occurrence")
    if cond is None or not len(cond):
        return out
    cond = _lower(cond)
    require_columns(
        cond, ["person_id", "condition_concept_id", "condition_start_date"], cond["_file"].iloc[0]
    )
    cond["person_id"] = as_text(cond["person_id"])
    cid = _ids(cond, "condition_concept_id")
    source = (
        as_text(cond["condition_source_value"])
        if "condition_source_value" in cond
        else pd.Series(None, index=cond.index, dtype=object)
    )
    icd = source.where(source.fillna("").str.match(r"^[A-Za-z]\d\d"))
    role_values = {}
    for role in ("cancer", "metastasis", "infection"):
        by_id = cid.map(codes.omop_concepts(role, concepts)).astype(object)
        by_code = codes.classify_icd(icd, role, extra=concepts)
        role_values[role] = by_id.where(by_id.notna(), by_code)
    relevant = pd.concat(role_values, axis=1).notna().any(axis=1)
    cond = cond.loc[relevant]
    cond, dates = parse_dates(cond, "condition_start_date", issues, table="outcome", required=True)
    idx = cond.index
    v = {r: s.loc[idx] for r, s in role_values.items()}
    met = cond.loc[v["metastasis"].notna()]
    out["outcome"] = canonical(
        met,
        {
            "person_id": met["person_id"],
            "outcome_date": dates.loc[met.index],
            "outcome_type": "distant_metastasis",
            "site": v["metastasis"].loc[met.index],
            "cause": None,
        },
        "condition_start_date",
    )
    can = cond.loc[v["cancer"].notna() & v["metastasis"].isna()]
    out["cancer_diagnosis"] = canonical(
        can,
        {
            "person_id": can["person_id"],
            "diagnosis_date": dates.loc[can.index],
            "site": v["cancer"].loc[can.index],
            "code": codes.normalise_code(icd.loc[can.index]).astype(object),
            "stage": None,
            "er": None,
            "pr": None,
            "her2": None,
        },
        "condition_start_date",
    )
    inf = cond.loc[v["infection"].notna() & v["metastasis"].isna() & v["cancer"].isna()]
    visit = (
        _ids(inf, "visit_occurrence_id")
        if "visit_occurrence_id" in inf
        else pd.Series(pd.NA, index=inf.index)
    )
    out["infection"] = canonical(
        inf,
        {
            "person_id": inf["person_id"],
            "infection_date": dates.loc[inf.index],
            "pathogen": v["infection"].loc[inf.index],
            "evidence": "diagnosis",
            "hospitalised": visit.isin(inpatient).fillna(False).astype("boolean"),
        },
        "condition_start_date",
    )
    return out


def _measurements(src: _Tables, issues: Issues, concepts) -> pd.DataFrame:
    meas = src.get("measurement")
    if meas is None or not len(meas):
        return empty("infection")
    meas = _lower(meas)
    require_columns(
        meas, ["person_id", "measurement_concept_id", "measurement_date"], meas["_file"].iloc[0]
    )
    pathogen = _ids(meas, "measurement_concept_id").map(codes.omop_concepts("test", concepts))
    meas = meas.loc[pathogen.notna()]
    positive_ids = set(codes.omop_concepts("result", concepts))
    pos = pd.Series(False, index=meas.index)
    if "value_as_concept_id" in meas:
        pos |= _ids(meas, "value_as_concept_id").isin(positive_ids).fillna(False)
    if "value_source_value" in meas:
        pos |= (
            as_text(meas["value_source_value"]).fillna("").str.contains(_POSITIVE_TEXT, regex=True)
        )
    meas = meas.loc[pos]
    meas["person_id"] = as_text(meas["person_id"])
    meas, dates = parse_dates(meas, "measurement_date", issues, table="infection", required=True)
    return canonical(
        meas,
        {
            "person_id": meas["person_id"],
            "infection_date": dates,
            "pathogen": pathogen.loc[meas.index],
            "evidence": "test",
            "hospitalised": pd.array([False] * len(meas), dtype="boolean"),
        },
        "measurement_date",
    )


def _vaccinations(src: _Tables, issues: Issues, concepts) -> pd.DataFrame:
    cvx = codes.cvx_vaccines(concepts)
    concept = src.get("concept")
    by_concept: dict[int, str] = {}
    if concept is not None and len(concept):
        concept = _lower(concept)
        sel = concept["vocabulary_id"].astype(str) == "CVX"
        for cid, code in zip(
            concept.loc[sel, "concept_id"], concept.loc[sel, "concept_code"], strict=True
        ):
            key = str(code).strip().lstrip("0")
            if key in cvx:
                by_concept[int(cid)] = cvx[key]
    parts = []
    for table, prefix, date_col in (
        ("drug_exposure", "drug", "drug_exposure_start_date"),
        ("procedure_occurrence", "procedure", "procedure_date"),
    ):
        frame = src.get(table)
        if frame is None or not len(frame):
            continue
        frame = _lower(frame)
        require_columns(
            frame, ["person_id", f"{prefix}_concept_id", date_col], frame["_file"].iloc[0]
        )
        vaccine = _ids(frame, f"{prefix}_concept_id").map(by_concept).astype(object)
        if f"{prefix}_source_value" in frame:
            text = as_text(frame[f"{prefix}_source_value"]).fillna("")
            short = text.where(text.str.fullmatch(r"\d{1,3}"), "").str.lstrip("0")
            vaccine = vaccine.where(vaccine.notna(), short.map(cvx))
        frame = frame.loc[vaccine.notna()]
        frame["person_id"] = as_text(frame["person_id"])
        frame, dates = parse_dates(frame, date_col, issues, table="vaccination", required=True)
        parts.append(
            canonical(
                frame,
                {
                    "person_id": frame["person_id"],
                    "vaccination_date": dates,
                    "vaccine": vaccine.loc[frame.index],
                },
                date_col,
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else empty("vaccination")


def _episodes(src: _Tables, issues: Issues, concepts) -> pd.DataFrame:
    ep = src.get("episode")
    if ep is None or not len(ep):
        return empty("cancer_diagnosis")
    ep = _lower(ep)
    require_columns(
        ep,
        ["person_id", "episode_concept_id", "episode_start_date", "episode_object_concept_id"],
        ep["_file"].iloc[0],
    )
    ep = ep.loc[
        (_ids(ep, "episode_concept_id") == FIRST_OCCURRENCE_EPISODE).fillna(False).to_numpy()
    ]
    ep["person_id"] = as_text(ep["person_id"])
    ep, dates = parse_dates(
        ep, "episode_start_date", issues, table="cancer_diagnosis", required=True
    )
    site = _ids(ep, "episode_object_concept_id").map(codes.omop_concepts("cancer", concepts))
    return canonical(
        ep,
        {
            "person_id": ep["person_id"],
            "diagnosis_date": dates,
            "site": site.fillna("other").astype(object),
            "code": None,
            "stage": None,
            "er": None,
            "pr": None,
            "her2": None,
        },
        "episode_start_date",
    )
