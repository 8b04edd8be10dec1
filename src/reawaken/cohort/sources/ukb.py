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
an infection record (pathogen ``sars-cov-2``, evidence ``test``), merged into episodes.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.cohort import codes
from reawaken.cohort.schema import Issues
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

_OLD_STYLE = re.compile(r"^(\d+)-(\d+)\.(\d+)$")
_NO_INSTANCE = {"31", "34", "190", "191"}
_ARRAY_FIELDS = {"40002"}
SEX = {"0": "female", "1": "male"}


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


def read_ukb(
    folder: str | Path,
    issues: Issues,
    *,
    censor_date: pd.Timestamp | None = None,
    concepts: str | Path | None = None,
) -> SourceTables:
    """Read a UK Biobank extract folder into canonical tables (with provenance)."""
    folder = Path(folder)
    path = find_table(folder, "participant")
    part = rename_old_style(read_source_table(path))
    require_columns(part, ["eid", "p31", "p34", "p53_i0"], path)
    part["eid"] = as_text(part["eid"])
    part = report(part, part["eid"].isna(), "missing eid", issues, table="person", column="eid")
    sex = as_text(part["p31"])
    part = report(
        part,
        ~sex.isin(list(SEX)) & sex.notna(),
        "unknown sex code {p31}",
        issues,
        table="person",
        column="p31",
    )
    year = pd.to_numeric(part["p34"], errors="coerce")
    part = report(
        part,
        year.isna() | (year != np.floor(year)),
        "bad year of birth {p34}",
        issues,
        table="person",
        column="p34",
    )
    part, start = parse_dates(part, "p53_i0", issues, table="follow_up", required=True)
    part, death = (
        parse_dates(part, "p40000_i0", issues, table="outcome")
        if "p40000_i0" in part
        else (part, pd.Series(pd.NaT, index=part.index))
    )
    part, lost = (
        parse_dates(part, "p191", issues, table="follow_up")
        if "p191" in part
        else (part, pd.Series(pd.NaT, index=part.index))
    )
    start, death, lost = start.loc[part.index], death.loc[part.index], lost.loc[part.index]
    if "p40000_i0" in part:
        births = birth_years(part, part["eid"], part["p34"], "p34", same_row=True)
        part, _ = report_death_before_birth(
            part,
            part["eid"],
            death.dt.year,
            death.dt.strftime("%Y-%m-%d"),
            births,
            issues,
            column="p40000_i0",
        )
        start, death, lost = start.loc[part.index], death.loc[part.index], lost.loc[part.index]

    person = canonical(
        part,
        {
            "person_id": part["eid"],
            "birth_year": pd.to_numeric(part["p34"]).astype("Int64"),
            "sex": as_text(part["p31"]).map(SEX).fillna("unknown"),
        },
        "eid",
    )
    registry, reg_dates = _registry(part, start, issues, concepts)
    tests = _tests(folder, issues)

    extract_dates = [start, death, lost, reg_dates]
    if not tests.empty:
        extract_dates.append(tests["infection_date"])
    latest = pd.concat(extract_dates).max()  # NaT when the extract holds no date
    cut = pd.Timestamp(censor_date) if censor_date is not None else latest
    end = pd.concat([death, lost], axis=1).min(axis=1)
    reason = np.where(death.notna() & (death == end), "death", "lost")
    after = end.isna() | (end > cut)
    reason = np.where(after, "censor_date" if censor_date is not None else "end_of_data", reason)
    end = end.where(~after, cut)
    follow_up = canonical(
        part,
        {"person_id": part["eid"], "start_date": start, "end_date": end, "end_reason": reason},
        "p53_i0",
    )
    # name the column that gave the end of follow-up in any error about it
    follow_up["_column"] = np.select(
        [reason == "death", reason == "lost"], ["p40000_i0", "p191"], "p53_i0"
    )
    cause_code = (
        as_text(part["p40001_i0"])
        if "p40001_i0" in part
        else pd.Series(None, index=part.index, dtype=object)
    )
    deaths = part.loc[death.notna()]
    cause_code = cause_code.loc[deaths.index]
    malformed = cause_code.notna() & ~codes.well_formed(codes.normalise_code(cause_code))
    deaths = report(
        deaths,
        malformed,
        "unknown ICD-10 code {p40001_i0}",
        issues,
        table="outcome",
        column="p40001_i0",
    )
    cause = codes.classify_icd(cause_code.loc[deaths.index], "death_cause", extra=concepts)
    cause = cause.where(cause.notna() | cause_code.loc[deaths.index].isna(), "other")
    death_rows = canonical(
        deaths,
        {
            "person_id": deaths["eid"],
            "outcome_date": death.loc[deaths.index],
            "outcome_type": "death",
            "site": None,
            "cause": cause,
        },
        "p40000_i0",
    )
    outcome = pd.concat([registry["outcome"], death_rows], ignore_index=True)
    tables = {
        "person": person,
        "follow_up": follow_up,
        "cancer_diagnosis": registry["cancer_diagnosis"],
        "infection": tests,
        "outcome": outcome,
    }
    dropped = truncate_at(tables, cut) if pd.notna(cut) else 0
    return SourceTables(tables, censor_date=cut if pd.notna(cut) else None, n_after_censor=dropped)


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
        rows, dates = parse_dates(rows, date_col, issues, table="cancer_diagnosis", required=True)
        code = codes.normalise_code(as_text(rows[code_col]))
        bad = code.isna() | ~codes.well_formed(code)
        rows = report(
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
        outcome_rows = rows.loc[is_met & ~before]
        outcomes.append(
            canonical(
                outcome_rows,
                {
                    "person_id": outcome_rows["eid"],
                    "outcome_date": dates.loc[outcome_rows.index],
                    "outcome_type": "distant_metastasis",
                    "site": met_site.loc[outcome_rows.index],
                    "cause": None,
                },
                date_col,
            )
        )
        dx_rows = rows.loc[(is_met & before) | (~is_met & primary.notna())]
        prevalent = is_met.loc[dx_rows.index]
        diagnoses.append(
            canonical(
                dx_rows,
                {
                    "person_id": dx_rows["eid"],
                    "diagnosis_date": dates.loc[dx_rows.index],
                    "site": primary.loc[dx_rows.index].where(~prevalent, "other"),
                    "code": code.loc[dx_rows.index],
                    "stage": np.where(prevalent, "IV", None),
                    "er": None,
                    "pr": None,
                    "her2": None,
                },
                date_col,
            )
        )
    from reawaken.cohort.schema import empty

    out = {
        "cancer_diagnosis": pd.concat(diagnoses, ignore_index=True)
        if diagnoses
        else empty("cancer_diagnosis"),
        "outcome": pd.concat(outcomes, ignore_index=True) if outcomes else empty("outcome"),
    }
    dates = pd.concat(all_dates) if all_dates else pd.Series(dtype="datetime64[ns]")
    return out, dates


def _tests(folder: Path, issues: Issues) -> pd.DataFrame:
    """Positive SARS-CoV-2 tests from ``covid19_result`` as infection records."""
    from reawaken.cohort.schema import empty

    path = find_table(folder, "covid19_result", required=False)
    if path is None:
        return empty("infection")
    res = read_source_table(path)
    require_columns(res, ["eid", "specdate", "result"], path)
    res["eid"] = as_text(res["eid"])
    res = report(res, res["eid"].isna(), "missing eid", issues, table="infection", column="eid")
    result = as_text(res["result"])
    res = report(
        res,
        ~result.isin(["0", "1"]),
        "unknown result code {result} (expected 0 or 1)",
        issues,
        table="infection",
        column="result",
    )
    res, dates = parse_dates(res, "specdate", issues, table="infection", required=True)
    positive = as_text(res["result"]) == "1"
    res, dates = res.loc[positive], dates.loc[positive]
    origin = (
        as_text(res["origin"])
        if "origin" in res
        else pd.Series(None, index=res.index, dtype=object)
    )
    return canonical(
        res,
        {
            "person_id": res["eid"],
            "infection_date": dates,
            "pathogen": "sars-cov-2",
            "evidence": "test",
            "hospitalised": (origin == "1").astype("boolean"),
        },
        "specdate",
    )
