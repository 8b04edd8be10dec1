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

from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.cohort.sources import common, sql_import
from reawaken.cohort.sources import synthetic as layout
from reawaken.cohort.sources.sql_import import (
    Check,
    SourceFile,
    SqlImport,
    SqlTables,
    ident,
    ordinal,
    quote,
    show,
    show_date,
    text,
)
from reawaken.io import duckdb_connect

SEX = {"F": "female", "M": "male", "FEMALE": "female", "MALE": "male"}
_STAGE_SQL = r"^STAGE\s+(0|IV|III|II|I)[A-C]?\d?$"
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


def _stated_period(text: str) -> str:
    """SQL of the columns ``mid`` (the imputation date: 15th of the month, 1 July of the
    year) and ``period_end`` (the period's last day) of a death date ``text`` (SQL of a text:
    ``YYYY-MM``, ``YYYY`` or ``YYYY-MM-DD``); NULL where it is none of these."""
    month = (
        f"CASE WHEN regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{2}}') "
        f"THEN CAST(try_strptime({text} || '-01', '%Y-%m-%d') AS DATE) END"
    )
    year = (
        f"CASE WHEN regexp_full_match({text}, '[0-9]{{4}}') "
        f"THEN CAST(try_strptime({text} || '-01-01', '%Y-%m-%d') AS DATE) END"
    )
    day = (
        f"CASE WHEN regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
        f"THEN CAST(try_strptime({text}, '%Y-%m-%d') AS DATE) END"
    )
    return (
        f"CAST(coalesce({month} + 14, {year} + INTERVAL 6 MONTH, {day}) AS DATE) AS mid, "
        f"CAST(coalesce(last_day({month}), {year} + INTERVAL 1 YEAR - INTERVAL 1 DAY, {day}) "
        "AS DATE) AS period_end"
    )


#: SQL: the death date imputed from ``mid`` and the patient's last activity ``_last``.
_IMPUTED = "greatest(mid, _last)"
#: SQL: true where the last activity falls after the stated period.
_AFTER_PERIOD = f"{_IMPUTED} > period_end"


