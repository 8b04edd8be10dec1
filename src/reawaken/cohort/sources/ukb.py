"""UK Biobank, as exported from its Research Analysis Platform, into the canonical cohort.

Files (``.csv``, ``.tsv`` or ``.parquet`` in one folder):

``participant``: ``eid``; ``p31`` sex (0 female, 1 male); ``p34`` year of birth; ``p53_i0`` date of
the first assessment visit; cancer registry instances ``p40005_iN`` (date), ``p40006_iN``
(ICD-10 code), ``p40011_iN`` (histology), ``p40012_iN`` (behaviour); death ``p40000_i0`` (date),
``p40001_i0`` (underlying cause, ICD-10), ``p40002_i0_aN`` (contributory causes); ``p190``
(reason lost to follow-up), ``p191`` (date lost to follow-up). The older column style
``40005-0.0`` is accepted as well (``31-0.0`` -> ``p31``, ``40002-0.3`` -> ``p40002_i0_a3``).

``covid19_result`` (optional): ``eid, specdate, spectype, laboratory, origin, result, acute,
hosaq, reqorg``; ``result`` 1 is positive, 0 negative; ``origin`` 1 (inpatient) marks the
infection as hospitalised.

Mapping: follow-up starts at ``p53_i0``; it ends at death (``p40000_i0``), at loss to follow-up
(``p191``) or at the censor date, whichever comes first. UK Biobank has no end of follow-up of
its own, so the censor date defaults to the latest date the extract holds (any registry, death,
loss or test date) and is overridden by ``censor_date``; records after it are left out and
counted. A registry entry with a primary-cancer code is a ``cancer_diagnosis`` (stage and
receptors are not in these fields, so NULL). A secondary-neoplasm code (C77-C79; C78.0 lung,
C78.7 liver, C79.3 brain, C79.5 bone, others ``other``) on or after the assessment date is a
``distant_metastasis`` outcome; one registered before it is prevalent disease and kept as a
``cancer_diagnosis`` row with stage ``IV`` and site ``other``. An underlying cause of death in
C00-D48 is a cancer death, U07.1/U07.2 a COVID death, anything else other. Each positive test is
an infection record (evidence ``test``), merged into episodes; its pathogen is the one whose
ICD-10 codes hold U07.1 in the pathogen table (``sars-cov-2``).

Synthetic layout (:func:`write_synthetic`): ``participant.tsv`` and ``covid19_result.tsv``.
"""

from __future__ import annotations

import re
from pathlib import Path

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
    day,
    iso,
    recorded_infections,
    repeat_tests,
    write_tables,
)
from reawaken.errors import InputError

_OLD_STYLE = re.compile(r"^(\d+)-(\d+)\.(\d+)$")
_NO_INSTANCE = {"31", "34", "190", "191"}
_ARRAY_FIELDS = {"40002"}
SEX = {"0": "female", "1": "male"}

# ----- the source (reawaken.cohort.sources.Source): this module ------------------------------
kind = "ukb"
id_column = "eid"
title = "UK Biobank (Research Analysis Platform export)"
synthetic = SyntheticDesign(
    anchor="entry",
    first="2006-03-13",
    last="2010-10-01",
    max_lag_days=15 * 365 - 1,  # diagnosis up to 15 years before the assessment visit
    loss_per_year=0.002,
)

