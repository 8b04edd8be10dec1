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

Concept sets are in :mod:`reawaken.cohort.codes` (the packaged ``concepts/omop.csv`` and
``icd10.csv`` and the pathogen table's codes); pass ``concepts=FOLDER`` holding files of the same
names (``omop.csv``, ``icd10.csv``, ``cvx.csv``) to extend them.

Synthetic layout (:func:`write_synthetic`): ``person``, ``observation_period``,
``condition_occurrence``, ``measurement``, ``drug_exposure`` and ``death`` as CSV files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from reawaken.cohort import codes
from reawaken.cohort.schema import Issues, empty
from reawaken.cohort.sources import canonical, common
from reawaken.cohort.sources.synthetic import (
    DEATH_ICD10,
    METASTASIS_ICD10,
    Cohort,
    SyntheticDesign,
    SyntheticFiles,
    iso,
    layout_codes,
    recorded_infections,
    repeat_tests,
    write_tables,
)
from reawaken.errors import InputError

SEX = {8532: "female", 8507: "male"}
INPATIENT_VISITS = {9201, 262}
FIRST_OCCURRENCE_EPISODE = 32528
BREAST_CANCER = 4112853  # SNOMED 254837009, the concept the synthetic layout writes
LUNG_METASTASIS = 254591  # SNOMED 94391008
DETECTED = 4126681  # SNOMED 260373001
TYPE_EHR = 32817  # type concept "EHR"
_POSITIVE_TEXT = r"(?i)^(?!.*\b(?:not|no|neg)).*\b(?:detected|positive|present)"


# ----- the source (reawaken.cohort.sources.Source): this module ------------------------------
kind = "omop"
id_column = "person_id"
title = "OMOP CDM v5.4"
synthetic = SyntheticDesign(
    anchor="diagnosis",
    first="2008-01-01",
    last="2021-12-31",
    max_lag_days=1000,  # observation starts up to 1000 days before the diagnosis
    loss_per_year=0.03,
)

#: Source fields and the canonical columns they fill (docs/cohort.md shows this table).
field_map: tuple[tuple[str, str], ...] = (
    (
        "`person.person_id`, `year_of_birth`, `gender_concept_id` (8532 female, 8507 male, "
        "else unknown)",
        "`person`",
    ),
    ("`observation_period` earliest start, latest end", "`follow_up` (reason `end_of_data`)"),
    ("`death.death_date`", "`outcome` `death` and `follow_up.end_date` (reason `death`)"),
    (
        "`death.cause_concept_id`, `cause_source_value` (ICD-10: C00-D48 cancer, U07.1/U07.2 "
        "covid)",
        "`outcome.cause` (other when a cause is given but not those; NULL when none)",
    ),
    (
        "`condition_occurrence` cancer / secondary malignancy / respiratory infection "
        "concepts, ICD-10 `condition_source_value` as fallback",
        "`cancer_diagnosis` / `outcome` `distant_metastasis` / `infection` (evidence "
        "diagnosis; hospitalised when the `visit_occurrence` is inpatient, 9201 or 262)",
    ),
    (
        "`measurement` test concepts of the pathogen table (SARS-CoV-2, influenza, RSV), "
        "positive by `value_as_concept_id` (Detected/Positive/Present concepts) or a "
        "`value_source_value` saying detected/positive",
        "`infection` (evidence test)",
    ),
    (
        "`drug_exposure`, `procedure_occurrence`: CVX concept (when a `concept` table is "
        "present) or CVX code in the source value",
        "`vaccination`",
    ),
    (
        "`episode` (oncology extension, if present): `episode_concept_id` 32528 Disease First "
        "Occurrence",
        "`cancer_diagnosis` (site from `episode_object_concept_id`)",
    ),
)


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
            file = common.find_table(self.path, name, required=required)
            return None if file is None else common.read_source_table(file)
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

    def load(self, name: str, columns: list[str]) -> pd.DataFrame | None:
        """Optional table ``name`` with lower-case column names and ``columns`` checked (None
        when absent or empty)."""
        frame = self.get(name)
        if frame is None or not len(frame):
            return None
        frame = _lower(frame)
        common.require_columns(frame, columns, frame["_file"].iloc[0])
        return frame


def _lower(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [c if c.startswith("_") else c.lower() for c in frame.columns]
    return frame


def _ids(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype("Int64")


def read(extract: common.Extract) -> common.SourceTables:
    """Read an OMOP CDM v5.4 extract (a folder of tables or a DuckDB file) into canonical
    tables (with provenance)."""
    issues, concepts = extract.issues, extract.concepts
    src = _Tables(extract.path)
    per = _lower(src.get("person", required=True))
    file = per["_file"].iloc[0] if len(per) else str(extract.path)
    common.require_columns(per, ["person_id", "gender_concept_id", "year_of_birth"], file)
    per = common.check_persons(
        per, issues, id_column="person_id", year_column="year_of_birth", year_label="year_of_birth"
    )
    births = common.birth_years(per, per["person_id"], per["year_of_birth"], "year_of_birth")
    sex = _ids(per, "gender_concept_id").map(SEX).fillna("unknown").astype(object)
    person = canonical.person(per, id_column="person_id", year_column="year_of_birth", sex=sex)

    obs = _lower(src.get("observation_period", required=True))
    common.require_columns(
        obs,
        ["person_id", "observation_period_start_date", "observation_period_end_date"],
        obs["_file"].iloc[0] if len(obs) else extract.path,
    )
    obs["person_id"] = common.as_text(obs["person_id"])
    obs, ostart = common.parse_dates(
        obs, "observation_period_start_date", issues, table="follow_up", required=True
    )
    obs, oend = common.parse_dates(
        obs, "observation_period_end_date", issues, table="follow_up", required=True
    )
    obs = obs.assign(start=ostart.loc[obs.index], end=oend)
    first = obs.sort_values("start").drop_duplicates("person_id")
    span = obs.groupby("person_id").agg(start=("start", "min"), end=("end", "max"))
    deaths, death_date, dead_before_birth = _deaths(src, issues, births, concepts)
    ids = first["person_id"]
    follow_up = canonical.follow_up(
        first,
        ids,
        ids.map(span["start"]),
        ids.map(span["end"]),
        "end_of_data",
        ids.map(death_date),
        cut=extract.censor_date,
        cut_reason="censor_date",
        column="observation_period_end_date",
    )

    cond = _conditions(src, issues, concepts, _inpatient_visits(src))
    tests = _measurements(src, issues, concepts)
    vacc = _vaccinations(src, issues, concepts)
    episodes = _episodes(src, issues, concepts)
    tables = {
        "person": person,
        "follow_up": follow_up,
        "cancer_diagnosis": pd.concat([cond["cancer_diagnosis"], episodes], ignore_index=True),
        "infection": pd.concat([cond["infection"], tests], ignore_index=True),
        "vaccination": vacc,
        "outcome": pd.concat([cond["outcome"], deaths], ignore_index=True),
    }
    return common.source_tables(tables, extract.censor_date, left_out=dead_before_birth)


def _deaths(
    src: _Tables, issues: Issues, births: pd.DataFrame, concepts: str | Path | None
) -> tuple[pd.DataFrame, pd.Series, set]:
    """Deaths, the death date per person, and the persons dead before birth."""
    death = src.load("death", ["person_id", "death_date"])
    if death is None:
        return empty("outcome"), pd.Series(dtype="datetime64[ns]"), set()
    death["person_id"] = common.as_text(death["person_id"])
    death, ddate = common.parse_dates(death, "death_date", issues, table="outcome", required=True)
    death, dead_before_birth = common.report_death_before_birth(
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
    deaths = canonical.death(death, death["person_id"], ddate, cause, "death_date")
    return deaths, canonical.death_dates(deaths), dead_before_birth


def _inpatient_visits(src: _Tables) -> set:
    """Ids of the inpatient visits (``visit_concept_id`` 9201 or 262)."""
    visits = src.get("visit_occurrence")
    if visits is None or not len(visits):
        return set()
    visits = _lower(visits)
    if not {"visit_occurrence_id", "visit_concept_id"} <= set(visits.columns):
        return set()
    sel = _ids(visits, "visit_concept_id").isin(INPATIENT_VISITS).fillna(False)
    return set(_ids(visits, "visit_occurrence_id")[sel.to_numpy()].dropna())


def _death_cause(death: pd.DataFrame, concepts) -> pd.Series:
    """Cause of death from ``cause_concept_id`` or an ICD-10 ``cause_source_value``."""
    cause = pd.Series(None, index=death.index, dtype=object)
    if "cause_source_value" in death:
        text = common.as_text(death["cause_source_value"])
        icd = text.where(text.fillna("").str.match(r"^[A-Za-z]\d"))
        cause = codes.classify_icd(icd, "death_cause", extra=concepts).astype(object)
        cause = cause.where(cause.notna() | icd.isna(), "other")
        cause = cause.where(cause.notna() | text.isna(), "other")
    if "cause_concept_id" in death:
        cid = _ids(death, "cause_concept_id")
        covid_id = common.covid_pathogen()
        covid = set(codes.omop_concepts("infection", concepts)).intersection(
            k for k, v in codes.omop_concepts("infection", concepts).items() if v == covid_id
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
    """Cancer diagnoses, metastases and infection diagnoses from ``condition_occurrence``."""
    date_col = "condition_start_date"
    out = {
        "cancer_diagnosis": empty("cancer_diagnosis"),
        "infection": empty("infection"),
        "outcome": empty("outcome"),
    }
    columns = ["person_id", "condition_concept_id", "condition_start_date"]
    cond = src.load("condition_occurrence", columns)
    if cond is None:
        return out
    cond["person_id"] = common.as_text(cond["person_id"])
    cid = _ids(cond, "condition_concept_id")
    source = (
        common.as_text(cond["condition_source_value"])
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
    cond, dates = common.parse_dates(cond, date_col, issues, table="outcome", required=True)
    idx = cond.index
    v = {r: s.loc[idx] for r, s in role_values.items()}
    met = cond.loc[v["metastasis"].notna()]
    out["outcome"] = canonical.metastasis(
        met, met["person_id"], dates.loc[met.index], v["metastasis"].loc[met.index], date_col
    )
    can = cond.loc[v["cancer"].notna() & v["metastasis"].isna()]
    out["cancer_diagnosis"] = canonical.diagnosis(
        can,
        can["person_id"],
        dates.loc[can.index],
        v["cancer"].loc[can.index],
        date_col,
        code=codes.normalise_code(icd.loc[can.index]).astype(object),
    )
    inf = cond.loc[v["infection"].notna() & v["metastasis"].isna() & v["cancer"].isna()]
    visit = (
        _ids(inf, "visit_occurrence_id")
        if "visit_occurrence_id" in inf
        else pd.Series(pd.NA, index=inf.index)
    )
    out["infection"] = canonical.infection(
        inf,
        inf["person_id"],
        dates.loc[inf.index],
        v["infection"].loc[inf.index],
        "diagnosis",
        date_col,
        hospitalised=visit.isin(inpatient).fillna(False).astype("boolean"),
    )
    return out


def _measurements(src: _Tables, issues: Issues, concepts) -> pd.DataFrame:
    """Positive tests from ``measurement`` as infection records."""
    meas = src.load("measurement", ["person_id", "measurement_concept_id", "measurement_date"])
    if meas is None:
        return empty("infection")
    pathogen = _ids(meas, "measurement_concept_id").map(codes.omop_concepts("test", concepts))
    meas = meas.loc[pathogen.notna()]
    positive_ids = set(codes.omop_concepts("result", concepts))
    pos = pd.Series(False, index=meas.index)
    if "value_as_concept_id" in meas:
        pos |= _ids(meas, "value_as_concept_id").isin(positive_ids).fillna(False)
    if "value_source_value" in meas:
        pos |= (
            common.as_text(meas["value_source_value"])
            .fillna("")
            .str.contains(_POSITIVE_TEXT, regex=True)
        )
    meas = meas.loc[pos]
    meas["person_id"] = common.as_text(meas["person_id"])
    meas, dates = common.parse_dates(
        meas, "measurement_date", issues, table="infection", required=True
    )
    pathogen = pathogen.loc[meas.index]
    return canonical.infection(meas, meas["person_id"], dates, pathogen, "test", "measurement_date")


def _vaccinations(src: _Tables, issues: Issues, concepts) -> pd.DataFrame:
    """Vaccinations (CVX codes) from ``drug_exposure`` and ``procedure_occurrence``."""
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
        frame = src.load(table, ["person_id", f"{prefix}_concept_id", date_col])
        if frame is None:
            continue
        vaccine = _ids(frame, f"{prefix}_concept_id").map(by_concept).astype(object)
        if f"{prefix}_source_value" in frame:
            text = common.as_text(frame[f"{prefix}_source_value"]).fillna("")
            short = text.where(text.str.fullmatch(r"\d{1,3}"), "").str.lstrip("0")
            vaccine = vaccine.where(vaccine.notna(), short.map(cvx))
        frame = frame.loc[vaccine.notna()]
        frame["person_id"] = common.as_text(frame["person_id"])
        frame, dates = common.parse_dates(
            frame, date_col, issues, table="vaccination", required=True
        )
        parts.append(
            canonical.table(
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
    """First occurrences of a cancer from the oncology extension's ``episode`` table."""
    columns = ["person_id", "episode_concept_id", "episode_start_date", "episode_object_concept_id"]
    ep = src.load("episode", columns)
    if ep is None:
        return empty("cancer_diagnosis")
    ep = ep.loc[
        (_ids(ep, "episode_concept_id") == FIRST_OCCURRENCE_EPISODE).fillna(False).to_numpy()
    ]
    ep["person_id"] = common.as_text(ep["person_id"])
    ep, dates = common.parse_dates(
        ep, "episode_start_date", issues, table="cancer_diagnosis", required=True
    )
    site = _ids(ep, "episode_object_concept_id").map(codes.omop_concepts("cancer", concepts))
    site = site.fillna("other").astype(object)
    return canonical.diagnosis(ep, ep["person_id"], dates, site, "episode_start_date")


def write_synthetic(cohort: Cohort, out: Path, rng: np.random.Generator) -> SyntheticFiles:
    """OMOP CDM tables: recorded infections as tests (``measurement``, 60% of those with a test
    concept) or diagnoses (``condition_occurrence``), vaccinations as CVX codes."""
    people, p = cohort.people, cohort.params
    rec = recorded_infections(cohort)
    relapsed = people["relapse"] >= 0
    person_id = people["pid"] + 1
    tables: dict[str, pd.DataFrame] = {}
    tables["person"] = pd.DataFrame(
        {
            "person_id": person_id,
            "gender_concept_id": np.where(people["sex"] == "female", 8532, 8507),
            "year_of_birth": people["birth_year"],
            "race_concept_id": 0,
            "ethnicity_concept_id": 0,
        }
    )
    tables["observation_period"] = pd.DataFrame(
        {
            "observation_period_id": person_id,
            "person_id": person_id,
            "observation_period_start_date": iso(people["entry"]),
            "observation_period_end_date": iso(people["end"]),
            "period_type_concept_id": TYPE_EHR,
        }
    )
    test_concepts = layout_codes("omop_test")
    as_test = rec["pathogen"].isin(list(test_concepts)) & (rng.random(len(rec)) < 0.6)
    tst = pd.concat([rec[as_test], repeat_tests(rec[as_test], p, rng)])
    dia = rec[~as_test]
    rel = people[relapsed]
    cond = pd.concat(
        [
            _conditions_of(people["pid"], people["dx"], BREAST_CANCER, "C50.9"),
            _conditions_of(
                dia["pid"],
                dia["day"],
                dia["pathogen"].map(layout_codes("omop_condition")),
                dia["pathogen"].map(layout_codes("icd10")),
            ),
            _conditions_of(
                rel["pid"],
                rel["relapse"],
                np.where(rel["site"] == "lung", LUNG_METASTASIS, 0),
                rel["site"].map(METASTASIS_ICD10),
            ),
        ]
    ).sort_values(["person_id", "day"])
    tables["condition_occurrence"] = pd.DataFrame(
        {
            "condition_occurrence_id": np.arange(1, len(cond) + 1),
            "person_id": cond["person_id"],
            "condition_concept_id": cond["condition_concept_id"],
            "condition_start_date": iso(cond["day"]),
            "condition_type_concept_id": TYPE_EHR,
            "condition_source_value": cond["condition_source_value"],
        }
    )
    tables["measurement"] = pd.DataFrame(
        {
            "measurement_id": np.arange(1, len(tst) + 1),
            "person_id": tst["pid"] + 1,
            "measurement_concept_id": tst["pathogen"].map(test_concepts),
            "measurement_date": iso(tst["day"]),
            "measurement_type_concept_id": TYPE_EHR,
            "value_as_concept_id": DETECTED,
            "value_source_value": "Detected",
        }
    )
    vac = cohort.vaccinations
    tables["drug_exposure"] = pd.DataFrame(
        {
            "drug_exposure_id": np.arange(1, len(vac) + 1),
            "person_id": vac["pid"] + 1,
            "drug_concept_id": 0,
            "drug_exposure_start_date": iso(vac["day"]),
            "drug_type_concept_id": TYPE_EHR,
            "drug_source_value": vac["vaccine"].map(layout_codes("cvx")),
        }
    )
    dead = people[people["death"] >= 0]
    tables["death"] = pd.DataFrame(
        {
            "person_id": dead["pid"] + 1,
            "death_date": iso(dead["death"]),
            "death_type_concept_id": TYPE_EHR,
            "cause_concept_id": 0,
            "cause_source_value": dead["cause"].map(DEATH_ICD10),
        }
    )
    write_tables(out, tables)
    end = people["end"].to_numpy().copy()
    return SyntheticFiles(rec, end, people["cause"], n_vaccinations=len(vac))


def _conditions_of(pid: pd.Series, days: pd.Series, concept: object, code: object) -> pd.DataFrame:
    """Condition rows (person, concept, day, ICD-10 source value) of synthetic persons."""
    return pd.DataFrame(
        {
            "person_id": pid + 1,
            "condition_concept_id": concept,
            "day": days,
            "condition_source_value": code,
        }
    )
