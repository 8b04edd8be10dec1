"""UK Biobank, as exported from its Research Analysis Platform, into the canonical cohort.

Files (``.csv``, ``.tsv`` or ``.parquet`` in one folder):

``participant``: ``eid``; ``p31`` sex (0 female, 1 male); ``p34`` year of birth; ``p53_i0`` date of
the first assessment visit; cancer registry instances ``p40005_iN`` (date), ``p40006_iN``
(ICD-10 code), ``p40013_iN`` (ICD-9 code, read when the ICD-10 code is blank), ``p40011_iN``
(histology), ``p40012_iN`` (behaviour); death ``p40000_i0`` (date),
``p40001_i0`` (underlying cause, ICD-10), ``p40002_i0_aN`` (contributory causes); ``p190``
(reason lost to follow-up), ``p191`` (date lost to follow-up). The older column style
``40005-0.0`` is accepted as well (``31-0.0`` -> ``p31``, ``40002-0.3`` -> ``p40002_i0_a3``).

``covid19_result`` (optional; or the nation files ``covid19_result_england``, ``_scotland``,
``_wales`` read together, :func:`covid_files`; ``.txt`` is tab-separated, as downloaded): ``eid,
specdate, spectype, laboratory, origin, result, acute, hosaq, reqorg``; ``result`` 1 is positive, 0
negative; ``origin`` 1 (inpatient) marks the infection as hospitalised.

Mapping: follow-up starts at ``p53_i0``; it ends at death (``p40000_i0``), at loss to follow-up
(``p191``) or at the censor date, whichever comes first. UK Biobank has no end of follow-up of its
own, so the censor date defaults to the latest date the extract holds (any registry, death, loss or
test date; of the rows kept, when lenient) and is overridden by ``censor_date``; records after it
are left out and counted. A registry entry with a primary-cancer code is a ``cancer_diagnosis``
(stage and receptors are not in these fields, so NULL). A secondary-neoplasm code (C77-C79; C78.0
lung, C78.7 liver, C79.3 brain, C79.5 bone, others ``other``) on or after the assessment date is a
``distant_metastasis`` outcome; one registered before it is prevalent disease and kept as a
``cancer_diagnosis`` row with stage ``IV`` and site ``other``. An underlying cause of death in
C00-D48 is a cancer death, U07.1/U07.2 a COVID death, anything else other. Each positive test is an
infection record (evidence ``test``), merged into episodes; its pathogen is the one whose ICD-10
codes hold U07.1 in the pathogen table (``sars-cov-2``).

Synthetic layout (:func:`write_synthetic`): ``participant.tsv`` and ``covid19_result.tsv``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.cohort.sources import common, sql_import, sql_validate
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
    (
        "`p40013_iN` registry ICD-9 code, read when `p40006_iN` is blank (entries before ICD-10)",
        "as `p40006_iN`, classified as ICD-9; `code` the ICD-9 code without dot (`1749`)",
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


def new_style(name: str) -> str:
    """A column name in the Research Analysis Platform's style: ``40005-0.0`` -> ``p40005_i0``
    (``31-0.0`` -> ``p31``, ``40002-0.3`` -> ``p40002_i0_a3``); other names unchanged."""
    match = _OLD_STYLE.match(name)
    if not match:
        return name
    fid, instance, array = match.groups()
    if fid in _NO_INSTANCE:
        return f"p{fid}"
    if fid in _ARRAY_FIELDS:
        return f"p{fid}_i{instance}_a{array}"
    return f"p{fid}_i{instance}"


def rename_old_style(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename ``40005-0.0``-style columns to the Research Analysis Platform's ``p40005_i0``."""
    return frame.rename(columns={c: new_style(str(c)) for c in frame.columns})


