"""Flatiron Health breast cancer tables into the canonical cohort.

Files (named after the tables, ``.csv``, ``.tsv`` or ``.parquet``):

``Demographics``: ``PatientID, BirthYear, Gender`` (``F``/``M``; anything else or blank: unknown).
``Enhanced_MetastaticBreast``: ``PatientID, DiagnosisDate, MetDiagnosisDate, GroupStage``.
``Enhanced_MetBreastBiomarkers`` (optional): ``PatientID, BiomarkerName`` (ER, PR, HER2; others
ignored), ``BiomarkerStatus`` (text holding ``positive`` or ``negative``; equivocal, unknown,
pending or not documented give NULL), ``ResultDate`` or ``SpecimenCollectedDate``.
``Diagnosis`` (optional): ``PatientID, DiagnosisDate, DiagnosisCode, DiagnosisCodeSystem``
(``ICD-9-CM`` or ``ICD-10-CM``).
``Enhanced_Mortality_V2`` (optional): ``PatientID, DateOfDeath`` (``YYYY-MM`` or ``YYYY``).
``Visit`` (optional): ``PatientID, VisitDate``.

Mapping: ``DiagnosisDate`` of the enhanced table is the breast cancer diagnosis
(``cancer_diagnosis``, site breast, ``GroupStage`` to 0/I/II/III/IV, receptors from the earliest
definite biomarker result) and the start of follow-up. A secondary-neoplasm code in
``Diagnosis`` (ICD-10 C77-C79 with C78.0x lung, C78.7 liver, C79.3x brain, C79.5x bone; ICD-9
196-198) is a ``distant_metastasis`` with that site; ``MetDiagnosisDate`` adds one with site NULL
unless a coded metastasis falls on the same day. Infection codes (U07.1/U07.2 SARS-CoV-2,
J09-J11 influenza, J12.1/J20.5/J21.0/B97.4 RSV, other acute respiratory infections; ICD-9 487/488,
079.6, 466.11, 480.1, 460-466, 480, 486) are infection records (evidence ``diagnosis``,
hospitalised false: the table does not say). Last activity is the latest date of any record
of the patient (visit, diagnosis, biomarker, enhanced dates).

Death dates come only to the month (or year). Imputation rule: the 15th of the month (1 July when
only the year is given), moved later to the patient's last activity if that is later but still
within the stated month (year); a last activity after the stated month is an error. Deaths have
no cause in these tables, so ``cause`` is NULL. Follow-up ends at death, else at last activity
(``last_activity``), or at ``censor_date`` if given and earlier.

Synthetic layout (:func:`write_synthetic`): the six tables above, infections and metastases as
ICD-10-CM codes in ``Diagnosis``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.cohort import codes
from reawaken.cohort.schema import Issues, empty
from reawaken.cohort.sources import canonical, common
from reawaken.cohort.sources import synthetic as layout

SEX = {"F": "female", "M": "male", "FEMALE": "female", "MALE": "male"}
_STAGE = re.compile(r"^STAGE\s+(0|IV|III|II|I)[A-C]?\d?$")
_STAGE_UNKNOWN = {
    "",
    "UNKNOWN",
    "NOT DOCUMENTED",
    "UNKNOWN/NOT DOCUMENTED",
    "GROUP STAGE IS NOT REPORTED",
}
CODE_SYSTEMS = {"ICD-9-CM": 9, "ICD-10-CM": 10}
#: ICD-10-CM codes the synthetic layout writes for the site of a distant metastasis.
METASTASIS_ICD10CM = {
    "lung": "C78.01",
    "bone": "C79.51",
    "liver": "C78.7",
    "brain": "C79.31",
    "other": "C79.89",
}

# ----- the source (reawaken.cohort.sources.Source): this module ------------------------------
kind = "flatiron"
id_column = "PatientID"
title = "Flatiron Health (breast cancer)"
synthetic = layout.SyntheticDesign(
    anchor="diagnosis",
    first="2011-01-01",
    last="2021-12-31",
    max_lag_days=0,
    loss_per_year=0.05,
)

#: Source fields and the canonical columns they fill (docs/cohort.md shows this table).
field_map: tuple[tuple[str, str], ...] = (
    ("`Demographics.PatientID`, `BirthYear`, `Gender` (F/M, else unknown)", "`person`"),
    (
        "`Enhanced_MetastaticBreast.DiagnosisDate`",
        "`cancer_diagnosis` (site breast) and `follow_up.start_date`",
    ),
    (
        '`Enhanced_MetastaticBreast.GroupStage` ("Stage IIA" -> `II`; "Unknown/not documented" '
        "-> NULL; anything else is an error)",
        "`cancer_diagnosis.stage`",
    ),
    (
        "`Enhanced_MetastaticBreast.MetDiagnosisDate`",
        "`outcome` `distant_metastasis` with site NULL, unless a coded metastasis falls on the "
        "same day",
    ),
    (
        "`Enhanced_MetBreastBiomarkers.BiomarkerName` ER/PR/HER2, `BiomarkerStatus`, "
        "`ResultDate` (or `SpecimenCollectedDate`)",
        "`cancer_diagnosis.er/pr/her2`: the earliest result that says positive or negative "
        "(equivocal, unknown, pending, not documented skipped)",
    ),
    (
        "`Diagnosis.DiagnosisCode`, `DiagnosisCodeSystem` (ICD-9-CM, ICD-10-CM), "
        "`DiagnosisDate`: infection codes",
        "`infection` (evidence diagnosis, hospitalised false)",
    ),
    (
        "same, secondary neoplasm codes (C78.0x lung, C78.7 liver, C79.3x brain, C79.5x bone, "
        "other C77-C79; ICD-9 197.0, 197.7, 198.3, 198.5, 196-198)",
        "`outcome` `distant_metastasis` with site",
    ),
    (
        "`Enhanced_Mortality_V2.DateOfDeath`",
        "`outcome` `death` (cause NULL: not in these tables) and `follow_up.end_date`",
    ),
    (
        "`Visit.VisitDate` (and every other dated record)",
        "last activity: `follow_up.end_date` when alive (reason `last_activity`)",
    ),
)


def death_period(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The imputation date (15th of the month, 1 July of the year) and the last day of the
    period a death date ``YYYY-MM``, ``YYYY`` or ``YYYY-MM-DD`` states; NaT where unreadable."""
    text = text.astype("string").str.strip()
    month = pd.to_datetime(
        text.where(text.str.fullmatch(r"\d{4}-\d{2}")), format="%Y-%m", errors="coerce"
    )
    year = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}")), format="%Y", errors="coerce")
    day = pd.to_datetime(
        text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")), format="%Y-%m-%d", errors="coerce"
    )
    mid = month + pd.Timedelta(days=14)
    mid = mid.fillna(year + pd.DateOffset(months=6)).fillna(day)
    last = (month + pd.offsets.MonthEnd(0)).fillna(year + pd.offsets.YearEnd(0)).fillna(day)
    return mid, last


