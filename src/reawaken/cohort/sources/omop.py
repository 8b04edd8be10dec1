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

import numpy as np
import pandas as pd

from reawaken.cohort import engines
from reawaken.cohort.schema import Issues, empty
from reawaken.cohort.sources import canonical, common, omop_sql
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


#: The CDM tables read (a folder is searched for these files).
CDM_TABLES = (
    "person",
    "observation_period",
    "death",
    "visit_occurrence",
    "condition_occurrence",
    "measurement",
    "concept",
    "drug_exposure",
    "procedure_occurrence",
    "episode",
)


def read(extract: common.Extract) -> common.SourceTables:
    """Read an OMOP CDM v5.4 extract (a folder of tables or a DuckDB file) into canonical
    tables (with provenance), by the SQL of :mod:`.omop_sql` run in DuckDB."""
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
) -> tuple[common.SourceTables, str]:
    """Read an OMOP CDM where it lives into canonical tables (with provenance).

    The canonical cohort is built by SQL run in the database (:mod:`.omop_sql`); only the
    rows it keeps come back, as Arrow batches. Nothing is written to the database.

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
    tables : reawaken.cohort.sources.common.SourceTables
        The canonical tables with provenance (for :func:`reawaken.cohort.schema.finalize`).
    described : str
        Engine, host and schema (never a password), for the import record.

    Examples
    --------
    >>> from reawaken.cohort import generate
    >>> from reawaken.cohort.schema import Issues
    >>> truth = generate("omop", 40, 1, "cdm")
    >>> raw, described = read_database("cdm", Issues())
    >>> len(raw.tables["person"]), described.split()[0]
    (40, 'duckdb')
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
) -> common.SourceTables:
    """The canonical tables (with provenance) of an open CDM."""
    sets = omop_sql.Concepts(concepts)
    run = _Runner(cdm)
    per_t = run.required("person", ["person_id", "gender_concept_id", "year_of_birth"])
    per = run.rows(omop_sql.person(per_t, cdm.dialect), per_t)
    per = common.check_persons(
        per, issues, id_column="person_id", year_column="year_of_birth", year_label="year_of_birth"
    )
    births = common.birth_years(per, per["person_id"], per["year_of_birth"], "year_of_birth")
    sex = per["gender_concept_id"].map(SEX).astype(object).where(lambda s: s.notna(), "unknown")
    person = canonical.person(per, id_column="person_id", year_column="year_of_birth", sex=sex)

    obs_t = run.required(
        "observation_period",
        ["person_id", "observation_period_start_date", "observation_period_end_date"],
    )
    bad = run.rows(omop_sql.observation_problems(obs_t, cdm.dialect), obs_t)
    bad = _report_dates(bad, "start", "observation_period_start_date", issues, "follow_up")
    _report_dates(bad, "end", "observation_period_end_date", issues, "follow_up")
    span = run.rows(omop_sql.observation(obs_t, cdm.dialect), obs_t, ("start_date", "_row"))
    deaths, dead_before_birth = _deaths(run, issues, births, sets)
    ids = span["person_id"]
    follow_up = canonical.follow_up(
        span,
        ids,
        span["start_date"],
        span["end_date"],
        "end_of_data",
        ids.map(canonical.death_dates(deaths)),
        cut=censor_date,
        cut_reason="censor_date",
        column="observation_period_end_date",
    )

    cond = _conditions(run, issues, sets)
    tests = _measurements(run, issues, sets)
    vacc = _vaccinations(run, issues, sets)
    episodes = _episodes(run, issues, sets)
    tables = {
        "person": person,
        "follow_up": follow_up,
        "cancer_diagnosis": pd.concat([cond["cancer_diagnosis"], episodes], ignore_index=True),
        "infection": pd.concat([cond["infection"], tests], ignore_index=True),
        "vaccination": vacc,
        "outcome": pd.concat([cond["outcome"], deaths], ignore_index=True),
    }
    return common.source_tables(tables, censor_date, left_out=dead_before_birth)


class _Runner:
    """Runs the queries of :mod:`.omop_sql` on one CDM; finds and checks its tables."""

    def __init__(self, cdm: engines.Engine) -> None:
        self.cdm = cdm
        self._nonempty: set[str] | None = None

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

    def rows(self, sql: str, table: engines.Table, order: tuple[str, ...] = ()) -> pd.DataFrame:
        """The rows of ``sql`` (DuckDB's dialect, translated) with their provenance, sorted by
        ``order`` (default: their place; where a table gives none, person and date)."""
        frame = self.cdm.frame(engines.translate(sql, self.cdm.dialect))
        if not order:
            order = ("_row",) if table.row != "NULL" else ("person_id", "event_date")
        keys = [k for k in order if k in frame]
        if keys and len(frame) > 1:
            frame = frame.sort_values(keys, kind="stable", na_position="last", ignore_index=True)
        # one label per table: a categorical holds it once, not once per row
        codes = np.zeros(len(frame), dtype=np.int8)
        frame["_file"] = pd.Categorical.from_codes(codes, categories=[table.label])
        return frame


def _report_dates(
    frame: pd.DataFrame, name: str, column: str, issues: Issues, table: str
) -> pd.DataFrame:
    """Report the rows whose ``{name}_date`` is missing or not a date (the text stored is in
    ``{name}_text``); return the others, without that text."""
    bad = frame[f"{name}_date"].isna().to_numpy()
    kept = frame.drop(columns=[f"{name}_text"])
    if not bad.any():
        return kept
    shown = frame.loc[bad]
    text = shown[f"{name}_text"]
    problem = np.where(
        text.isna().to_numpy(), "missing date", "unparseable or impossible date " + text.fillna("")
    )
    shown = shown.assign(_column=column, _problem=problem)
    issues.report_mask(shown, np.ones(len(shown), dtype=bool), "{_problem}", table=table)
    return kept.loc[~bad]


def _events(run: _Runner, sql: str, table: engines.Table, issues: Issues, column: str, kind: str):
    frame = run.rows(sql, table).rename(columns={"date_text": "event_text"})
    return _report_dates(frame, "event", column, issues, kind)


def _deaths(
    run: _Runner, issues: Issues, births: pd.DataFrame, sets: omop_sql.Concepts
) -> tuple[pd.DataFrame, set]:
    """Deaths, and the persons dead before birth."""
    table = run.optional("death", ["person_id", "death_date"])
    if table is None:
        return empty("outcome"), set()
    death = _events(
        run, omop_sql.death(table, run.cdm.dialect, sets), table, issues, "death_date", "outcome"
    )
    dates = death["event_date"]
    death, dead_before_birth = common.report_death_before_birth(
        death,
        death["person_id"],
        dates.dt.year,
        dates.dt.strftime("%Y-%m-%d"),
        births,
        issues,
        column="death_date",
    )
    deaths = canonical.death(
        death, death["person_id"], death["event_date"], death["cause"], "death_date"
    )
    return deaths, dead_before_birth


def _conditions(run: _Runner, issues: Issues, sets: omop_sql.Concepts) -> dict[str, pd.DataFrame]:
    """Cancer diagnoses, metastases and infection diagnoses from ``condition_occurrence``."""
    date_col = "condition_start_date"
    out = {
        "cancer_diagnosis": empty("cancer_diagnosis"),
        "infection": empty("infection"),
        "outcome": empty("outcome"),
    }
    table = run.optional("condition_occurrence", ["person_id", "condition_concept_id", date_col])
    if table is None:
        return out
    visits = run.cdm.table("visit_occurrence")
    sql = omop_sql.condition(table, run.cdm.dialect, sets, visits)
    cond = _events(run, sql, table, issues, date_col, "outcome")
    met = cond.loc[cond["metastasis"].notna()]
    out["outcome"] = canonical.metastasis(
        met, met["person_id"], met["event_date"], met["metastasis"], date_col
    )
    can = cond.loc[cond["cancer"].notna() & cond["metastasis"].isna()]
    out["cancer_diagnosis"] = canonical.diagnosis(
        can, can["person_id"], can["event_date"], can["cancer"], date_col, code=can["code"]
    )
    inf = cond.loc[cond["infection"].notna() & cond["metastasis"].isna() & cond["cancer"].isna()]
    out["infection"] = canonical.infection(
        inf,
        inf["person_id"],
        inf["event_date"],
        inf["infection"],
        "diagnosis",
        date_col,
        hospitalised=inf["hospitalised"].astype("boolean"),
    )
    return out


def _measurements(run: _Runner, issues: Issues, sets: omop_sql.Concepts) -> pd.DataFrame:
    """Positive tests from ``measurement`` as infection records."""
    table = run.optional("measurement", ["person_id", "measurement_concept_id", "measurement_date"])
    if table is None:
        return empty("infection")
    sql = omop_sql.measurement(table, run.cdm.dialect, sets)
    meas = _events(run, sql, table, issues, "measurement_date", "infection")
    return canonical.infection(
        meas, meas["person_id"], meas["event_date"], meas["pathogen"], "test", "measurement_date"
    )


def _vaccinations(run: _Runner, issues: Issues, sets: omop_sql.Concepts) -> pd.DataFrame:
    """Vaccinations (CVX codes) from ``drug_exposure`` and ``procedure_occurrence``."""
    vocab = run.optional("concept", ["concept_id", "concept_code", "vocabulary_id"])
    parts = []
    for name, prefix, date_col in (
        ("drug_exposure", "drug", "drug_exposure_start_date"),
        ("procedure_occurrence", "procedure", "procedure_date"),
    ):
        table = run.optional(name, ["person_id", f"{prefix}_concept_id", date_col])
        if table is None:
            continue
        sql = omop_sql.vaccination(table, run.cdm.dialect, sets, prefix, date_col, vocab)
        frame = _events(run, sql, table, issues, date_col, "vaccination")
        values = {
            "person_id": frame["person_id"],
            "vaccination_date": frame["event_date"],
            "vaccine": frame["vaccine"],
        }
        parts.append(canonical.table(frame, values, date_col))
    return pd.concat(parts, ignore_index=True) if parts else empty("vaccination")


def _episodes(run: _Runner, issues: Issues, sets: omop_sql.Concepts) -> pd.DataFrame:
    """First occurrences of a cancer from the oncology extension's ``episode`` table."""
    columns = ["person_id", "episode_concept_id", "episode_start_date", "episode_object_concept_id"]
    table = run.optional("episode", columns)
    if table is None:
        return empty("cancer_diagnosis")
    sql = omop_sql.episode(table, run.cdm.dialect, sets)
    ep = _events(run, sql, table, issues, "episode_start_date", "cancer_diagnosis")
    return canonical.diagnosis(
        ep, ep["person_id"], ep["event_date"], ep["site"], "episode_start_date"
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
