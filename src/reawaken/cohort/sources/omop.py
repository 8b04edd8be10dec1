"""OMOP CDM v5.4 into the canonical cohort, from a folder of tables, a DuckDB database file, or
a database server where the CDM lives (PostgreSQL, Spark: :func:`read_database`).

The cohort is built by the SQL of :mod:`.omop_sql`, run by the engine that holds the tables
(:mod:`reawaken.cohort.engines`: DuckDB for a folder or a DuckDB file); only the rows the
canonical tables keep come back. Bad rows are reported here, where they are (file or table,
row, column).

Tables read (names in either case): ``person`` (``person_id``, ``gender_concept_id`` 8532
female / 8507 male / else unknown, ``year_of_birth``); ``observation_period`` (follow-up from the
earliest start to the latest end); ``death`` (``death_date`` ends follow-up; cause from
``cause_concept_id`` or an ICD-10 ``cause_source_value``: C00-D48 cancer, U07.1/U07.2 or the
COVID-19 concept covid, any other cause other, none NULL); ``condition_occurrence`` (cancer,
secondary malignancy and respiratory infection concepts, with an ICD-10
``condition_source_value`` as fallback (a value shaped as an ICD-10 code: Read codes such as
``C34..00`` are not read as ICD-10); an infection diagnosed at an inpatient visit,
``visit_concept_id`` 9201, 262, 8717 or 32037 in ``visit_occurrence``, is hospitalised);
``measurement`` (SARS-CoV-2, influenza and RSV tests; positive when ``value_as_concept_id`` is
a positive/detected concept or ``value_source_value`` says detected/positive, not negated);
``concept_ancestor`` (optional: a concept of a concept set stands for its descendants too, with
the values of its nearest ancestor in the set); ``drug_exposure`` and
``procedure_occurrence`` (vaccinations: a CVX concept per the ``concept`` table when present,
else a CVX code in the source value);
``episode`` (oncology extension, optional: ``episode_concept_id`` 32528 Disease First Occurrence
is a cancer diagnosis, its site from ``episode_object_concept_id``).

Concept sets are in :mod:`reawaken.cohort.codes` (the packaged ``concepts/omop.csv`` and
``icd10.csv`` and the pathogen table's codes); pass ``concepts=FOLDER`` holding files of the same
names (``omop.csv``, ``icd10.csv``, ``cvx.csv``) to extend them.

Synthetic layout (:func:`write_synthetic`): ``person``, ``observation_period``,
``condition_occurrence``, ``measurement``, ``drug_exposure`` and ``death`` as CSV files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.cohort import engines
from reawaken.cohort.schema import Issues
from reawaken.cohort.sources import common, omop_sql
from reawaken.cohort.sources.sql_import import Check, SqlImport, SqlTables, ordinal, quote
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

SEX = {8532: "female", 8507: "male"}
BREAST_CANCER = 4112853  # SNOMED 254837009, the concept the synthetic layout writes
LUNG_METASTASIS = 254591  # SNOMED 94391008
DETECTED = 4126681  # SNOMED 260373001
TYPE_EHR = 32817  # type concept "EHR"


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
        "diagnosis; hospitalised when the `visit_occurrence` is inpatient, 9201, 262, 8717 "
        "or 32037)",
    ),
    (
        "`measurement` test concepts of the pathogen table (SARS-CoV-2, influenza, RSV), "
        "positive by `value_as_concept_id` (Detected/Positive/Present concepts) or a "
        "`value_source_value` saying detected/positive (not negated)",
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
    (
        "`concept_ancestor` (if present): descendants of the concept sets' concepts",
        "the values of their nearest ancestor in the set (condition, measurement, death "
        "cause, episode site)",
    ),
)


#: The CDM tables read (a folder is searched for these files).
CDM_TABLES = (
    "person",
    "observation_period",
    "death",
    "visit_occurrence",
    "condition_occurrence",
    "measurement",
    "concept",
    "concept_ancestor",
    "drug_exposure",
    "procedure_occurrence",
    "episode",
)


def read(extract: common.Extract) -> SqlTables:
    """Read an OMOP CDM v5.4 extract (a folder of tables or a DuckDB file) into canonical
    tables (with provenance, in DuckDB), by the SQL of :mod:`.omop_sql` run in DuckDB."""
    cdm = engines.connect(extract.path, CDM_TABLES)
    try:
        return read_cdm(cdm, extract.issues, extract.censor_date, extract.concepts)
    finally:
        cdm.close()


def read_database(
    where: str | Path,
    issues: Issues,
    *,
    engine: str | None = None,
    schema: str | None = None,
    censor_date: pd.Timestamp | None = None,
    concepts: Path | None = None,
) -> tuple[SqlTables, str]:
    """Read an OMOP CDM where it lives into canonical tables (with provenance).

    The canonical cohort is built by SQL run in the database (:mod:`.omop_sql`); only the
    rows it keeps come back, as Arrow batches, into an in-memory DuckDB where bad rows are
    reported and the canonical tables put together. Nothing is written to the database.

    Parameters
    ----------
    where : str or pathlib.Path
        ``postgresql://user@host:port/db`` (no password: see
        :mod:`reawaken.cohort.engines`), ``sc://host:port`` (Spark Connect), ``local`` with
        ``engine="spark"``, or a folder / DuckDB file.
    issues : reawaken.cohort.schema.Issues
        Where bad rows are reported.
    engine : {"duckdb", "postgres", "spark"}, optional
        Default: from ``where``.
    schema : str, optional
        The CDM schema (PostgreSQL default ``public``, Spark default ``default``).
    censor_date : pandas.Timestamp, optional
        End follow-up at this date.
    concepts : pathlib.Path, optional
        A folder of concept files added to the packaged concept sets.

    Returns
    -------
    tables : reawaken.cohort.sources.sql_import.SqlTables
        The canonical tables with provenance, in DuckDB (``tables.con``; for
        :func:`reawaken.cohort.sources.sql_validate.finalize`; the caller closes ``con``).
    described : str
        Engine, host and schema (never a password), for the import record.

    Examples
    --------
    >>> from reawaken.cohort import generate
    >>> from reawaken.cohort.schema import Issues
    >>> truth = generate("omop", 40, 1, "cdm")
    >>> raw, described = read_database("cdm", Issues())
    >>> raw.con.sql(f"SELECT count(*) FROM {raw.tables['person']}").fetchall(), described[:6]
    ([(40,)], 'duckdb')
    >>> raw.con.close()
    """
    cdm = engines.connect(where, CDM_TABLES, engine=engine, schema=schema)
    try:
        return read_cdm(cdm, issues, censor_date, concepts), cdm.describe()
    finally:
        cdm.close()


def read_cdm(
    cdm: engines.Engine,
    issues: Issues,
    censor_date: pd.Timestamp | None = None,
    concepts: Path | None = None,
) -> SqlTables:
    """The canonical tables (with provenance, in an in-memory DuckDB) of an open CDM.

    Each query of :mod:`.omop_sql` runs in ``cdm``'s engine; its rows stream into DuckDB as
    Arrow batches, where bad rows are reported (file or table, row, column) and the canonical
    tables are put together, for :func:`reawaken.cohort.sources.sql_validate.finalize` (a
    folder's tables, loaded into DuckDB by the engine, are read there by SQL: the import
    works in the engine's connection). That DuckDB holds at most
    :data:`reawaken.cohort.engines.IMPORT_MEMORY` and spills the rest to a temporary folder
    (:func:`reawaken.cohort.engines.limit_memory`), also while the store inserts the tables
    from it.
    """
    shared = cdm.import_connection()  # one database, one memory limit, for CDM and import
    q = SqlImport(common.Extract(Path(cdm.where), issues, censor_date, concepts), shared)
    try:
        if shared is None:
            engines.limit_memory(q.con)  # spills to disk beyond the limit
        return _assemble(_Runner(cdm, q), omop_sql.Concepts(concepts), censor_date)
    except BaseException:
        q.con.close()
        raise


class _Runner:
    """Runs the queries of :mod:`.omop_sql` in a CDM's engine into an import's DuckDB."""

    def __init__(self, cdm: engines.Engine, q: SqlImport) -> None:
        self.cdm, self.q = cdm, q
        self._nonempty: set[str] | None = None
        self.labels: dict[str, str] = {}  # relation of rows read -> its table's label (SQL)

    def required(self, name: str, columns: list[str]) -> engines.Table:
        table = self.cdm.table(name)
        if table is None:
            raise self.cdm.missing_table(name)
        common.require_columns(pd.DataFrame(columns=list(table.columns)), columns, table.label)
        return table

    def optional(self, name: str, columns: list[str]) -> engines.Table | None:
        """Table ``name`` with ``columns`` checked; None when absent or empty."""
        if self._nonempty is None:
            self._nonempty = self.cdm.nonempty(CDM_TABLES)
        table = self.cdm.table(name)
        if table is None or name not in self._nonempty:
            return None
        common.require_columns(pd.DataFrame(columns=list(table.columns)), columns, table.label)
        return table

    def rows(self, stem: str, sql: str, table: engines.Table, order: tuple[str, ...] = ()) -> str:
        """Run ``sql`` (DuckDB's dialect, translated) in the engine; return a DuckDB table of
        its rows with ``_o``, their order: by ``order`` (default: their place;
        where a table gives none, person and date)."""
        if not order:
            order = ("_row",) if table.row != "NULL" else ("person_id", "event_date")
        relation = self.q.name(stem)
        with self.cdm.rows_into(self.q.con, engines.translate(sql, self.cdm.dialect)) as rows:
            names = [r[0] for r in self.q.sql(f"DESCRIBE SELECT * FROM {rows}").fetchall()]
            keys = [k for k in dict.fromkeys((*order, "_row", "person_id")) if k in names]
            self.q.sql(
                f"CREATE TABLE {relation} AS SELECT *, row_number() OVER (ORDER BY "
                f"{', '.join(f'{k} NULLS LAST' for k in keys)}) AS _o FROM {rows}"
            )
        self.labels[relation] = quote(table.label)
        return relation

    def screen(self, relation: str, checks: list[Check], rows: str | None = None) -> None:
        """Report and delete the rows of ``relation`` failing ``checks`` (in their order)."""
        self.q.screen(
            relation,
            checks,
            person="person_id",
            file=self.labels[relation],
            key="_o",
            order="_o",
            rows=rows,
        )

    def drop(self) -> None:
        """Drop the tables of the rows read (once the canonical tables are made)."""
        for relation in self.labels:
            self.q.sql(f"DROP TABLE IF EXISTS {relation}")

    def screen_dates(self, relation: str, name: str, column: str, table: str) -> None:
        """Report and delete the rows whose ``{name}_date`` is missing or not a date."""
        self.screen(relation, [_date_check(name, column, table)])


def _date_check(name: str, column: str, table: str) -> Check:
    return Check(
        bad=f"{name}_date IS NULL",
        reason=(
            f"CASE WHEN {name}_text IS NULL THEN 'missing date' "
            f"ELSE 'unparseable or impossible date ' || {name}_text END"
        ),
        column=quote(column),
        table=table,
    )


def _number(value: str) -> str:
    return f"TRY_CAST(trim(CAST({value} AS VARCHAR)) AS DOUBLE)"


def _assemble(run: _Runner, sets: omop_sql.Concepts, cut: pd.Timestamp | None) -> SqlTables:
    q, dialect = run.q, run.cdm.dialect
    ancestors = run.optional("concept_ancestor", ["ancestor_concept_id", "descendant_concept_id"])
    sets = dataclasses.replace(sets, ancestors=ancestors, dialect=dialect)
    per_t = run.required("person", ["person_id", "gender_concept_id", "year_of_birth"])
    per = run.rows("person", omop_sql.person(per_t, dialect), per_t)
    year = _number("year_of_birth")
    show_year = "coalesce(CAST(year_of_birth AS VARCHAR), 'missing')"
    run.screen(
        per,
        [
            Check("person_id IS NULL", "'missing person_id'", "'person_id'", "person"),
            Check(
                f"{year} IS NULL OR {year} <> floor({year})",
                f"'bad year_of_birth ' || {show_year}",
                "'year_of_birth'",
                "person",
            ),
        ],
    )

    obs_t = run.required(
        "observation_period",
        ["person_id", "observation_period_start_date", "observation_period_end_date"],
    )
    bad = run.rows("periods_bad", omop_sql.observation_problems(obs_t, dialect), obs_t)
    run.screen(
        bad,
        [
            _date_check("start", "observation_period_start_date", "follow_up"),
            _date_check("end", "observation_period_end_date", "follow_up"),
        ],
    )
    span = run.rows("periods", omop_sql.observation(obs_t, dialect), obs_t, ("start_date", "_row"))
    death, left_out = _deaths(run, sets, per, per_t)
    cond = _conditions(run, sets)
    tests = _events(
        run,
        "tests",
        ["person_id", "measurement_concept_id", "measurement_date"],
        "measurement",
        "measurement_date",
        "infection",
        lambda t: omop_sql.measurement(t, dialect, sets),
    )
    vocab = run.optional("concept", ["concept_id", "concept_code", "vocabulary_id"])
    drugs, procedures = (
        _events(
            run,
            stem,
            ["person_id", f"{prefix}_concept_id", date_col],
            name,
            date_col,
            "vaccination",
            lambda t, p=prefix, c=date_col: omop_sql.vaccination(t, dialect, sets, p, c, vocab),
        )
        for stem, name, prefix, date_col in (
            ("drugs", "drug_exposure", "drug", "drug_exposure_start_date"),
            ("procedures", "procedure_occurrence", "procedure", "procedure_date"),
        )
    )
    episodes = _events(
        run,
        "episodes",
        ["person_id", "episode_concept_id", "episode_start_date", "episode_object_concept_id"],
        "episode",
        "episode_start_date",
        "cancer_diagnosis",
        lambda t: omop_sql.episode(t, dialect, sets),
    )

    sex = (
        "CASE gender_concept_id "
        + " ".join(f"WHEN {k} THEN {quote(v)}" for k, v in SEX.items())
        + " ELSE 'unknown' END"
    )
    tables = {
        "person": q.canonical(
            "person",
            f"SELECT person_id, CAST({year} AS INTEGER) AS birth_year, {sex} AS sex, "
            f"{run.labels[per]} AS _file, _row, 'person_id' AS _column, _o FROM {per}",
            "_o",
        ),
        "follow_up": q.canonical("follow_up", _follow_up(span, run.labels[span], death, cut), "_o"),
    }
    parts: dict[str, list[str]] = {
        "cancer_diagnosis": [],
        "infection": [],
        "vaccination": [],
        "outcome": [],
    }
    column = "'condition_start_date'"
    if cond is not None:
        parts["outcome"].append(
            "SELECT person_id, event_date AS outcome_date, 'distant_metastasis' AS outcome_type, "
            f"metastasis AS site, NULL AS cause, {run.labels[cond]} AS _file, _row, "
            f"{column} AS _column, _o "
            f"FROM {cond} WHERE metastasis IS NOT NULL"
        )
        parts["cancer_diagnosis"].append(
            "SELECT person_id, event_date AS diagnosis_date, cancer AS site, code, "
            f"NULL AS stage, NULL AS er, NULL AS pr, NULL AS her2, {run.labels[cond]} AS _file, "
            f"_row, {column} AS "
            f"_column, _o FROM {cond} WHERE cancer IS NOT NULL AND metastasis IS NULL"
        )
        parts["infection"].append(
            "SELECT person_id, event_date AS infection_date, infection AS pathogen, "
            f"'diagnosis' AS evidence, hospitalised, {run.labels[cond]} AS _file, _row, "
            f"{column} AS _column, _o "
            f"FROM {cond} WHERE infection IS NOT NULL AND metastasis IS NULL AND cancer IS NULL"
        )
    if episodes is not None:
        parts["cancer_diagnosis"].append(
            "SELECT person_id, event_date AS diagnosis_date, site, NULL AS code, NULL AS stage, "
            f"NULL AS er, NULL AS pr, NULL AS her2, {run.labels[episodes]} AS _file, _row, "
            f"'episode_start_date' AS _column, _o FROM {episodes}"
        )
    if tests is not None:
        parts["infection"].append(
            "SELECT person_id, event_date AS infection_date, pathogen, 'test' AS evidence, "
            f"FALSE AS hospitalised, {run.labels[tests]} AS _file, _row, "
            "'measurement_date' AS _column, _o "
            f"FROM {tests}"
        )
    for relation, date_col in (
        (drugs, "drug_exposure_start_date"),
        (procedures, "procedure_date"),
    ):
        if relation is not None:
            parts["vaccination"].append(
                "SELECT person_id, event_date AS vaccination_date, vaccine, "
                f"{run.labels[relation]} AS _file, _row, "
                f"'{date_col}' AS _column, _o FROM {relation}"
            )
    if death is not None:
        parts["outcome"].append(
            "SELECT person_id, event_date AS outcome_date, 'death' AS outcome_type, NULL AS site, "
            f"cause, {run.labels[death]} AS _file, _row, 'death_date' AS _column, _o FROM {death}"
        )
    for name, selects in parts.items():
        if not selects:
            tables[name] = q.empty(name)
            continue
        union = " UNION ALL ".join(
            f"SELECT *, {k} AS _part FROM ({sql})" for k, sql in enumerate(selects)
        )
        tables[name] = q.canonical(name, union, ordinal("_part", "_o"))
    if left_out:
        q.con.register("_left_out", pd.DataFrame({"person_id": sorted(left_out)}))
        q.sql(
            f"DELETE FROM {tables['person']} WHERE person_id IN (SELECT person_id FROM _left_out)"
        )
        q.con.unregister("_left_out")
    run.drop()
    return q.result(tables, cut)


def _follow_up(span: str, label: str, death: str | None, cut: pd.Timestamp | None) -> str:
    """Follow-up from the earliest start to the first death, else the latest end; then to
    ``cut`` for everybody followed beyond it or without an end
    (:func:`reawaken.cohort.sources.canonical.follow_up`, written in SQL)."""
    deaths = (
        f"(SELECT person_id, arg_min(event_date, _o) AS death FROM {death} GROUP BY person_id)"
        if death is not None
        else "(SELECT CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS DATE) AS death)"
    )
    end = "coalesce(d.death, o.end_date)"
    reason = "CASE WHEN d.death IS NOT NULL THEN 'death' ELSE 'end_of_data' END"
    if cut is not None:
        late = f"({end} IS NULL OR {end} > DATE '{cut.date()}')"
        reason = f"CASE WHEN {late} THEN 'censor_date' ELSE {reason} END"
        end = f"CASE WHEN {late} THEN DATE '{cut.date()}' ELSE {end} END"
    return (
        f"SELECT o.person_id, o.start_date, {end} AS end_date, {reason} AS end_reason, "
        f"{label} AS _file, o._row, 'observation_period_end_date' AS _column, o._o "
        f"FROM {span} AS o LEFT JOIN {deaths} AS d ON d.person_id = o.person_id"
    )


def _events(
    run: _Runner, stem: str, columns: list[str], name: str, date_col: str, kind: str, sql
) -> str | None:
    """Rows of CDM table ``name`` kept by ``sql(table)``, their bad dates reported; None when
    the table is absent or empty."""
    table = run.optional(name, columns)
    if table is None:
        return None
    relation = run.rows(stem, sql(table), table)
    run.screen_dates(relation, "event", date_col, kind)
    return relation


def _deaths(
    run: _Runner, sets: omop_sql.Concepts, per: str, per_t: engines.Table
) -> tuple[str | None, set]:
    """Deaths (bad dates and deaths before birth reported), and the persons dead before
    birth (left out, when lenient)."""
    table = run.optional("death", ["person_id", "death_date"])
    if table is None:
        return None, set()
    q = run.q
    death = run.rows("deaths", omop_sql.death(table, run.cdm.dialect, sets), table)
    run.screen_dates(death, "event", "death_date", "outcome")
    births = (
        f"(SELECT person_id, CAST(arg_min({_number('year_of_birth')}, _o) AS BIGINT) AS year, "
        f"arg_min(_row, _o) AS born_row FROM {per} GROUP BY person_id)"
    )
    where = Path(per_t.label).name
    joined = (
        f"(SELECT d.*, b.year, b.born_row FROM {death} AS d "
        f"LEFT JOIN {births} AS b ON b.person_id = d.person_id)"
    )
    before = "year(event_date) < year"
    left_out = {
        r[0] for r in q.sql(f"SELECT DISTINCT person_id FROM {joined} WHERE {before}").fetchall()
    }
    run.screen(
        death,
        [
            Check(
                before,
                "'death date ' || strftime(event_date, '%Y-%m-%d') || ' is before birth "
                f"(year_of_birth ' || year || ' in {where.replace(chr(39), chr(39) * 2)} row ' || "
                "coalesce(CAST(born_row AS VARCHAR), 'None') || ')'",
                "'death_date'",
                "outcome",
            )
        ],
        rows=joined,
    )
    return death, left_out


def _conditions(run: _Runner, sets: omop_sql.Concepts) -> str | None:
    """Cancer diagnoses, metastases and infection diagnoses from ``condition_occurrence``."""
    columns = ["person_id", "condition_concept_id", "condition_start_date"]
    visits = run.cdm.table("visit_occurrence")
    return _events(
        run,
        "conditions",
        columns,
        "condition_occurrence",
        "condition_start_date",
        "outcome",
        lambda t: omop_sql.condition(t, run.cdm.dialect, sets, visits),
    )


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