def read(extract: common.Extract) -> SqlTables:
    """Read a UK Biobank extract folder into canonical tables (with provenance), in DuckDB."""
    q = SqlImport(extract)
    source = q.open("participant", ["eid", "p31", "p34", "p53_i0"], rename=new_style)
    path, names = source.path, source.columns
    instances = sorted(int(m.group(1)) for c in names if (m := re.match(r"^p40005_i(\d+)$", c)))
    for c in names:
        if (m := re.match(r"^p400(?:06|13)_i(\d+)$", c)) and int(m.group(1)) not in instances:
            raise InputError(
                f"registry code column {c} without its date column",
                file=str(path),
                column=f"p40005_i{m.group(1)}",
            )
    part = _participants(q, source, instances, set(names))
    if "p40000_i0" in names:
        _death_before_birth(q, part)
    for i in instances:
        if f"p40006_i{i}" not in names and f"p40013_i{i}" not in names:
            rows = q.sql(f"SELECT count(*) FROM {part}").fetchall()[0][0]
            raise InputError(
                f"registry date column p40005_i{i} without its code column",
                file=str(path) if rows else None,
                column=f"p40006_i{i}",
            )
    registry = _registry(q, part, instances, set(names))
    infection, tests = _tests(q)
    deaths = _deaths(q, part)

    asked = extract.censor_date is not None
    cut = pd.Timestamp(extract.censor_date) if asked else _latest(q, part, registry, infection)
    tables = {
        "person": q.canonical(
            "person",
            "SELECT eid AS person_id, born AS birth_year, CASE sex_code "
            + " ".join(f"WHEN {quote(k)} THEN {quote(v)}" for k, v in SEX.items())
            + f" ELSE 'unknown' END AS sex, _file, _row, 'eid' AS _column FROM {part}",
            "_row",
            view=True,
        ),
        "follow_up": _follow_up(q, part, cut, "censor_date" if asked else "end_of_data"),
        "cancer_diagnosis": q.canonical(
            "cancer_diagnosis",
            f"SELECT eid AS person_id, d AS diagnosis_date, "
            "CASE WHEN met_site IS NULL THEN primary_site ELSE 'other' END AS site, code, "
            "CASE WHEN met_site IS NULL THEN NULL ELSE 'IV' END AS stage, NULL AS er, "
            "NULL AS pr, NULL AS her2, _file, _row, 'p40005_i' || inst AS _column, inst "
            f"FROM {registry} WHERE (met_site IS NOT NULL AND d < start) "
            "OR (met_site IS NULL AND primary_site IS NOT NULL)",
            ordinal("inst", "_row"),
            view=True,
        ),
        "infection": tests,
        "outcome": q.canonical(
            "outcome",
            "SELECT eid AS person_id, d AS outcome_date, 'distant_metastasis' AS outcome_type, "
            "met_site AS site, NULL AS cause, _file, _row, 'p40005_i' || inst AS _column, "
            f"0 AS _part, inst FROM {registry} WHERE met_site IS NOT NULL AND NOT d < start "
            "UNION ALL SELECT eid, death, 'death', NULL, cause, _file, _row, 'p40000_i0', 1, 0 "
            f"FROM {deaths}",
            ordinal("_part", "inst", "_row"),
            view=True,
        ),
    }
    if asked or pd.isna(cut):
        return q.result(tables, cut)
    if q.issues.lenient:
        # the end of data is the latest date of the rows kept (those validation keeps): the
        # rows after it are those it leaves out, reported there (not cut here)
        dropped = sql_validate.left_out(q, tables)
        kept = cut if dropped is None else _latest(q, part, registry, infection, dropped)
        if kept != cut:
            cut = kept
            tables["follow_up"] = _follow_up(q, part, cut, "end_of_data")
    raw = q.result(tables, None)  # nothing is dated after the end of data
    raw.censor_date = cut
    return raw