def death_period(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The imputation date (15th of the month, 1 July of the year) and the last day of the
    period a death date ``YYYY-MM``, ``YYYY`` or ``YYYY-MM-DD`` states; NaT where unreadable
    (the SQL the importer runs)."""
    frame = _run_period(text, pd.Series(pd.NaT, index=text.index))
    return frame["mid"], frame["period_end"]


def impute_death_date(text: pd.Series, last_activity: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Impute death dates given as ``YYYY-MM`` or ``YYYY`` (see module docstring; the SQL the
    importer runs).

    Returns (imputed dates, problem mask): problem where the text is not such a date or the
    last activity falls after the stated period.
    """
    frame = _run_period(text, last_activity.reindex(text.index))
    bad = frame["mid"].isna() | frame["after"].fillna(False).astype(bool)
    return frame["imputed"].where(~bad), bad


def _run_period(text: pd.Series, last_activity: pd.Series) -> pd.DataFrame:
    """``mid``, ``period_end``, ``imputed`` and ``after`` of death date texts, by the SQL of
    :func:`_stated_period` (rows aligned with ``text``)."""
    con = duckdb_connect(":memory:")
    try:
        data = pd.DataFrame(
            {
                "t": text.astype(object).where(text.notna(), None).astype(str).tolist(),
                "_last": pd.to_datetime(last_activity).dt.date.astype(object).tolist(),
                "_i": range(len(text)),
            }
        )
        data.loc[text.isna().to_numpy(), "t"] = None
        con.register("_deaths", data)
        frame = con.execute(
            f"SELECT mid, period_end, {_IMPUTED} AS imputed, {_AFTER_PERIOD} AS after FROM ("
            f"SELECT *, {_stated_period('t')} FROM (SELECT {sql_import.as_text('t')} AS t, "
            "CAST(_last AS DATE) AS _last, _i FROM _deaths)) ORDER BY _i"
        ).df()
    finally:
        con.close()
    frame.index = text.index
    for column in ("mid", "period_end", "imputed"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


def read(extract: common.Extract) -> SqlTables:
    """Read a folder of Flatiron breast cancer tables into canonical tables (with provenance),
    in DuckDB."""
    q = SqlImport(extract)
    demo = _demographics(q)
    enh, enh_rows = _metastatic_breast(q)
    receptors, bio_dates = _biomarkers(q)
    diag, diag_dates = _diagnoses(q)
    visit_dates = _visits(q)
    activity = q.name("activity")
    dated = [
        f"SELECT PatientID AS person_id, dx AS d FROM {enh}",
        f"SELECT PatientID, met FROM {enh}",
        *bio_dates,
        *diag_dates,
        *visit_dates,
    ]
    q.sql(
        f"CREATE TABLE {activity} AS SELECT person_id, max(d) AS last FROM ("
        + " UNION ALL ".join(dated)
        + ") WHERE person_id IS NOT NULL AND d IS NOT NULL GROUP BY person_id"
    )
    deaths, left_out = _mortality(q, demo, activity)

    sex = " ".join(f"WHEN {quote(k)} THEN {quote(v)}" for k, v in SEX.items())
    person = q.canonical(
        "person",
        f"SELECT PatientID AS person_id, born AS birth_year, CASE upper(coalesce(gender, '')) "
        f"{sex} ELSE 'unknown' END AS sex, _file, _row, 'PatientID' AS _column FROM {demo}",
        "_row",
    )
    if left_out is not None:
        q.sql(f"DELETE FROM {person} WHERE person_id IN (SELECT PatientID FROM {left_out})")
    receptor_columns = ", ".join(f"r.{m}" for m in ("er", "pr", "her2"))
    diagnosis = q.canonical(
        "cancer_diagnosis",
        f"SELECT e.PatientID AS person_id, e.dx AS diagnosis_date, 'breast' AS site, "
        f"NULL AS code, e.stage, {receptor_columns}, e._file, e._row, "
        f"'DiagnosisDate' AS _column FROM {enh} e LEFT JOIN {receptors} r "
        "ON r.PatientID = e.PatientID",
        "_row",
    )
    coded_met = (
        f"SELECT PatientID AS person_id, d AS outcome_date, metastasis AS site, _file, _row "
        f"FROM {diag} WHERE metastasis IS NOT NULL"
    )
    outcome = q.canonical(
        "outcome",
        f"SELECT person_id, outcome_date, 'distant_metastasis' AS outcome_type, site, "
        f"NULL AS cause, _file, _row, 'DiagnosisDate' AS _column, 0 AS _part FROM ({coded_met}) "
        f"UNION ALL SELECT PatientID, met, 'distant_metastasis', NULL, NULL, _file, _row, "
        f"'MetDiagnosisDate', 1 FROM {enh} e WHERE met IS NOT NULL AND NOT EXISTS ("
        f"SELECT 1 FROM ({coded_met}) c WHERE c.person_id = e.PatientID "
        "AND c.outcome_date = e.met) "
        f"UNION ALL SELECT PatientID, imputed, 'death', NULL, NULL, _file, _row, 'DateOfDeath', 2 "
        f"FROM {deaths}",
        ordinal("_part", "_row"),
    )
    infection = q.canonical(
        "infection",
        "SELECT PatientID AS person_id, d AS infection_date, infection AS pathogen, "
        "'diagnosis' AS evidence, false AS hospitalised, _file, _row, 'DiagnosisDate' AS _column "
        f"FROM {diag} WHERE infection IS NOT NULL",
        "_row",
    )
    tables = {
        "person": person,
        "follow_up": _follow_up(q, enh_rows, activity, deaths),
        "cancer_diagnosis": diagnosis,
        "infection": infection,
        "outcome": outcome,
    }
    return q.result(tables, extract.censor_date)


def _source(q: SqlImport, source: SourceFile, columns: list[str], dates: list[str]) -> str:
    """The rows of a source table read in one pass: ``_row`` and ``_file``, ``PatientID`` as
    text, the ``columns`` given as they are, and for each of ``dates`` its text
    (``<name>_text``) and the date read from it (``<name>_date``)."""
    texts = [
        f"{sql_import.as_text('PatientID')} AS PatientID",
        *[ident(c) for c in columns],
        *[f"{text(ident(c))} AS {ident(c + '_text')}" for c in dates],
    ]
    parsed = [f"{q.date(ident(c + '_text'))} AS {ident(c + '_date')}" for c in dates]
    relation = q.rows(
        source,
        lambda file: (
            f"SELECT *{''.join(', ' + p for p in parsed)} "
            f"FROM (SELECT {', '.join(texts)} FROM {file})"
        ),
    )
    q.read_dates(relation, [(ident(c + "_text"), ident(c + "_date")) for c in dates])
    return relation


def _demographics(q: SqlImport) -> str:
    """``Demographics``: persons with an id and a whole year of birth (``born``), ``gender``."""
    source = q.open("Demographics", ["PatientID", "BirthYear", "Gender"])
    rows = _source(q, source, ["BirthYear", "Gender"], [])
    demo = q.name("demographics")
    q.sql(
        f"CREATE TABLE {demo} AS SELECT *, {sql_import.number('BirthYear')} AS born, "
        f"{sql_import.as_text('Gender')} AS gender FROM {rows}"
    )
    q.screen(
        demo,
        [
            Check("PatientID IS NULL", "'missing PatientID'", "'PatientID'", "person"),
            Check(
                sql_import.bad_year("born"),
                f"'bad year of birth ' || {show('BirthYear')}",
                "'BirthYear'",
                "person",
            ),
        ],
        person="PatientID",
    )
    return demo


def _metastatic_breast(q: SqlImport) -> tuple[str, str]:
    """``Enhanced_MetastaticBreast``: the rows kept (``dx``, ``met``, ``stage``), and the first
    row of each patient (the start of follow-up)."""
    columns = ["PatientID", "DiagnosisDate", "MetDiagnosisDate", "GroupStage"]
    source = q.open("Enhanced_MetastaticBreast", columns)
    rows = _source(q, source, ["GroupStage"], ["DiagnosisDate", "MetDiagnosisDate"])
    enh = q.name("enhanced")
    stage_text = f"trim(upper(coalesce({sql_import.as_text('GroupStage')}, '')))"
    q.sql(
        f"CREATE TABLE {enh} AS SELECT *, DiagnosisDate_date AS dx, MetDiagnosisDate_date AS met, "
        f"nullif(regexp_extract(stage_text, {quote(_STAGE_SQL)}, 1), '') AS stage FROM "
        f"(SELECT *, {stage_text} AS stage_text FROM {rows})"
    )
    unknown = ", ".join(quote(t) for t in sorted(_STAGE_UNKNOWN))
    q.screen(
        enh,
        [
            Check(
                f"stage IS NULL AND stage_text NOT IN ({unknown})",
                f"'unknown GroupStage ' || {show('GroupStage')}",
                "'GroupStage'",
                "cancer_diagnosis",
            ),
            q.date_check(
                "dx", "DiagnosisDate_text", "DiagnosisDate", "cancer_diagnosis", required=True
            ),
            q.date_check(
                "met", "MetDiagnosisDate_text", "MetDiagnosisDate", "outcome", required=False
            ),
        ],
        person="PatientID",
    )
    first = q.name("enhanced_first")
    q.sql(
        f"CREATE TABLE {first} AS SELECT * FROM {enh} "
        "QUALIFY row_number() OVER (PARTITION BY PatientID ORDER BY _row) = 1"
    )
    return enh, first


def _biomarkers(q: SqlImport) -> tuple[str, list[str]]:
    """Earliest definite ER/PR/HER2 status per patient (a relation ``PatientID, er, pr,
    her2``), and the SQL of every biomarker date (activity)."""
    receptors = q.name("receptors")
    name = "Enhanced_MetBreastBiomarkers"
    loaded = q.open(name, ["PatientID", "BiomarkerName", "BiomarkerStatus"], required=False)
    if loaded is None:
        q.sql(f"CREATE TABLE {receptors} (PatientID VARCHAR, er VARCHAR, pr VARCHAR, her2 VARCHAR)")
        return receptors, []
    path, names = loaded.path, loaded.columns
    date_col = "ResultDate" if "ResultDate" in names else "SpecimenCollectedDate"
    common.require_column_names(names, [date_col], path)
    rows = _source(q, loaded, ["BiomarkerName", "BiomarkerStatus"], [date_col])
    bio = q.name("biomarkers")
    status = f"lower(coalesce({sql_import.as_text('BiomarkerStatus')}, ''))"
    q.sql(
        f"CREATE TABLE {bio} AS SELECT *, CASE "
        "WHEN contains(status, 'positive') AND NOT contains(status, 'negative') THEN 'positive' "
        "WHEN contains(status, 'negative') AND NOT contains(status, 'positive') THEN 'negative' "
        "END AS value, regexp_matches(status, 'equivocal|unknown|pending|not |indeterminate|^$') "
        f"AS vague, trim(upper(coalesce({sql_import.as_text('BiomarkerName')}, ''))) AS marker, "
        f"{ident(date_col + '_date')} AS d FROM (SELECT *, {status} AS status FROM {rows})"
    )
    q.screen(
        bio,
        [
            q.date_check(
                "d", ident(date_col + "_text"), date_col, "cancer_diagnosis", required=False
            ),
            Check(
                "value IS NULL AND NOT vague",
                f"'unknown BiomarkerStatus ' || {show('BiomarkerStatus')}",
                "'BiomarkerStatus'",
                "cancer_diagnosis",
            ),
        ],
        person="PatientID",
    )
    first = (
        f"SELECT PatientID, marker, value FROM {bio} WHERE value IS NOT NULL QUALIFY "
        "row_number() OVER (PARTITION BY PatientID, marker ORDER BY d NULLS LAST, _row) = 1"
    )
    pivot = ", ".join(
        f"max(CASE WHEN marker = {quote(m.upper())} THEN value END) AS {m}"
        for m in ("er", "pr", "her2")
    )
    q.sql(
        f"CREATE TABLE {receptors} AS SELECT PatientID, {pivot} FROM ({first}) "
        "WHERE PatientID IS NOT NULL GROUP BY PatientID"
    )
    return receptors, [f"SELECT PatientID, d FROM {bio}"]


def _diagnoses(q: SqlImport) -> tuple[str, list[str]]:
    """The ``Diagnosis`` rows kept, with the pathogen (``infection``) and the metastasis site
    (``metastasis``) their codes give, and the SQL of their dates (activity)."""
    columns = ["PatientID", "DiagnosisDate", "DiagnosisCode", "DiagnosisCodeSystem"]
    loaded = q.open("Diagnosis", columns, required=False)
    if loaded is None:
        empty = q.name("diagnoses")
        q.sql(
            f"CREATE TABLE {empty} (PatientID VARCHAR, d DATE, infection VARCHAR, "
            "metastasis VARCHAR, _file VARCHAR, _row BIGINT)"
        )
        return empty, []
    rows = _source(q, loaded, ["DiagnosisCode", "DiagnosisCodeSystem"], ["DiagnosisDate"])
    diag = q.name("diagnoses")
    system = f"trim(upper(coalesce({sql_import.as_text('DiagnosisCodeSystem')}, '')))"
    versions = " ".join(f"WHEN {quote(k)} THEN {v}" for k, v in CODE_SYSTEMS.items())
    # the code as written (not read as an id: ICD-9-CM 197.0, lung, keeps its ``.0``)
    code = text("DiagnosisCode")
    q.sql(
        f"CREATE TABLE {diag}_all AS SELECT *, CASE {system} {versions} END AS version, "
        f"{code} AS code, {sql_import.icd_code(code)} AS normalised, "
        f"DiagnosisDate_date AS d FROM {rows}"
    )
    q.screen(
        f"{diag}_all",
        [
            Check(
                "version IS NULL",
                f"'unknown DiagnosisCodeSystem ' || {show('DiagnosisCodeSystem')}",
                "'DiagnosisCodeSystem'",
                "infection",
            ),
            Check(
                f"NOT {sql_import.well_formed('normalised')}",
                f"'unknown diagnosis code ' || {show('DiagnosisCode')}",
                "'DiagnosisCode'",
                "infection",
            ),
            q.date_check("d", "DiagnosisDate_text", "DiagnosisDate", "infection", required=True),
        ],
        person="PatientID",
    )
    roles = ["infection", "metastasis"]
    looked = {
        v: q.classify(
            f"(SELECT code FROM {diag}_all WHERE version = {v})", "code", roles, version=v
        )
        for v in sorted(set(CODE_SYSTEMS.values()))
    }
    joins = " ".join(
        f"LEFT JOIN {lookup} l{v} ON r.version = {v} AND l{v}.code = r.code"
        for v, lookup in looked.items()
    )
    values = ", ".join(
        f"coalesce({', '.join(f'l{v}.{role}' for v in looked)}) AS {role}" for role in roles
    )
    q.sql(f"CREATE TABLE {diag} AS SELECT r.*, {values} FROM {diag}_all r {joins}")
    return diag, [f"SELECT PatientID, d FROM {diag}"]


def _visits(q: SqlImport) -> list[str]:
    """The SQL of the visit dates (activity), if the extract has a ``Visit`` table."""
    loaded = q.open("Visit", ["PatientID", "VisitDate"], required=False)
    if loaded is None:
        return []
    rows = _source(q, loaded, [], ["VisitDate"])
    q.screen(
        rows,
        [q.date_check("VisitDate_date", "VisitDate_text", "VisitDate", "follow_up", required=True)],
        person="PatientID",
    )
    return [f"SELECT PatientID, VisitDate_date FROM {rows}"]


def _mortality(q: SqlImport, demo: str, activity: str) -> tuple[str, str | None]:
    """Deaths (dates imputed: ``imputed``), and the patients left out: those with a death row
    reported (not a date, before their birth, before their last activity; a relation of
    ``PatientID``; None when there is no mortality table)."""
    deaths = q.name("deaths")
    loaded = q.open("Enhanced_Mortality_V2", ["PatientID", "DateOfDeath"], required=False)
    if loaded is None:
        q.sql(
            f"CREATE TABLE {deaths} (PatientID VARCHAR, imputed DATE, _file VARCHAR, _row BIGINT)"
        )
        return deaths, None
    rows = _source(q, loaded, ["DateOfDeath"], [])
    stated = sql_import.as_text("DateOfDeath")
    q.sql(
        f"CREATE TABLE {deaths} AS SELECT *, {_stated_period('t')} "
        f"FROM (SELECT *, {stated} AS t FROM {rows}) WHERE t IS NOT NULL"
    )
    # a patient whose death row is reported (lenient: quarantined) is left out: without the
    # death, the patient would be stored as alive
    left_out = q.name("death_left_out")
    q.sql(f"CREATE TABLE {left_out} AS SELECT DISTINCT PatientID FROM {deaths} WHERE mid IS NULL")
    q.screen(
        deaths,
        [
            Check(
                "mid IS NULL",
                f"'death date ' || {show('DateOfDeath')} || ' is not a date YYYY-MM (or YYYY)'",
                "'DateOfDeath'",
                "outcome",
            )
        ],
        person="PatientID",
    )
    births = (
        "SELECT PatientID AS _id, arg_min(born, _row) AS _born, min(_row) AS _born_row, "
        f"arg_min(_file, _row) AS _born_file FROM {demo} GROUP BY PatientID"
    )
    born = f"(SELECT * FROM {deaths} LEFT JOIN ({births}) ON _id = PatientID)"
    before_birth = "year(mid) < _born"
    q.sql(f"INSERT INTO {left_out} SELECT DISTINCT PatientID FROM {born} WHERE {before_birth}")
    name = "regexp_extract(_born_file, '[^/\\\\]*$')"
    q.screen(
        deaths,
        [
            Check(
                before_birth,
                f"'death date ' || t || ' is before birth (BirthYear ' || "
                f"CAST(CAST(_born AS BIGINT) AS VARCHAR) || ' in ' || {name} || ' row ' || "
                "_born_row || ')'",
                "'DateOfDeath'",
                "outcome",
            )
        ],
        person="PatientID",
        rows=born,
    )
    seen = (
        f"(SELECT *, {_IMPUTED} AS imputed FROM (SELECT d.*, a.last AS _last FROM {deaths} d "
        f"LEFT JOIN {activity} a ON a.person_id = d.PatientID))"
    )
    q.sql(f"INSERT INTO {left_out} SELECT DISTINCT PatientID FROM {seen} WHERE {_AFTER_PERIOD}")
    q.screen(
        deaths,
        [
            Check(
                _AFTER_PERIOD,
                f"'death date ' || {show('DateOfDeath')} || ' is before last activity ' || "
                f"{show_date('_last')} || ' (a later record of the patient)'",
                "'DateOfDeath'",
                "outcome",
            )
        ],
        person="PatientID",
        rows=seen,
    )
    imputed = q.name("deaths")
    q.sql(f"CREATE TABLE {imputed} AS SELECT * FROM {seen}")
    return imputed, left_out


def _follow_up(q: SqlImport, first: str, activity: str, deaths: str) -> str:
    """Follow-up per patient (the first enhanced row of each): from the diagnosis to death,
    else to the last activity, ended at the censor date if given and earlier."""
    cut = q.extract.censor_date
    cut_sql = "NULL::DATE" if cut is None else f"DATE {quote(cut.strftime('%Y-%m-%d'))}"
    died = (
        f"SELECT PatientID AS _id, arg_min(imputed, _row) AS death FROM {deaths} GROUP BY PatientID"
    )
    ended = (
        "SELECT e.PatientID, e.dx, e._file, e._row, coalesce(x.death, a.last) AS _end, "
        "CASE WHEN x.death IS NOT NULL THEN 'death' ELSE 'last_activity' END AS _why "
        f"FROM {first} e LEFT JOIN ({died}) x ON x._id = e.PatientID "
        f"LEFT JOIN {activity} a ON a.person_id = e.PatientID"
    )
    late = "FALSE" if cut is None else f"(_end IS NULL OR _end > {cut_sql})"
    return q.canonical(
        "follow_up",
        f"SELECT PatientID AS person_id, dx AS start_date, "
        f"CASE WHEN {late} THEN {cut_sql} ELSE _end END AS end_date, "
        f"CASE WHEN {late} THEN 'censor_date' ELSE _why END AS end_reason, _file, _row, "
        f"'DiagnosisDate' AS _column FROM ({ended})",
        "_row",
    )


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