#: Source fields and the canonical columns they fill (docs/cohort.md shows this table).
field_map: tuple[tuple[str, str], ...] = (
    ("`eid`", "`person_id`"),
    ("`p31` (0 female, 1 male; other codes are errors)", "`person.sex`"),
    ("`p34`", "`person.birth_year`"),
    ("`p53_i0` assessment date", "`follow_up.start_date`"),
    (
        "`p40005_iN`, `p40006_iN` registry date and ICD-10 code, primary cancer",
        "`cancer_diagnosis.diagnosis_date`, `.code`, `.site` (stage and receptors NULL)",
    ),
    (
        "`p40005_iN`, `p40006_iN` secondary neoplasm C77-C79 on or after `p53_i0`",
        "`outcome` `distant_metastasis`, site C78.0 lung, C78.7 liver, C79.3 brain, C79.5 bone, "
        "else other",
    ),
    (
        "same, dated before `p53_i0` (prevalent metastatic disease)",
        "`cancer_diagnosis` row, stage `IV`, site `other`, code kept",
    ),
    ("`p40011_iN`, `p40012_iN` histology, behaviour", "read, not stored"),
    (
        "`p40000_i0` death date",
        "`outcome` `death` and `follow_up.end_date` (reason `death`)",
    ),
    (
        "`p40001_i0` underlying cause: C00-D48 / U07.1, U07.2 / other",
        "`outcome.cause` `cancer` / `covid` / `other`",
    ),
    ("`p40002_i0_aN` contributory causes", "read, not stored"),
    ("`p190`, `p191` lost to follow-up", "`follow_up.end_date` (reason `lost`) at `p191`"),
    (
        "`covid19_result`: `eid, specdate` (ISO or DD/MM/YYYY), `result` (1 positive, 0 "
        "negative; other codes errors), `origin` (1 inpatient)",
        "positive tests: `infection` (sars-cov-2, evidence test, hospitalised when origin 1)",
    ),
)


