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
"""

from __future__ import annotations

import re
from pathlib import Path

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


def read_flatiron(
    folder: str | Path,
    issues: Issues,
    *,
    censor_date: pd.Timestamp | None = None,
    concepts: str | Path | None = None,
) -> SourceTables:
    """Read a folder of Flatiron breast cancer tables into canonical tables (with provenance)."""
    folder = Path(folder)
    path = find_table(folder, "Demographics")
    demo = read_source_table(path)
    require_columns(demo, ["PatientID", "BirthYear", "Gender"], path)
    demo["PatientID"] = as_text(demo["PatientID"])
    demo = report(
        demo,
        demo["PatientID"].isna(),
        "missing PatientID",
        issues,
        table="person",
        column="PatientID",
    )
    year = pd.to_numeric(demo["BirthYear"], errors="coerce")
    demo = report(
        demo,
        year.isna(),
        "bad year of birth {BirthYear}",
        issues,
        table="person",
        column="BirthYear",
    )
    births = birth_years(demo, demo["PatientID"], demo["BirthYear"], "BirthYear")
    gender = as_text(demo["Gender"]).fillna("").str.upper()
    person = canonical(
        demo,
        {
            "person_id": demo["PatientID"],
            "birth_year": pd.to_numeric(demo["BirthYear"]).astype("Int64"),
            "sex": gender.map(SEX).fillna("unknown"),
        },
        "PatientID",
    )

    path = find_table(folder, "Enhanced_MetastaticBreast")
    enh = read_source_table(path)
    require_columns(enh, ["PatientID", "DiagnosisDate", "MetDiagnosisDate", "GroupStage"], path)
    enh["PatientID"] = as_text(enh["PatientID"])
    stage_text = as_text(enh["GroupStage"]).fillna("").str.upper().str.strip()
    stage = stage_text.str.extract(_STAGE, expand=False)
    unknown = stage.isna() & ~stage_text.isin(_STAGE_UNKNOWN)
    enh = report(
        enh,
        unknown,
        "unknown GroupStage {GroupStage}",
        issues,
        table="cancer_diagnosis",
        column="GroupStage",
    )
    enh, dx = parse_dates(enh, "DiagnosisDate", issues, table="cancer_diagnosis", required=True)
    enh, met = parse_dates(enh, "MetDiagnosisDate", issues, table="outcome")
    dx = dx.loc[enh.index]
    receptors = _biomarkers(folder, issues)
    dx_rows = canonical(
        enh,
        {
            "person_id": enh["PatientID"],
            "diagnosis_date": dx,
            "site": "breast",
            "code": None,
            "stage": stage.loc[enh.index].where(stage.loc[enh.index].notna(), None),
        },
        "DiagnosisDate",
    )
    for marker in ("er", "pr", "her2"):
        dx_rows[marker] = dx_rows["person_id"].map(receptors.get(marker, {}))
        dx_rows[marker] = dx_rows[marker].where(dx_rows[marker].notna(), None)

    activity = [
        pd.DataFrame({"person_id": enh["PatientID"], "date": dx}),
        pd.DataFrame({"person_id": enh["PatientID"], "date": met}),
        receptors["_dates"],
    ]
    coded, diag_dates = _diagnoses(folder, issues, concepts)
    activity.append(diag_dates)
    visit_path = find_table(folder, "Visit", required=False)
    if visit_path is not None:
        vis = read_source_table(visit_path)
        require_columns(vis, ["PatientID", "VisitDate"], visit_path)
        vis["PatientID"] = as_text(vis["PatientID"])
        vis, vdates = parse_dates(vis, "VisitDate", issues, table="follow_up", required=True)
        activity.append(pd.DataFrame({"person_id": vis["PatientID"], "date": vdates}))
    act = pd.concat(activity, ignore_index=True).dropna()
    last_activity = act.groupby("person_id")["date"].max()

    met_rows = enh.loc[met.notna()]
    met_out = canonical(
        met_rows,
        {
            "person_id": met_rows["PatientID"],
            "outcome_date": met.loc[met_rows.index],
            "outcome_type": "distant_metastasis",
            "site": None,
            "cause": None,
        },
        "MetDiagnosisDate",
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

    deaths = empty("outcome")
    death_date = pd.Series(dtype="datetime64[ns]")
    dead_before_birth: set = set()
    mort_path = find_table(folder, "Enhanced_Mortality_V2", required=False)
    if mort_path is not None:
        mort = read_source_table(mort_path)
        require_columns(mort, ["PatientID", "DateOfDeath"], mort_path)
        mort["PatientID"] = as_text(mort["PatientID"])
        mort = mort.loc[as_text(mort["DateOfDeath"]).notna()]
        stated, _ = death_period(mort["DateOfDeath"])
        mort = report(
            mort,
            stated.isna(),
            "death date {DateOfDeath} is not a date YYYY-MM (or YYYY)",
            issues,
            table="outcome",
            column="DateOfDeath",
        )
        stated = stated.loc[mort.index]
        mort, dead_before_birth = report_death_before_birth(
            mort,
            mort["PatientID"],
            stated.dt.year,
            as_text(mort["DateOfDeath"]),
            births,
            issues,
            column="DateOfDeath",
        )
        last_seen = mort["PatientID"].map(last_activity)
        imputed, bad = impute_death_date(mort["DateOfDeath"], last_seen)
        mort = report(
            mort.assign(_last=last_seen.dt.strftime("%Y-%m-%d").to_numpy()),
            bad,
            "death date {DateOfDeath} is before last activity {_last} (a later record of the "
            "patient)",
            issues,
            table="outcome",
            column="DateOfDeath",
        ).drop(columns=["_last"])
        deaths = canonical(
            mort,
            {
                "person_id": mort["PatientID"],
                "outcome_date": imputed.loc[mort.index],
                "outcome_type": "death",
                "site": None,
                "cause": None,
            },
            "DateOfDeath",
        )
        death_date = deaths.drop_duplicates("person_id").set_index("person_id")["outcome_date"]

    start = dx_rows.drop_duplicates("person_id").set_index("person_id")["diagnosis_date"]
    ids = dx_rows["person_id"].drop_duplicates()
    end = ids.map(death_date).fillna(ids.map(last_activity))
    reason = np.where(ids.map(death_date).notna(), "death", "last_activity")
    if censor_date is not None:
        late = end > censor_date
        reason = np.where(late, "censor_date", reason)
        end = end.where(~late, censor_date)
    first_rows = enh.loc[~enh["PatientID"].duplicated()]
    follow_up = canonical(
        first_rows,
        {
            "person_id": ids.to_numpy(),
            "start_date": ids.map(start).to_numpy(),
            "end_date": end.to_numpy(),
            "end_reason": reason,
        },
        "DiagnosisDate",
    )
    if dead_before_birth:  # lenient: quarantined, and the person is left out
        person = person.loc[~person["person_id"].isin(dead_before_birth)]
    tables = {
        "person": person,
        "follow_up": follow_up,
        "cancer_diagnosis": dx_rows,
        "infection": coded["infection"],
        "outcome": pd.concat([coded_met, met_out, deaths], ignore_index=True),
    }
    dropped = truncate_at(tables, censor_date) if censor_date is not None else 0
    return SourceTables(tables, censor_date=censor_date, n_after_censor=dropped)


def _biomarkers(folder: Path, issues: Issues) -> dict:
    """Earliest definite ER/PR/HER2 status per patient, and every biomarker date (activity)."""
    out: dict = {"_dates": pd.DataFrame(columns=["person_id", "date"])}
    path = find_table(folder, "Enhanced_MetBreastBiomarkers", required=False)
    if path is None:
        return out
    bio = read_source_table(path)
    require_columns(bio, ["PatientID", "BiomarkerName", "BiomarkerStatus"], path)
    bio["PatientID"] = as_text(bio["PatientID"])
    date_col = "ResultDate" if "ResultDate" in bio else "SpecimenCollectedDate"
    require_columns(bio, [date_col], path)
    bio, dates = parse_dates(bio, date_col, issues, table="cancer_diagnosis")
    status = as_text(bio["BiomarkerStatus"]).fillna("").str.lower()
    value = pd.Series(None, index=bio.index, dtype=object)
    value[status.str.contains("positive") & ~status.str.contains("negative")] = "positive"
    value[status.str.contains("negative") & ~status.str.contains("positive")] = "negative"
    vague = status.str.contains("equivocal|unknown|pending|not |indeterminate|^$", regex=True)
    bad = value.isna() & ~vague
    keep = ~bad.to_numpy()
    report(
        bio,
        bad,
        "unknown BiomarkerStatus {BiomarkerStatus}",
        issues,
        table="cancer_diagnosis",
        column="BiomarkerStatus",
    )
    bio, dates, value = bio.loc[keep], dates.loc[keep], value.loc[keep]
    out["_dates"] = pd.DataFrame({"person_id": bio["PatientID"], "date": dates})
    name = as_text(bio["BiomarkerName"]).fillna("").str.upper().str.strip()
    frame = pd.DataFrame({"id": bio["PatientID"], "name": name, "date": dates, "value": value})
    frame = frame.dropna(subset=["value"]).sort_values(["id", "name", "date"], kind="stable")
    for marker in ("ER", "PR", "HER2"):
        first = frame[frame["name"] == marker].drop_duplicates("id", keep="first")
        out[marker.lower()] = dict(zip(first["id"], first["value"], strict=True))
    return out


def _diagnoses(folder: Path, issues: Issues, concepts: str | Path | None):
    """Infection and metastasis records from the ``Diagnosis`` table, and its dates."""
    tables = {"infection": empty("infection"), "outcome": empty("outcome")}
    dates_out = pd.DataFrame(columns=["person_id", "date"])
    path = find_table(folder, "Diagnosis", required=False)
    if path is None:
        return tables, dates_out
    diag = read_source_table(path)
    require_columns(
        diag, ["PatientID", "DiagnosisDate", "DiagnosisCode", "DiagnosisCodeSystem"], path
    )
    diag["PatientID"] = as_text(diag["PatientID"])
    system = as_text(diag["DiagnosisCodeSystem"]).fillna("").str.upper().str.strip()
    diag = report(
        diag,
        ~system.isin(list(CODE_SYSTEMS)),
        "unknown DiagnosisCodeSystem {DiagnosisCodeSystem}",
        issues,
        table="infection",
        column="DiagnosisCodeSystem",
    )
    code = codes.normalise_code(as_text(diag["DiagnosisCode"]))
    diag = report(
        diag,
        ~codes.well_formed(code),
        "unknown diagnosis code {DiagnosisCode}",
        issues,
        table="infection",
        column="DiagnosisCode",
    )
    diag, dates = parse_dates(diag, "DiagnosisDate", issues, table="infection", required=True)
    dates_out = pd.DataFrame({"person_id": diag["PatientID"], "date": dates})
    version = as_text(diag["DiagnosisCodeSystem"]).str.upper().str.strip().map(CODE_SYSTEMS)
    code = as_text(diag["DiagnosisCode"])
    pathogen = pd.Series(pd.NA, index=diag.index, dtype=object)
    site = pd.Series(pd.NA, index=diag.index, dtype=object)
    for v in (9, 10):
        sel = version == v
        pathogen[sel] = codes.classify_icd(code[sel], "infection", version=v, extra=concepts)
        site[sel] = codes.classify_icd(code[sel], "metastasis", version=v, extra=concepts)
    inf = diag.loc[pathogen.notna()]
    tables["infection"] = canonical(
        inf,
        {
            "person_id": inf["PatientID"],
            "infection_date": dates.loc[inf.index],
            "pathogen": pathogen.loc[inf.index],
            "evidence": "diagnosis",
            "hospitalised": pd.array([False] * len(inf), dtype="boolean"),
        },
        "DiagnosisDate",
    )
    met = diag.loc[site.notna()]
    tables["outcome"] = canonical(
        met,
        {
            "person_id": met["PatientID"],
            "outcome_date": dates.loc[met.index],
            "outcome_type": "distant_metastasis",
            "site": site.loc[met.index],
            "cause": None,
        },
        "DiagnosisDate",
    )
    return tables, dates_out