def _latest(
    q: SqlImport, part: str, registry: str, infection: str, dropped: tuple[str, str] | None = None
) -> pd.Timestamp:
    """The latest date the extract holds: assessment, registry, death, loss or positive test
    date (NaT if none); with ``dropped`` (:func:`~reawaken.cohort.sources.sql_validate.
    left_out`: the persons kept, the rows left out) of the rows validation keeps."""
    person = row = ""
    if dropped is not None:
        persons, rows = dropped
        person = f" AND {{eid}} IN (SELECT person_id FROM {persons})"
        row = (
            f" AND NOT EXISTS (SELECT 1 FROM {rows} l WHERE l.table_name IN ({{tables}}) "
            "AND l._file = x._file AND l._row = x._row AND l._column = {column})"
        )
    kept = person.format(eid="x.eid")
    death = row.format(tables="'outcome'", column="'p40000_i0'")
    entry = row.format(tables="'cancer_diagnosis', 'outcome'", column="'p40005_i' || x.inst")
    test = person.format(eid="x.person_id") + row.format(tables="'infection'", column="'specdate'")
    latest = q.sql(
        f"SELECT max(d) FROM (SELECT max(start) AS d FROM {part} x WHERE TRUE{kept} "
        f"UNION ALL SELECT max(death) FROM {part} x WHERE TRUE{kept}{death} "
        f"UNION ALL SELECT max(lost) FROM {part} x WHERE TRUE{kept} "
        f"UNION ALL SELECT max(d) FROM {registry} x WHERE TRUE{kept}{entry} "
        f"UNION ALL SELECT max(infection_date) FROM {infection} x WHERE TRUE{test})"
    ).fetchall()[0][0]
    return pd.Timestamp(latest)


def _participants(q: SqlImport, source: SourceFile, instances: list[int], names: set) -> str:
    """The participant rows (one relation: ids, codes, years and dates read), the rows with
    a bad id, sex code, year of birth or date reported and left out."""

    optional = {c: c in names for c in ("p40000_i0", "p191", "p40001_i0")}

    def col(name: str, *, given: bool = True) -> str:
        return ident(name) if given else "NULL::VARCHAR"

    texts = [
        f"{sql_import.as_text(ident('eid'))} AS eid",
        "p31, " + sql_import.as_text("p31") + " AS sex_code",
        "p34, " + sql_import.number("p34") + " AS born",
        f"{text('p53_i0')} AS start_text",
        f"{text(col('p40000_i0', given=optional['p40000_i0']))} AS death_text",
        f"{text(col('p191', given=optional['p191']))} AS lost_text",
        f"{col('p40001_i0', given=optional['p40001_i0'])} AS cause_raw",
        f"{text(col('p40001_i0', given=optional['p40001_i0']))} AS cause_code",
    ]
    dates = [
        f"{q.date('start_text')} AS start",
        f"{q.date('death_text')} AS death",
        f"{q.date('lost_text')} AS lost",
    ]
    for i in instances:
        date_col = ident(f"p40005_i{i}")
        code_col = col(f"p40006_i{i}", given=f"p40006_i{i}" in names)
        icd9_col = col(f"p40013_i{i}", given=f"p40013_i{i}" in names)
        # the ICD-9 code (p40013, entries before ICD-10 was used) when the ICD-10 one is blank
        nine = f"({text(code_col)} IS NULL AND {text(icd9_col)} IS NOT NULL)"
        texts += [
            f"{text(date_col)} AS reg_text_{i}",
            f"CASE WHEN {nine} THEN {icd9_col} ELSE {code_col} END AS reg_raw_{i}",
            f"{sql_import.icd_code(f'coalesce({text(code_col)}, {text(icd9_col)})')} "
            f"AS reg_code_{i}",
            f"CASE WHEN {nine} THEN 9 ELSE 10 END AS reg_version_{i}",
            f"({date_col} IS NOT NULL OR {code_col} IS NOT NULL OR {icd9_col} IS NOT NULL) "
            f"AS reg_has_{i}",
        ]
        dates.append(f"{q.date(f'reg_text_{i}')} AS reg_date_{i}")
    part = q.rows(
        source,
        lambda file: f"SELECT *, {', '.join(dates)} FROM (SELECT {', '.join(texts)} FROM {file})",
        "participant",
    )
    dated = [("start_text", "start"), ("death_text", "death"), ("lost_text", "lost")]
    q.read_dates(part, dated + [(f"reg_text_{i}", f"reg_date_{i}") for i in instances])
    checks = [
        Check("eid IS NULL", "'missing eid'", "'eid'", "person"),
        Check(
            "sex_code IS NOT NULL AND sex_code NOT IN (" + ", ".join(quote(k) for k in SEX) + ")",
            f"'unknown sex code ' || {show('p31')}",
            "'p31'",
            "person",
        ),
        Check(
            sql_import.bad_year("born"),
            f"'bad year of birth ' || {show('p34')}",
            "'p34'",
            "person",
        ),
        q.date_check("start", "start_text", "p53_i0", "follow_up", required=True),
    ]
    if optional["p40000_i0"]:
        checks.append(q.date_check("death", "death_text", "p40000_i0", "outcome", required=False))
    if optional["p191"]:
        checks.append(q.date_check("lost", "lost_text", "p191", "follow_up", required=False))
    q.screen(part, checks, person="eid")
    return part