def rename_old_style(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename ``40005-0.0``-style columns to the Research Analysis Platform's ``p40005_i0``."""
    mapping = {}
    for column in frame.columns:
        match = _OLD_STYLE.match(str(column))
        if not match:
            continue
        fid, instance, array = match.groups()
        if fid in _NO_INSTANCE:
            mapping[column] = f"p{fid}"
        elif fid in _ARRAY_FIELDS:
            mapping[column] = f"p{fid}_i{instance}_a{array}"
        else:
            mapping[column] = f"p{fid}_i{instance}"
    return frame.rename(columns=mapping)


def read(extract: common.Extract) -> common.SourceTables:
    """Read a UK Biobank extract folder into canonical tables (with provenance)."""
    issues, concepts = extract.issues, extract.concepts
    path = common.find_table(extract.path, "participant")
    part = rename_old_style(common.read_source_table(path))
    common.require_columns(part, ["eid", "p31", "p34", "p53_i0"], path)
    part = common.check_persons(
        part, issues, id_column="eid", year_column="p34", sex_codes=("p31", tuple(SEX))
    )
    part, start = common.parse_dates(part, "p53_i0", issues, table="follow_up", required=True)
    part, death = _optional_dates(part, "p40000_i0", issues, table="outcome")
    part, lost = _optional_dates(part, "p191", issues, table="follow_up")
    start, death, lost = start.loc[part.index], death.loc[part.index], lost.loc[part.index]
    if "p40000_i0" in part:
        births = common.birth_years(part, part["eid"], part["p34"], "p34", same_row=True)
        part, _ = common.report_death_before_birth(
            part,
            part["eid"],
            death.dt.year,
            death.dt.strftime("%Y-%m-%d"),
            births,
            issues,
            column="p40000_i0",
        )
        start, death, lost = start.loc[part.index], death.loc[part.index], lost.loc[part.index]

    sex = common.as_text(part["p31"]).map(SEX).fillna("unknown")
    person = canonical.person(part, id_column="eid", year_column="p34", sex=sex)
    registry, reg_dates = _registry(part, start, issues, concepts)
    tests = _tests(extract)

    extract_dates = [start, death, lost, reg_dates]
    if not tests.empty:
        extract_dates.append(tests["infection_date"])
    latest = pd.concat(extract_dates).max()  # NaT when the extract holds no date
    asked = extract.censor_date is not None
    cut = pd.Timestamp(extract.censor_date) if asked else latest
    # follow-up ends at the earlier of death and loss: a death after the loss is not followed
    follow_up = canonical.follow_up(
        part,
        part["eid"],
        start,
        lost,
        "lost",
        death.where(~(lost < death)),
        cut=cut,
        cut_reason="censor_date" if asked else "end_of_data",
        column="p53_i0",
    )
    # name the column that gave the end of follow-up in any error about it
    reason = follow_up["end_reason"].to_numpy()
    follow_up["_column"] = np.select(
        [reason == "death", reason == "lost"], ["p40000_i0", "p191"], "p53_i0"
    )
    tables = {
        "person": person,
        "follow_up": follow_up,
        "cancer_diagnosis": registry["cancer_diagnosis"],
        "infection": tests,
        "outcome": pd.concat(
            [registry["outcome"], _deaths(part, death, issues, concepts)], ignore_index=True
        ),
    }
    return common.source_tables(tables, cut)


def _optional_dates(
    part: pd.DataFrame, column: str, issues: Issues, *, table: str
) -> tuple[pd.DataFrame, pd.Series]:
    """Parse an optional date column (all NaT when the extract lacks it)."""
    if column in part:
        return common.parse_dates(part, column, issues, table=table)
    return part, pd.Series(pd.NaT, index=part.index)


def _deaths(
    part: pd.DataFrame, death: pd.Series, issues: Issues, concepts: str | Path | None
) -> pd.DataFrame:
    """Death outcomes, the cause from the underlying cause of death (``p40001_i0``)."""
    cause_code = (
        common.as_text(part["p40001_i0"])
        if "p40001_i0" in part
        else pd.Series(None, index=part.index, dtype=object)
    )
    deaths = part.loc[death.notna()]
    cause_code = cause_code.loc[deaths.index]
    malformed = cause_code.notna() & ~codes.well_formed(codes.normalise_code(cause_code))
    deaths = common.report(
        deaths,
        malformed,
        "unknown ICD-10 code {p40001_i0}",
        issues,
        table="outcome",
        column="p40001_i0",
    )
    cause = codes.classify_icd(cause_code.loc[deaths.index], "death_cause", extra=concepts)
    cause = cause.where(cause.notna() | cause_code.loc[deaths.index].isna(), "other")
    return canonical.death(deaths, deaths["eid"], death.loc[deaths.index], cause, "p40000_i0")


def _registry(
    part: pd.DataFrame, start: pd.Series, issues: Issues, concepts: str | Path | None
) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """Cancer registry instances -> cancer diagnoses and metastasis outcomes."""
    instances = sorted(
        int(m.group(1)) for c in part.columns if (m := re.match(r"^p40005_i(\d+)$", c))
    )
    diagnoses, outcomes, all_dates = [], [], []
    for i in instances:
        date_col, code_col = f"p40005_i{i}", f"p40006_i{i}"
        if code_col not in part:
            raise InputError(
                f"registry date column {date_col} without its code column",
                file=part["_file"].iloc[0] if len(part) else None,
                column=code_col,
            )
        rows = part.loc[part[date_col].notna() | part[code_col].notna()]
        rows, dates = common.parse_dates(
            rows, date_col, issues, table="cancer_diagnosis", required=True
        )
        code = codes.normalise_code(common.as_text(rows[code_col]))
        bad = code.isna() | ~codes.well_formed(code)
        rows = common.report(
            rows,
            bad,
            "unknown ICD-10 code {" + code_col + "}",
            issues,
            table="cancer_diagnosis",
            column=code_col,
        )
        dates, code = dates.loc[rows.index], code.loc[rows.index]
        all_dates.append(dates)
        met_site = codes.classify_icd(code, "metastasis", extra=concepts)
        primary = codes.classify_icd(code, "cancer", extra=concepts)
        before = dates < start.loc[rows.index]
        is_met = met_site.notna()
        met = rows.loc[is_met & ~before]
        dates_of = dates.loc[met.index]
        outcomes.append(
            canonical.metastasis(met, met["eid"], dates_of, met_site.loc[met.index], date_col)
        )
        dx = rows.loc[(is_met & before) | (~is_met & primary.notna())]
        prevalent = is_met.loc[dx.index]
        diagnoses.append(
            canonical.diagnosis(
                dx,
                dx["eid"],
                dates.loc[dx.index],
                primary.loc[dx.index].where(~prevalent, "other"),
                date_col,
                code=code.loc[dx.index],
                stage=np.where(prevalent, "IV", None),
            )
        )
    out = {
        "cancer_diagnosis": pd.concat(diagnoses, ignore_index=True)
        if diagnoses
        else empty("cancer_diagnosis"),
        "outcome": pd.concat(outcomes, ignore_index=True) if outcomes else empty("outcome"),
    }
    dates = pd.concat(all_dates) if all_dates else pd.Series(dtype="datetime64[ns]")
    return out, dates


def _tests(extract: common.Extract) -> pd.DataFrame:
    """Positive tests from ``covid19_result`` as infection records."""
    issues = extract.issues
    res = extract.table("covid19_result", ["eid", "specdate", "result"], required=False)
    if res is None:
        return empty("infection")
    res = common.report(
        res, res["eid"].isna(), "missing eid", issues, table="infection", column="eid"
    )
    result = common.as_text(res["result"])
    res = common.report(
        res,
        ~result.isin(["0", "1"]),
        "unknown result code {result} (expected 0 or 1)",
        issues,
        table="infection",
        column="result",
    )
    res, dates = common.parse_dates(res, "specdate", issues, table="infection", required=True)
    positive = common.as_text(res["result"]) == "1"
    res, dates = res.loc[positive], dates.loc[positive]
    origin = (
        common.as_text(res["origin"])
        if "origin" in res
        else pd.Series(None, index=res.index, dtype=object)
    )
    inpatient = (origin == "1").astype("boolean")
    pathogen = common.covid_pathogen()  # a positive test is a confirmed COVID-19 (U07.1)
    return canonical.infection(
        res, res["eid"], dates, pathogen, "test", "specdate", hospitalised=inpatient
    )


def write_synthetic(cohort: Cohort, out: Path, rng: np.random.Generator) -> SyntheticFiles:
    """``participant.tsv`` and ``covid19_result.tsv`` (positive tests of the recorded
    SARS-CoV-2 infections, a repeat for some, and negative tests)."""
    people, p = cohort.people, cohort.params
    rec = recorded_infections(cohort)
    rec = rec[rec["pathogen"] == common.covid_pathogen()]
    died = people["death"] >= 0
    relapsed = people["relapse"] >= 0
    end = people["end"].to_numpy().copy()
    eid = people["pid"] + 1000001
    part = pd.DataFrame(
        {
            "eid": eid,
            "p31": np.where(people["sex"] == "female", 0, 1),
            "p34": people["birth_year"],
            "p53_i0": iso(people["entry"]),
            "p40005_i0": iso(people["dx"]),
            "p40006_i0": "C509",
            "p40011_i0": 8500,
            "p40012_i0": 3,
            "p40005_i1": np.where(relapsed, iso(people["relapse"].clip(0)), ""),
            "p40006_i1": np.where(
                relapsed, people["site"].map(METASTASIS_ICD10).fillna("").str.replace(".", ""), ""
            ),
            "p40012_i1": np.where(relapsed, "6", ""),
            "p40000_i0": np.where(died, iso(people["death"].clip(0)), ""),
            "p40001_i0": np.where(
                died, people["cause"].map(DEATH_ICD10).fillna("").str.replace(".", ""), ""
            ),
            "p190": np.where(people["end_reason"] == "lost", "5", ""),
            "p191": np.where(people["end_reason"] == "lost", iso(people["end"]), ""),
        }
    )
    pos = pd.concat([rec, repeat_tests(rec, p, rng)], ignore_index=True)
    covid_start = day("2020-03-16")
    lo = np.maximum(people["entry"].to_numpy(), covid_start)
    can = (lo <= end) & (rng.random(len(people)) < 0.3)
    neg_day = lo[can] + np.floor(rng.random(can.sum()) * (end[can] - lo[can] + 1)).astype(np.int64)
    tests = pd.concat(
        [
            pd.DataFrame(
                {
                    "eid": pos["pid"] + 1000001,
                    "day": pos["day"],
                    "result": 1,
                    "origin": pos["hospitalised"].astype(int),
                }
            ),
            pd.DataFrame({"eid": eid[can], "day": neg_day, "result": 0, "origin": 0}),
        ]
    ).sort_values(["eid", "day"])
    results = pd.DataFrame(
        {
            "eid": tests["eid"],
            "specdate": iso(tests["day"]),
            "spectype": 7,
            "laboratory": 1,
            "origin": tests["origin"],
            "result": tests["result"],
            "acute": "",
            "hosaq": "",
            "reqorg": "",
        }
    )
    write_tables(out, {"participant": part, "covid19_result": results}, sep="\t", suffix=".tsv")
    import_options = {"censor_date": p["data_end"]["value"]}
    return SyntheticFiles(rec, end, people["cause"], import_options=import_options)