def impute_death_date(text: pd.Series, last_activity: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Impute death dates given as ``YYYY-MM`` or ``YYYY`` (see module docstring).

    Returns (imputed dates, problem mask): problem where the text is not such a date or the
    last activity falls after the stated period.
    """
    mid, last = death_period(text)
    imputed = pd.concat([mid, last_activity.reindex(mid.index)], axis=1).max(axis=1)
    bad = mid.isna() | (imputed > last)
    return imputed.where(~bad), bad


def read(extract: common.Extract) -> common.SourceTables:
    """Read a folder of Flatiron breast cancer tables into canonical tables (with provenance)."""
    issues = extract.issues
    demo = extract.table("Demographics", ["PatientID", "BirthYear", "Gender"])
    demo = common.check_persons(demo, issues, id_column="PatientID", year_column="BirthYear")
    births = common.birth_years(demo, demo["PatientID"], demo["BirthYear"], "BirthYear")
    sex = common.as_text(demo["Gender"]).fillna("").str.upper().map(SEX).fillna("unknown")
    person = canonical.person(demo, id_column="PatientID", year_column="BirthYear", sex=sex)

    enh, dx, met, stage = _metastatic_breast(extract)
    receptors = _biomarkers(extract)
    dx_rows = canonical.diagnosis(enh, enh["PatientID"], dx, "breast", "DiagnosisDate", stage=stage)
    for marker in ("er", "pr", "her2"):
        dx_rows[marker] = dx_rows["person_id"].map(receptors.get(marker, {}))
        dx_rows[marker] = dx_rows[marker].where(dx_rows[marker].notna(), None)

    coded, diag_dates = _diagnoses(extract)
    activity = [
        pd.DataFrame({"person_id": enh["PatientID"], "date": dx}),
        pd.DataFrame({"person_id": enh["PatientID"], "date": met}),
        receptors["_dates"],
        diag_dates,
        *_visits(extract),
    ]
    last_activity = pd.concat(activity, ignore_index=True).dropna().groupby("person_id")["date"]
    last_activity = last_activity.max()

    met_rows = enh.loc[met.notna()]
    met_out = canonical.metastasis(
        met_rows, met_rows["PatientID"], met.loc[met_rows.index], None, "MetDiagnosisDate"
    )
    coded_met = coded["outcome"]
    same_day = (
        met_out.merge(
            coded_met[["person_id", "outcome_date"]].drop_duplicates(), how="left", indicator=True
        )["_merge"]
        .eq("both")
        .to_numpy()
    )
    met_out = met_out.loc[~same_day]
    deaths, death_date, dead_before_birth = _mortality(extract, births, last_activity)

    start = dx_rows.drop_duplicates("person_id").set_index("person_id")["diagnosis_date"]
    ids = dx_rows["person_id"].drop_duplicates()
    follow_up = canonical.follow_up(
        enh.loc[~enh["PatientID"].duplicated()],
        ids,
        ids.map(start),
        ids.map(last_activity),
        "last_activity",
        ids.map(death_date),
        cut=extract.censor_date,
        cut_reason="censor_date",
        column="DiagnosisDate",
    )
    tables = {
        "person": person,
        "follow_up": follow_up,
        "cancer_diagnosis": dx_rows,
        "infection": coded["infection"],
        "outcome": pd.concat([coded_met, met_out, deaths], ignore_index=True),
    }
    return common.source_tables(tables, extract.censor_date, left_out=dead_before_birth)


def _coded_and_dated(
    frame: pd.DataFrame,
    bad: pd.Series,
    message: str,
    column: str,
    table: str,
    issues: Issues,
) -> tuple[pd.DataFrame, pd.Series]:
    """Rows of a diagnosis table with a code the layout does not know reported (``bad``, on
    ``column``), then their ``DiagnosisDate`` read (required)."""
    frame = common.report(frame, bad, message, issues, table=table, column=column)
    return common.parse_dates(frame, "DiagnosisDate", issues, table=table, required=True)


def _metastatic_breast(
    extract: common.Extract,
) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """``Enhanced_MetastaticBreast``: the rows kept, diagnosis and metastasis dates, stage."""
    issues = extract.issues
    columns = ["PatientID", "DiagnosisDate", "MetDiagnosisDate", "GroupStage"]
    enh = extract.table("Enhanced_MetastaticBreast", columns)
    stage_text = common.as_text(enh["GroupStage"]).fillna("").str.upper().str.strip()
    stage = stage_text.str.extract(_STAGE, expand=False)
    unknown = stage.isna() & ~stage_text.isin(_STAGE_UNKNOWN)
    enh, dx = _coded_and_dated(
        enh, unknown, "unknown GroupStage {GroupStage}", "GroupStage", "cancer_diagnosis", issues
    )
    enh, met = common.parse_dates(enh, "MetDiagnosisDate", issues, table="outcome")
    stage = stage.loc[enh.index]
    return enh, dx.loc[enh.index], met, stage.where(stage.notna(), None)


def _visits(extract: common.Extract) -> list[pd.DataFrame]:
    """Visit dates (activity), if the extract has a ``Visit`` table."""
    vis = extract.table("Visit", ["PatientID", "VisitDate"], required=False)
    if vis is None:
        return []
    vis, dates = common.parse_dates(
        vis, "VisitDate", extract.issues, table="follow_up", required=True
    )
    return [pd.DataFrame({"person_id": vis["PatientID"], "date": dates})]


def _mortality(
    extract: common.Extract, births: pd.DataFrame, last_activity: pd.Series
) -> tuple[pd.DataFrame, pd.Series, set]:
    """Deaths (dates imputed), the death date per person, persons dead before birth."""
    issues = extract.issues
    mort = extract.table("Enhanced_Mortality_V2", ["PatientID", "DateOfDeath"], required=False)
    if mort is None:
        return empty("outcome"), pd.Series(dtype="datetime64[ns]"), set()
    mort = mort.loc[common.as_text(mort["DateOfDeath"]).notna()]
    stated, _ = death_period(mort["DateOfDeath"])
    mort = common.report(
        mort,
        stated.isna(),
        "death date {DateOfDeath} is not a date YYYY-MM (or YYYY)",
        issues,
        table="outcome",
        column="DateOfDeath",
    )
    stated = stated.loc[mort.index]
    mort, dead_before_birth = common.report_death_before_birth(
        mort,
        mort["PatientID"],
        stated.dt.year,
        common.as_text(mort["DateOfDeath"]),
        births,
        issues,
        column="DateOfDeath",
    )
    last_seen = mort["PatientID"].map(last_activity)
    imputed, bad = impute_death_date(mort["DateOfDeath"], last_seen)
    mort = common.report(
        mort.assign(_last=last_seen.dt.strftime("%Y-%m-%d").to_numpy()),
        bad,
        "death date {DateOfDeath} is before last activity {_last} (a later record of the patient)",
        issues,
        table="outcome",
        column="DateOfDeath",
    ).drop(columns=["_last"])
    deaths = canonical.death(mort, mort["PatientID"], imputed.loc[mort.index], None, "DateOfDeath")
    return deaths, canonical.death_dates(deaths), dead_before_birth


def _biomarkers(extract: common.Extract) -> dict:
    """Earliest definite ER/PR/HER2 status per patient, and every biomarker date (activity)."""
    issues = extract.issues
    out: dict = {"_dates": pd.DataFrame(columns=["person_id", "date"])}
    name = "Enhanced_MetBreastBiomarkers"
    columns = ["PatientID", "BiomarkerName", "BiomarkerStatus"]
    bio = extract.table(name, columns, required=False)
    if bio is None:
        return out
    date_col = "ResultDate" if "ResultDate" in bio else "SpecimenCollectedDate"
    common.require_columns(bio, [date_col], common.find_table(extract.path, name))
    bio, dates = common.parse_dates(bio, date_col, issues, table="cancer_diagnosis")
    status = common.as_text(bio["BiomarkerStatus"]).fillna("").str.lower()
    value = pd.Series(None, index=bio.index, dtype=object)
    value[status.str.contains("positive") & ~status.str.contains("negative")] = "positive"
    value[status.str.contains("negative") & ~status.str.contains("positive")] = "negative"
    vague = status.str.contains("equivocal|unknown|pending|not |indeterminate|^$", regex=True)
    bad = value.isna() & ~vague
    keep = ~bad.to_numpy()
    common.report(
        bio,
        bad,
        "unknown BiomarkerStatus {BiomarkerStatus}",
        issues,
        table="cancer_diagnosis",
        column="BiomarkerStatus",
    )
    bio, dates, value = bio.loc[keep], dates.loc[keep], value.loc[keep]
    out["_dates"] = pd.DataFrame({"person_id": bio["PatientID"], "date": dates})
    name = common.as_text(bio["BiomarkerName"]).fillna("").str.upper().str.strip()
    frame = pd.DataFrame({"id": bio["PatientID"], "name": name, "date": dates, "value": value})
    frame = frame.dropna(subset=["value"]).sort_values(["id", "name", "date"], kind="stable")
    for marker in ("ER", "PR", "HER2"):
        first = frame[frame["name"] == marker].drop_duplicates("id", keep="first")
        out[marker.lower()] = dict(zip(first["id"], first["value"], strict=True))
    return out


def _diagnoses(extract: common.Extract) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Infection and metastasis records from the ``Diagnosis`` table, and its dates."""
    issues, concepts = extract.issues, extract.concepts
    tables = {"infection": empty("infection"), "outcome": empty("outcome")}
    dates_out = pd.DataFrame(columns=["person_id", "date"])
    columns = ["PatientID", "DiagnosisDate", "DiagnosisCode", "DiagnosisCodeSystem"]
    diag = extract.table("Diagnosis", columns, required=False)
    if diag is None:
        return tables, dates_out
    system = common.as_text(diag["DiagnosisCodeSystem"]).fillna("").str.upper().str.strip()
    diag = common.report(
        diag,
        ~system.isin(list(CODE_SYSTEMS)),
        "unknown DiagnosisCodeSystem {DiagnosisCodeSystem}",
        issues,
        table="infection",
        column="DiagnosisCodeSystem",
    )
    code = codes.normalise_code(common.as_text(diag["DiagnosisCode"]))
    diag, dates = _coded_and_dated(
        diag,
        ~codes.well_formed(code),
        "unknown diagnosis code {DiagnosisCode}",
        "DiagnosisCode",
        "infection",
        issues,
    )
    dates_out = pd.DataFrame({"person_id": diag["PatientID"], "date": dates})
    version = common.as_text(diag["DiagnosisCodeSystem"]).str.upper().str.strip().map(CODE_SYSTEMS)
    code = common.as_text(diag["DiagnosisCode"])
    pathogen = pd.Series(pd.NA, index=diag.index, dtype=object)
    site = pd.Series(pd.NA, index=diag.index, dtype=object)
    for v in (9, 10):
        sel = version == v
        pathogen[sel] = codes.classify_icd(code[sel], "infection", version=v, extra=concepts)
        site[sel] = codes.classify_icd(code[sel], "metastasis", version=v, extra=concepts)
    inf = diag.loc[pathogen.notna()]
    tables["infection"] = canonical.infection(
        inf,
        inf["PatientID"],
        dates.loc[inf.index],
        pathogen.loc[inf.index],
        "diagnosis",
        "DiagnosisDate",
    )
    met = diag.loc[site.notna()]
    tables["outcome"] = canonical.metastasis(
        met, met["PatientID"], dates.loc[met.index], site.loc[met.index], "DiagnosisDate"
    )
    return tables, dates_out


def _death_month_imputed(people: pd.DataFrame) -> np.ndarray:
    """The documented imputation applied to the true death day (last activity = death)."""
    death = (layout.EPOCH + people["death"].to_numpy().astype("timedelta64[D]")).astype(
        "datetime64[M]"
    )
    mid = ((death.astype("datetime64[D]") + 14) - layout.EPOCH).astype(np.int64)
    return np.maximum(mid, people["death"].to_numpy())


def write_synthetic(
    cohort: layout.Cohort, out: Path, rng: np.random.Generator
) -> layout.SyntheticFiles:
    """The six tables, recorded infections and metastases as ICD-10-CM diagnoses, deaths to
    the month (``rng`` is not used: the layout draws nothing)."""
    people = cohort.people
    rec = layout.recorded_infections(cohort)
    died = people["death"] >= 0
    relapsed = people["relapse"] >= 0
    end = people["end"].to_numpy().copy()
    ids = "F" + people["pid"].astype(str).str.zfill(7)
    id_of = dict(zip(people["pid"], ids, strict=True))
    tables: dict[str, pd.DataFrame] = {}
    tables["Demographics"] = pd.DataFrame(
        {
            "PatientID": ids,
            "BirthYear": people["birth_year"],
            "Gender": np.where(people["sex"] == "female", "F", "M"),
        }
    )
    tables["Enhanced_MetastaticBreast"] = pd.DataFrame(
        {
            "PatientID": ids,
            "DiagnosisDate": layout.iso(people["dx"]),
            "MetDiagnosisDate": np.where(relapsed, layout.iso(people["relapse"].clip(0)), ""),
            "GroupStage": "Stage " + people["stage"],
        }
    )
    bio = [
        pd.DataFrame(
            {
                "PatientID": ids,
                "BiomarkerName": marker.upper(),
                "BiomarkerStatus": people[marker].str.capitalize(),
                "ResultDate": layout.iso(people["dx"]),
            }
        )
        for marker in ("er", "pr", "her2")
    ]
    tables["Enhanced_MetBreastBiomarkers"] = pd.concat(bio).sort_values("PatientID", kind="stable")
    rel = people[relapsed]
    diag = pd.concat(
        [
            pd.DataFrame(
                {
                    "PatientID": rec["pid"].map(id_of),
                    "DiagnosisDate": layout.iso(rec["day"]),
                    "DiagnosisCode": rec["pathogen"].map(layout.layout_codes("icd10")),
                }
            ),
            pd.DataFrame(
                {
                    "PatientID": rel["pid"].map(id_of),
                    "DiagnosisDate": layout.iso(rel["relapse"]),
                    "DiagnosisCode": rel["site"].map(METASTASIS_ICD10CM),
                }
            ),
        ]
    )
    diag["DiagnosisCodeSystem"] = "ICD-10-CM"
    tables["Diagnosis"] = diag.sort_values(["PatientID", "DiagnosisDate"])
    dead = people[died]
    death_text = (
        (layout.EPOCH + dead["death"].to_numpy().astype("timedelta64[D]"))
        .astype("datetime64[M]")
        .astype(str)
    )
    tables["Enhanced_Mortality_V2"] = pd.DataFrame(
        {"PatientID": dead["pid"].map(id_of), "DateOfDeath": death_text}
    )
    visits = [
        pd.DataFrame(
            {"PatientID": ids, "VisitDate": layout.iso(people[col]), "VisitType": "Office"}
        )
        for col in ("dx", "end")
    ]
    tables["Visit"] = pd.concat(visits).drop_duplicates().sort_values(["PatientID", "VisitDate"])
    layout.write_tables(out, tables)
    end[died.to_numpy()] = _death_month_imputed(dead)
    return layout.SyntheticFiles(rec, end, pd.Series(None, index=people.index, dtype=object))