def _death_before_birth(q: SqlImport, part: str) -> None:
    """Report and leave out participant rows whose death is in a year before their birth (the
    year of birth of the first row of the id)."""
    twice = (
        f"SELECT eid AS _id, arg_min(born, _row) AS _first FROM {part} GROUP BY eid "
        "HAVING count(*) > 1"
    )
    # only rows with a death can fail: the others are not joined
    rows = (
        f"(SELECT *, coalesce(_first, born) AS _born FROM {part} LEFT JOIN ({twice}) ON _id = eid "
        "WHERE death IS NOT NULL)"
    )
    check = Check(
        "death IS NOT NULL AND year(death) < _born",
        f"'death date ' || {show_date('death')} || ' is before birth (p34 ' "
        "|| CAST(CAST(_born AS BIGINT) AS VARCHAR) || ' in the same row)'",
        "'p40000_i0'",
        "outcome",
    )
    q.screen(part, [check], person="eid", rows=rows)


def _registry(q: SqlImport, part: str, instances: list[int], names: set) -> str:
    """Cancer registry entries (one row per participant and instance with a date or a code),
    classified (``met_site``, ``primary_site``) from the ICD-10 code, else the ICD-9 code
    (``p40013_iN``, among the column ``names``), bad dates and codes reported and left out."""
    registry = q.name("registry")
    parts = [
        f"SELECT _file, _row, eid, start, {i} AS inst, reg_text_{i} AS dtext, reg_date_{i} AS d, "
        f"reg_raw_{i} AS code_raw, reg_code_{i} AS code, reg_version_{i} AS version, "
        f"{f'p40013_i{i}' in names} AS has9, {ordinal(str(i), '_row')} AS _key "
        f"FROM {part} WHERE reg_has_{i}"
        for i in instances
    ]
    if not parts:
        parts = [
            "SELECT NULL::VARCHAR AS _file, NULL::BIGINT AS _row, NULL::VARCHAR AS eid, "
            "NULL::DATE AS start, NULL::INTEGER AS inst, NULL::VARCHAR AS dtext, NULL::DATE AS d, "
            "NULL::VARCHAR AS code_raw, NULL::VARCHAR AS code, NULL::INTEGER AS version, "
            "NULL::BOOLEAN AS has9, NULL::BIGINT AS _key LIMIT 0"
        ]
    entries = "(" + " UNION ALL ".join(parts) + ")"
    roles = ["metastasis", "cancer"]
    # whether a code is well formed, worked out once per distinct code (the lookups')
    looked = {
        v: q.classify(f"(SELECT code FROM {entries} WHERE version = {v})", "code", roles, version=v)
        for v in (10, 9)
    }
    lookups = " UNION ALL ".join(
        f"SELECT {v} AS version, code, metastasis, cancer, {sql_import.well_formed('code')} "
        f"AS _well_formed FROM {lookup}"
        for v, lookup in looked.items()
    )
    q.sql(
        f"CREATE TABLE {registry} AS SELECT r.*, c.metastasis AS met_site, "
        f"c.cancer AS primary_site, c._well_formed FROM {entries} r LEFT JOIN ({lookups}) c "
        "USING (version, code)"
    )
    checks = [
        q.date_check("d", "dtext", "", "cancer_diagnosis", required=True),
        Check(
            "code IS NULL OR NOT _well_formed",  # every code is in its lookup
            "CASE WHEN code IS NULL THEN 'missing ICD-10 code' || CASE WHEN has9 THEN "
            "' (nor ICD-9 code p40013_i' || inst || ')' ELSE '' END "
            f"ELSE 'unknown ICD-' || version || ' code ' || {show('code_raw')} END",
            "CASE version WHEN 9 THEN 'p40013_i' ELSE 'p40006_i' END || inst",
            "cancer_diagnosis",
        ),
    ]
    checks[0] = Check(checks[0].bad, checks[0].reason, "'p40005_i' || inst", checks[0].table)
    q.screen(registry, checks, person="eid", key="_key", group="inst")
    return registry


#: The COVID-19 test result files of a download: one file, or one per nation.
COVID_FILES = ("covid19_result",)
COVID_NATIONS = ("covid19_result_england", "covid19_result_scotland", "covid19_result_wales")
COVID_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")


def covid_files(folder: Path) -> list[Path]:
    """The COVID-19 test result files of ``folder``: ``covid19_result`` or the nation files
    ``covid19_result_england``, ``_scotland``, ``_wales`` (any of them; ``.csv``, ``.tsv``,
    ``.txt`` tab-separated as downloaded, or ``.parquet``), in that order.

    Raises InputError when a table has more than one file or when both the single file and
    nation files are given (the same tests would be read twice).

    Examples
    --------
    >>> folder = Path("download")
    >>> folder.mkdir()
    >>> for name in ("covid19_result_wales.txt", "covid19_result_england.txt", "x.txt"):
    ...     _ = (folder / name).write_text("eid\\tspecdate\\tresult\\n")
    >>> [p.name for p in covid_files(folder)]
    ['covid19_result_england.txt', 'covid19_result_wales.txt']
    """
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.iterdir()):
        stem = p.stem.lower()
        if p.suffix.lower() in COVID_SUFFIXES and stem in COVID_FILES + COVID_NATIONS:
            found.setdefault(stem, []).append(p)
    for stem, hits in found.items():
        if len(hits) > 1:
            raise InputError(
                f"more than one file for table {stem}: {[p.name for p in hits]}", file=folder
            )
    nations = [found[n][0] for n in COVID_NATIONS if n in found]
    if COVID_FILES[0] in found and nations:
        raise InputError(
            f"both {found[COVID_FILES[0]][0].name} and the nation files "
            f"{[p.name for p in nations]}: the same tests would be read twice; keep either",
            file=folder,
        )
    return [found[COVID_FILES[0]][0]] if COVID_FILES[0] in found else nations


def _tests(q: SqlImport) -> tuple[str, str]:
    """Positive tests from the COVID-19 result files (:func:`covid_files`) as infection
    records: (every kept test, the canonical infection table)."""
    files = covid_files(q.extract.path)
    if not files:
        empty = q.empty("infection")
        return empty, empty
    pathogen = quote(common.covid_pathogen())  # a positive test is a confirmed COVID-19 (U07.1)
    positive = []
    for k, path in enumerate(files):
        tests = _test_rows(q, q.open_file(path, ["eid", "specdate", "result"]))
        positive.append(
            f"SELECT eid AS person_id, sdate AS infection_date, {pathogen} AS pathogen, "
            "'test' AS evidence, coalesce(origin = '1', false) AS hospitalised, _file, _row, "
            f"'specdate' AS _column, {k} AS _part FROM {tests} WHERE result = '1'"
        )
    infection = q.canonical("infection", " UNION ALL ".join(positive), ordinal("_part", "_row"))
    return infection, infection


def _test_rows(q: SqlImport, loaded: SourceFile) -> str:
    """The rows of one COVID-19 result file, read and checked (bad rows reported, left out)."""
    origin = sql_import.as_text("origin") if "origin" in loaded.columns else "NULL::VARCHAR"
    tests = q.rows(
        loaded,
        lambda file: (
            f"SELECT *, {q.date('stext')} AS sdate FROM ("
            f"SELECT {sql_import.as_text('eid')} AS eid, result AS result_raw, "
            f"{sql_import.as_text('result')} AS result, {text('specdate')} AS stext, "
            f"{origin} AS origin FROM {file})"
        ),
        "tests",
    )
    q.read_dates(tests, [("stext", "sdate")])
    checks = [
        Check("eid IS NULL", "'missing eid'", "'eid'", "infection"),
        Check(
            "result IS NULL OR result NOT IN ('0', '1')",
            f"'unknown result code ' || {show('result_raw')} || ' (expected 0 or 1)'",
            "'result'",
            "infection",
        ),
        q.date_check("sdate", "stext", "specdate", "infection", required=True),
    ]
    q.screen(tests, checks, person="eid")
    return tests


def _deaths(q: SqlImport, part: str) -> str:
    """Death rows (participants with a death date), the cause classified from the underlying
    cause of death (``p40001_i0``); a malformed cause is reported and the death kept with
    cause NULL (a lenient import: the death still ends follow-up)."""
    deaths = q.name("deaths")
    dead = (
        f"(SELECT _file, _row, eid, death, cause_raw, cause_code FROM {part} "
        "WHERE death IS NOT NULL)"
    )
    lookup = q.classify(dead, "cause_code", ["death_cause"])
    # whether a code is well formed, worked out once per distinct code (the lookup's)
    known = sql_import.well_formed(sql_import.icd_code("code"))
    q.sql(
        f"CREATE TABLE {deaths} AS SELECT d.*, coalesce(c.death_cause, CASE WHEN "
        f"d.cause_code IS NOT NULL THEN 'other' END) AS cause, c._well_formed FROM {dead} d "
        f"LEFT JOIN (SELECT *, {known} AS _well_formed FROM {lookup}) c "
        "ON c.code = d.cause_code"
    )
    bad = "cause_code IS NOT NULL AND NOT _well_formed"  # every code is in the lookup
    # the death stands without its cause (lenient): a copy of the rows with a malformed cause
    # is screened (reported, and deleted there only), the cause cleared here
    kept = " (the death is kept, its cause NULL)" if q.issues.lenient else ""
    check = Check(
        bad,
        f"'unknown ICD-10 code ' || {show('cause_raw')} || {quote(kept)}",
        "'p40001_i0'",
        "outcome",
    )
    causes = q.name("causes")
    q.sql(f"CREATE TABLE {causes} AS SELECT * FROM {deaths} WHERE {bad}")
    q.screen(causes, [check], person="eid")
    q.sql(f"UPDATE {deaths} SET cause = NULL WHERE {bad}")
    return deaths


def _follow_up(q: SqlImport, part: str, cut: pd.Timestamp, cut_reason: str) -> str:
    """Follow-up per participant row: from the assessment date to death, else loss to
    follow-up, else the cut (a death after the loss is not followed); the column that gave
    the end named in any error about it."""
    cut_sql = "NULL::DATE" if pd.isna(cut) else f"DATE {quote(cut.strftime('%Y-%m-%d'))}"
    ended = (
        "SELECT *, CASE WHEN _death IS NOT NULL THEN _death ELSE lost END AS _end, "
        "CASE WHEN _death IS NOT NULL THEN 'death' ELSE 'lost' END AS _why FROM ("
        f"SELECT *, CASE WHEN lost < death THEN NULL ELSE death END AS _death FROM {part})"
    )
    late = f"(_end IS NULL OR _end > {cut_sql})"
    return q.canonical(
        "follow_up",
        f"SELECT *, CASE end_reason WHEN 'death' THEN 'p40000_i0' WHEN 'lost' THEN 'p191' "
        "ELSE 'p53_i0' END AS _column FROM ("
        f"SELECT eid AS person_id, start AS start_date, "
        f"CASE WHEN {late} THEN {cut_sql} ELSE _end END AS end_date, "
        f"CASE WHEN {late} THEN {quote(cut_reason)} ELSE _why END AS end_reason, _file, _row "
        f"FROM ({ended}))",
        "_row",
        view=True,
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
