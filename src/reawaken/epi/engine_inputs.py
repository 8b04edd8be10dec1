"""Design inputs built by SQL in the cohort store's engine (DuckDB), for stores too big for memory.

``reawaken estimate --in-engine`` (:func:`reawaken.epi.estimate.run_design` with
``inputs="engine"``) does not read the canonical tables into pandas. The persons at risk of the
outcome (the definitions of :mod:`reawaken.epi.cohort_designs`, written once more in SQL) stay
in the engine; only what a fitter needs comes back, streamed as Arrow record batches:

- the self-controlled case series: person-time, events and the number of intervals per case,
  risk window and age group (:func:`sccs_aggregates`), the cases' observation periods for the
  check of event-dependent observation, and the counts of the summary. Memory is of the size of
  the aggregates (a few rows per case), not of the persons. The conditional Poisson likelihood
  of the case series depends on the intervals of one case and one covariate pattern only
  through their summed length and events, so the fit on the aggregates gives the estimates and
  standard errors of the fit on the intervals; its log-likelihood differs by a constant
  (``sum(events * log(length))`` over the intervals against over the aggregates), which is
  added back (:func:`fit_aggregates`), so ``fit.json`` records the same values;
- the case series with event-dependent observation periods: the cases' rows (one per case and
  infection, :func:`sccs_case_rows`), of the size of the cases;
- Cox: the counting-process intervals with their time-since-infection windows, split by SQL
  (:func:`cox_intervals`, equal to :func:`reawaken.epi.cohort_designs.cox_intervals`). The Cox
  fitter needs every interval at once: memory of the size of the intervals of the persons at
  risk (a few rows per person), never of the store's tables. For the competing-risks design
  (whose curves need the persons), the persons at risk and their infections come from the
  engine (:func:`read_cohort`) and the intervals are split in memory.

The engine runs with at most :data:`MEMORY_LIMIT` of memory and spills to a temporary folder
beyond it. A store whose sources are linked as the same person is refused (merging linked
persons is done in memory: run without the engine).

Example::

    from reawaken.cohort.store import CohortStore
    from reawaken.epi.estimate import run_design

    result = run_design(CohortStore("cohort.duckdb"), "sccs", inputs="engine",
                        outcome="lung_metastasis", exposure="any", windows="0-30,31-90")
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reawaken.epi.cohort_designs import (
    OUTCOMES,
    CoxData,
    age_band,
    cox_data,
    exposures,
    window_term,
)
from reawaken.epi.design import Cohort
from reawaken.epi.intervals import column_name, window_label
from reawaken.epi.sccs import (
    CaseSeries,
    SCCSFit,
    check_post_windows,
    fit_case_series,
    observation_check,
)
from reawaken.errors import InputError
from reawaken.io import duckdb_connect, scratch_prefix

if TYPE_CHECKING:
    import duckdb

MEMORY_LIMIT = "1GB"
"""The engine's memory limit (DuckDB's ``memory_limit``); beyond it DuckDB spills to disk.
Assumed: leaves room under 2 GB for the aggregates and the fit in Python."""

BATCH_ROWS = 1_000_000
"""Rows per Arrow record batch streamed from the engine."""

SAME_PERSON = "same-person"  # the link of sources whose persons are merged (cohort.linking)

_EPOCH = "DATE '1970-01-01'"


@dataclass(frozen=True)
class PersonCounts:
    """The persons at risk of the outcome, counted in the engine: what a design's summary needs.

    Parameters
    ----------
    persons : int
        Persons at risk of the outcome.
    outcome_events, competing_events : int
        Persons whose follow-up ends with the outcome (status 1) or the competing event (2).
    notes : list of str
        Who was left out and why (as :func:`reawaken.epi.cohort_designs.person_table` says).

    Examples
    --------
    >>> from reawaken.epi.engine_inputs import PersonCounts
    >>> counts = PersonCounts(2000, 197, 40, [])
    >>> counts.summary("sccs", "lung_metastasis", "any")["outcome_events"]
    197
    """

    persons: int
    outcome_events: int
    competing_events: int
    notes: list[str]

    def summary(self, design: str, outcome: str, exposure: str) -> dict:
        """The summary every design starts from (the keys of
        :func:`reawaken.epi.design.base_summary`)."""
        return {
            "design": design,
            "outcome": outcome,
            "exposure": exposure,
            "persons": self.persons,
            "outcome_events": self.outcome_events,
            "competing_events": self.competing_events,
        }


def _text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _and_source(source: str | None) -> str:
    return "" if source is None else f" AND source = {_text(source)}"


@contextmanager
def engine(store: Any, memory_limit: str = MEMORY_LIMIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the store's DuckDB file, limited to ``memory_limit`` and
    spilling to a temporary folder (removed afterwards).

    Raises
    ------
    InputError
        If there is no store at ``store.path`` or it cannot be opened.
    """
    import duckdb  # loaded when used: importing reawaken.epi stays light

    if not store.path.exists():
        raise InputError("no cohort store here (import a source first)", file=store.path)
    with tempfile.TemporaryDirectory(prefix=scratch_prefix("engine"), suffix=".tmp") as spill:
        try:  # settings by SET: a process may hold the file open already (without them)
            con = duckdb_connect(str(store.path), read_only=True)
        except duckdb.Error as exc:
            raise InputError(f"cannot open cohort store: {exc}", file=store.path) from exc
        try:
            con.execute(f"SET memory_limit = {_text(memory_limit)}")
            con.execute(f"SET temp_directory = {_text(spill)}")
            yield con
        finally:
            for name in ("memory_limit", "temp_directory"):  # the file may stay open elsewhere
                try:
                    con.execute(f"RESET {name}")
                except duckdb.Error:
                    pass
            con.close()


def stream(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, np.ndarray]:
    """The columns of a query's result as numpy arrays, read in Arrow record batches of
    :data:`BATCH_ROWS` rows (only the result is held, never the tables it reads)."""
    relation = con.sql(sql)
    # DuckDB 2.0 names the reader to_arrow_reader, earlier versions fetch_arrow_reader
    read = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader
    reader = read(BATCH_ROWS)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in reader.schema.names}
    for batch in reader:
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            parts[name].append(column.to_numpy(zero_copy_only=False))
    return {
        name: np.concatenate(chunks) if chunks else np.array([]) for name, chunks in parts.items()
    }


def _outcome_days(outcome: str) -> tuple[str, str, str]:
    """SQL of the outcome's day, the competing event's day and whether a person is a
    prevalent case, over the columns ``m`` (first metastasis), ``lung``, ``other``, ``d``
    (first death), ``cause`` (its cause) and ``start``."""
    prevalent = "coalesce(m < start, false)"
    if outcome == "cancer_death":
        return (
            "CASE WHEN cause = 'cancer' THEN d END",
            "CASE WHEN cause = 'cancer' THEN NULL ELSE d END",
            "false",
        )
    if outcome == "distant_metastasis":
        return "m", "d", prevalent
    first_here = "lung" if outcome == "lung_metastasis" else "other"
    return (
        f"CASE WHEN {first_here} THEN m END",
        f"least(CASE WHEN NOT {first_here} THEN m END, d)",
        prevalent,
    )


def define_persons(con: duckdb.DuckDBPyConnection, store: Any, outcome: str, source: str | None):
    """Create the temporary views of the persons at risk of ``outcome`` in the engine and
    return their counts (:class:`PersonCounts`).

    The view ``rw_at_risk`` holds ``source, person_id, diagnosis, start, exit, end`` (days
    since 1970-01-01), ``status`` (0, 1, 2), ``died``, ``stage`` and ``age`` (years at
    diagnosis), as :func:`reawaken.epi.cohort_designs.person_table` defines them.

    Raises
    ------
    InputError
        If the outcome or source is unknown, the store holds sources linked as the same
        person, the store holds no persons or none at risk, or (``cancer_death``) no cause of
        death is recorded.
    """
    if outcome not in OUTCOMES:
        raise InputError(f"unknown outcome {outcome!r} (expected one of {', '.join(OUTCOMES)})")
    store.check_source(source)
    if not store.sources():
        raise InputError("the cohort store holds no persons", file=store.path)
    if source is None:
        linked = con.execute(
            f"SELECT count(*) FROM imports WHERE link = {_text(SAME_PERSON)}"
        ).fetchall()[0][0]
        if linked:
            raise InputError(
                "inputs built in the engine: the store holds sources linked as the same "
                "person, which are merged in memory only; build the inputs in memory or "
                "choose one source",
                file=store.path,
            )
    where = "" if source is None else f"WHERE source = {_text(source)}"
    also = _and_source(source)
    event, competing, prevalent = _outcome_days(outcome)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW rw_person AS
        SELECT source, person_id, birth_year, sex FROM person {where}""")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW rw_dx AS
        SELECT source, person_id, diagnosis_date - {_EPOCH} AS diagnosis,
               stage FROM (
            SELECT *, row_number() OVER (PARTITION BY source, person_id
                                         ORDER BY diagnosis_date, rowid) AS k
            FROM cancer_diagnosis WHERE site = 'breast'{also}) WHERE k = 1""")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW rw_base AS
        SELECT p.source, p.person_id, p.birth_year, p.sex, d.diagnosis, d.stage,
               greatest(f.start_date - {_EPOCH}, d.diagnosis) AS start,
               f.end_date - {_EPOCH} AS "end"
        FROM rw_person p JOIN rw_dx d USING (source, person_id)
        JOIN (SELECT * FROM follow_up {where}) f USING (source, person_id)""")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW rw_outcomes AS
        WITH met AS (
            SELECT source, person_id, outcome_date - {_EPOCH} AS day, site FROM outcome
            WHERE outcome_type = 'distant_metastasis'{also}),
        first AS (SELECT source, person_id, min(day) AS m FROM met GROUP BY source, person_id),
        sites AS (
            SELECT met.source, met.person_id, first.m,
                   coalesce(bool_or(site = 'lung'), false) AS lung,
                   bool_and(site IS NOT NULL) AND NOT coalesce(bool_or(site = 'lung'), false)
                       AS other
            FROM met JOIN first ON met.source = first.source
                 AND met.person_id = first.person_id AND met.day = first.m
            GROUP BY met.source, met.person_id, first.m),
        deaths AS (
            SELECT source, person_id, outcome_date - {_EPOCH} AS d, cause FROM (
                SELECT *, row_number() OVER (PARTITION BY source, person_id
                                             ORDER BY outcome_date, rowid) AS k
                FROM outcome WHERE outcome_type = 'death'{also}) WHERE k = 1),
        days AS (
            SELECT b.*, s.m, coalesce(s.lung, false) AS lung, coalesce(s.other, false) AS other,
                   x.d, x.cause
            FROM rw_base b LEFT JOIN sites s USING (source, person_id)
            LEFT JOIN deaths x USING (source, person_id)),
        marked AS (
            SELECT *, {prevalent} AS prevalent,
                   CASE WHEN ({event}) <= "end" THEN ({event}) END AS ev,
                   CASE WHEN ({competing}) <= "end" THEN ({competing}) END AS cp
            FROM days)
        SELECT *, CASE WHEN ev IS NOT NULL AND NOT coalesce(cp < ev, false) THEN 1
                       WHEN cp IS NOT NULL THEN 2 ELSE 0 END AS status
        FROM marked""")
    con.execute("""CREATE OR REPLACE TEMP VIEW rw_at_risk AS
        SELECT source, person_id, diagnosis, start,
               CASE status WHEN 1 THEN ev WHEN 2 THEN cp ELSE "end" END AS exit,
               "end", status, coalesce(d <= "end", false)::INTEGER AS died,
               coalesce(stage, 'unknown') AS stage,
               (year(DATE '1970-01-01' + diagnosis::INTEGER) - birth_year)::DOUBLE AS age, sex
        FROM rw_outcomes WHERE start <= "end" AND NOT prevalent""")
    if outcome == "cancer_death":
        deaths, causes = con.execute(
            f"SELECT count(*), count(cause) FROM outcome WHERE outcome_type = 'death'{also}"
        ).fetchall()[0]
        if deaths and not causes:
            raise InputError(
                "no cause of death is recorded in this store: cancer_death cannot be studied",
                file=store.path,
            )
    everyone, diagnosed = con.execute("""SELECT
        (SELECT count(*) FROM rw_person),
        (SELECT count(*) FROM rw_person JOIN rw_dx USING (source, person_id))""").fetchall()[0]
    kept = 'start <= "end" AND NOT prevalent'
    row = con.execute(f"""SELECT
        count(*) FILTER (WHERE start > "end"),
        count(*) FILTER (WHERE start <= "end" AND prevalent),
        count(*) FILTER (WHERE {kept}),
        count(*) FILTER (WHERE {kept} AND status = 1),
        count(*) FILTER (WHERE {kept} AND status = 2)
        FROM rw_outcomes""").fetchall()[0]
    after, prevalent_cases, at_risk, events, competing_events = row
    if not everyone:
        raise InputError("the cohort store holds no persons", file=store.path)
    notes = []
    if diagnosed < everyone:
        notes.append(f"{everyone - diagnosed} persons without a breast cancer diagnosis left out")
    if after:
        notes.append(f"{after} persons diagnosed after their follow-up left out")
    if prevalent_cases:
        notes.append(f"{prevalent_cases} persons with a metastasis before follow-up left out")
    if not at_risk:
        raise InputError("no person at risk of the outcome in the cohort store", file=store.path)
    return PersonCounts(int(at_risk), int(events), int(competing_events), notes)


def read_cohort(store: Any, settings: Any) -> Cohort:
    """The persons at risk of ``settings.outcome`` and their ``settings.exposure`` infections,
    selected by SQL in the engine (:func:`define_persons`): the
    :class:`~reawaken.epi.design.Cohort` that :func:`reawaken.epi.design.read_cohort` reads,
    without reading the store's tables into memory (memory of the size of the persons at risk
    and their infections).

    Raises
    ------
    InputError
        As :func:`define_persons`, or if the exposure is unknown.
    """
    groups = exposures()
    if settings.exposure not in groups:
        raise InputError(
            f"unknown exposure {settings.exposure!r} (expected one of {', '.join(groups)})"
        )
    pathogens = ", ".join(_text(p) for p in groups[settings.exposure])
    with engine(store) as con:
        counts = define_persons(con, store, settings.outcome, settings.source)
        got = stream(
            con,
            """SELECT source || '/' || person_id AS id, diagnosis::DOUBLE AS diagnosis,
                   start::DOUBLE AS start, exit::DOUBLE AS exit, "end"::DOUBLE AS "end",
                   status::BIGINT AS status, died::BIGINT AS died, stage, age, sex
            FROM rw_at_risk ORDER BY source, person_id""",
        )
        infections = stream(
            con,
            f"""SELECT i.source || '/' || i.person_id AS id,
                   (i.infection_date - {_EPOCH})::DOUBLE AS day
            FROM infection i SEMI JOIN rw_at_risk r USING (source, person_id)
            WHERE i.pathogen IN ({pathogens}){_and_source(settings.source)}
            ORDER BY id, day""",
        )
    persons = pd.DataFrame(got)
    persons.insert(9, "age_band", age_band(persons["age"].to_numpy()))
    inf = pd.DataFrame(infections).assign(pathogen=settings.exposure)
    return Cohort(persons, inf, counts.notes)


def define_cases(con: duckdb.DuckDBPyConnection, exposure: str, source: str | None) -> int:
    """Create the temporary tables of the cases of the case series (``rw_cases``: ``case_id``,
    ``start, end, event`` in days since diagnosis, ``died``) and of their distinct infection
    days (``rw_infections``: ``case_id, x`` days since diagnosis; two infections of the exposure
    recorded on one day are one exposure, as in
    :func:`reawaken.epi.cohort_designs.sccs_data`) in the engine, after
    :func:`define_persons`; return the number of cases.

    Raises
    ------
    InputError
        If the exposure is unknown or no person has the outcome.
    """
    groups = exposures()
    if exposure not in groups:
        raise InputError(f"unknown exposure {exposure!r} (expected one of {', '.join(groups)})")
    pathogens = ", ".join(_text(p) for p in groups[exposure])
    con.execute("""CREATE OR REPLACE TEMP TABLE rw_case_persons AS
        SELECT row_number() OVER (ORDER BY source, person_id) - 1 AS case_id, source,
               person_id, diagnosis, start - diagnosis AS start, "end" - diagnosis AS "end",
               exit - diagnosis AS event, died
        FROM rw_at_risk WHERE status = 1""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE rw_infections AS
        SELECT DISTINCT c.case_id, i.infection_date - {_EPOCH} - c.diagnosis AS x
        FROM rw_case_persons c JOIN (
            SELECT source, person_id, infection_date FROM infection
            WHERE pathogen IN ({pathogens}){_and_source(source)}) i
        USING (source, person_id)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE rw_cases AS
        SELECT case_id, start, "end", event, died FROM rw_case_persons""")
    cases = con.execute("SELECT count(*) FROM rw_cases").fetchall()[0][0]
    if not cases:
        raise InputError("no person has the outcome: no cases for a case series")
    return int(cases)


def sccs_case_rows(con: duckdb.DuckDBPyConnection, *, shift: int = 0) -> pd.DataFrame:
    """The cases' rows as :func:`reawaken.epi.cohort_designs.sccs_data` lays them out (one per
    case and infection; ``case, start, end, event, exposure, died``, days ``+ shift``), after
    :func:`define_cases`: of the size of the cases, for the fits that need every row."""
    columns = stream(
        con,
        f"""SELECT c.case_id AS "case", c.start + {shift} AS start, c."end" + {shift} AS "end",
               c.event + {shift} AS event, (i.x + {shift})::DOUBLE AS exposure, c.died
        FROM rw_cases c LEFT JOIN rw_infections i USING (case_id)
        ORDER BY c.case_id, i.x""",
    )
    frame = pd.DataFrame(columns)
    return frame.astype({c: float for c in ("start", "end", "event", "exposure")})


def case_days(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, ...]:
    """Each case's first and last day of observation, event day and censoring indicator
    (``died``), in case order, after :func:`define_cases`."""
    got = stream(con, 'SELECT start, "end", event, died FROM rw_cases ORDER BY case_id')
    return got["start"], got["end"], got["event"], got["died"]


@dataclass(frozen=True)
class SCCSAggregates:
    """The case series aggregated per case, risk window and age group in the engine.

    Parameters
    ----------
    series : CaseSeries
        One row per case and covariate pattern (``case, length, events, window, age_group,
        season``; no ``lo, hi``), its design and terms, the number of cases and the check of
        the end of observation: what :func:`reawaken.epi.sccs.fit_case_series` fits.
    intervals : int
        The number of intervals of the split series that the rows aggregate.
    loglik_shift : float
        ``sum(events * log(length))`` over the intervals minus over the aggregates: what the
        fit's log-likelihood lacks (:func:`fit_aggregates` adds it).
    """

    series: CaseSeries
    intervals: int
    loglik_shift: float


def _values(rows: Sequence[tuple[int, ...]], names: str) -> str:
    return "(VALUES " + ", ".join(str(tuple(r)) for r in rows) + f") AS {names}"


def sccs_aggregates(
    con: duckdb.DuckDBPyConnection,
    windows: Sequence[tuple[int, int]],
    age_groups: Sequence[int],
    *,
    cases: int,
    observation: Any = None,
) -> SCCSAggregates:
    """Person-time and events per case, risk window and age group, by SQL in the engine.

    The split of :func:`reawaken.epi.sccs.split_case_series` (days since diagnosis; a window
    ``(a, b)`` covers days ``x + a`` to ``x + b`` of an infection on day ``x``; the most recent
    infection decides; an age group starts on the day given), after :func:`define_cases`; the
    intervals never leave the engine.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The engine, with the tables of :func:`define_cases`.
    windows : sequence of (int, int)
        Post-infection risk windows, ``0 <= a <= b``, not overlapping.
    age_groups : sequence of int
        Increasing start days of the 2nd, 3rd, ... age group.
    cases : int
        The number of cases.
    observation : ObservationCheck, optional
        The check of the end of observation, kept with the series.

    Returns
    -------
    SCCSAggregates
        The aggregated series, the number of intervals and the log-likelihood's constant.
    """
    post = check_post_windows(windows)
    groups = [int(g) for g in age_groups]
    numbered = [(k + 1, a, b) for k, (a, b) in enumerate(post)]
    clamp = 'least(greatest({v}, c.start - 1), c."end")'
    edges = ["e.x + w.a - 1", "e.x + w.b"]
    cut_sql = [
        "SELECT case_id, start - 1 AS cut FROM rw_cases",
        'SELECT case_id, "end" AS cut FROM rw_cases',
        *(
            f"SELECT e.case_id, {clamp.format(v=edge)} AS cut FROM rw_infections e "
            f"JOIN rw_cases c USING (case_id) CROSS JOIN {_values(numbered, 'w(k, a, b)')}"
            for edge in edges
        ),
    ]
    if groups:
        starts = _values([(g,) for g in groups], "g(a)")
        cut_sql.append(
            f"SELECT c.case_id, {clamp.format(v='g.a - 1')} AS cut FROM rw_cases c "
            f"CROSS JOIN {starts}"
        )
    age = " + ".join(f"(iv.hi >= {g})::INTEGER" for g in groups) or "0"
    sql = f"""
        WITH cuts AS ({" UNION ".join(cut_sql)}),
        iv AS (
            SELECT case_id, cut AS lo, lead(cut) OVER (PARTITION BY case_id ORDER BY cut) AS hi
            FROM cuts),
        win AS (
            SELECT iv.case_id, iv.hi, arg_max(w.k, e.x) AS "window"
            FROM iv JOIN rw_infections e USING (case_id)
            JOIN {_values(numbered, "w(k, a, b)")} ON iv.hi - e.x BETWEEN w.a AND w.b
            WHERE iv.hi IS NOT NULL GROUP BY iv.case_id, iv.hi),
        labelled AS (
            SELECT iv.case_id, iv.hi - iv.lo AS length, coalesce(win."window", 0) AS "window",
                   {age} AS age_group,
                   CASE WHEN c.event > iv.lo AND c.event <= iv.hi THEN 1 ELSE 0 END
                       AS events
            FROM iv LEFT JOIN win USING (case_id, hi) JOIN rw_cases c USING (case_id)
            WHERE iv.hi IS NOT NULL)
        SELECT case_id AS "case", "window", age_group, sum(length)::BIGINT AS length,
               sum(events)::DOUBLE AS events, count(*) AS intervals,
               sum(CASE WHEN events > 0 THEN events * ln(length) ELSE 0 END) AS events_log_length
        FROM labelled GROUP BY case_id, "window", age_group
        ORDER BY case_id, "window", age_group"""
    got = stream(con, sql)
    window = got["window"].astype(np.int64)
    age_group = got["age_group"].astype(np.int64)
    length = got["length"].astype(np.int64)
    events = got["events"].astype(float)
    terms = [f"exposure[{a},{b}]" for a, b in post]
    columns = [window == k for k, _, _ in numbered]
    bounds = [*groups, None]
    for i, a in enumerate(groups):
        nxt = bounds[i + 1]
        terms.append(f"age[{a},{nxt - 1}]" if nxt is not None else f"age[{a},)")
        columns.append(age_group == i + 1)
    design = np.column_stack(columns).astype(float) if columns else np.zeros((window.size, 0))
    intervals = pd.DataFrame(
        {
            "case": got["case"].astype(np.int64),
            "length": length,
            "events": events,
            "window": window,
            "age_group": age_group,
            "season": np.zeros(window.size, dtype=np.int64),
        }
    )
    with np.errstate(divide="ignore"):
        aggregated = np.where(events > 0, events * np.log(np.maximum(length, 1)), 0.0)
    shift = float(np.sum(got["events_log_length"])) - float(np.sum(aggregated))
    series = CaseSeries(
        intervals=intervals, design=design, terms=terms, cases=cases, observation=observation
    )
    return SCCSAggregates(series, int(np.sum(got["intervals"])), shift)


def fit_aggregates(aggregates: SCCSAggregates, **options: Any) -> SCCSFit:
    """Fit the aggregated case series (:func:`reawaken.epi.sccs.fit_case_series`, same
    ``options``) and report it as the fit of its intervals: the log-likelihoods with their
    constant added back, the number of intervals of the split series."""
    fit = fit_case_series(aggregates.series, **options)
    shift = aggregates.loglik_shift
    return replace(
        fit,
        loglik=fit.loglik + shift,
        loglik_null=fit.loglik_null + shift,
        intervals=aggregates.intervals,
    )


def sccs_observation(con: duckdb.DuckDBPyConnection) -> Any:
    """The check of the end of observation of the cases (:func:`reawaken.epi.sccs.
    observation_check`, deaths as the censoring indicator), after :func:`define_cases`."""
    start, end, event, died = case_days(con)
    return observation_check(start, end, event, died)


def max_case_end(con: duckdb.DuckDBPyConnection) -> float:
    """The last day of observation of the cases, in days since diagnosis."""
    value = con.execute('SELECT max("end") FROM rw_cases').fetchall()[0][0]
    return -math.inf if value is None else float(value)


def _stage_levels(con: duckdb.DuckDBPyConnection) -> tuple[list[str], str]:
    """The stages of the persons at risk (sorted) and the reference stage: ``I`` if present,
    else the most common (the first met, in person order, among equally common ones), as
    :func:`reawaken.epi.cohort_designs.cox_intervals` chooses them."""
    rows = con.execute("""SELECT stage, count(*) AS n, min(k) AS first FROM (
            SELECT stage, row_number() OVER (ORDER BY source, person_id) AS k FROM rw_at_risk)
        GROUP BY stage ORDER BY n DESC, first""").fetchall()
    levels = sorted(str(r[0]) for r in rows)
    reference = "I" if "I" in levels else str(rows[0][0])
    return levels, reference


def cox_intervals(
    con: duckdb.DuckDBPyConnection,
    *,
    exposure: str,
    windows: Sequence[tuple[float, float]],
    time_scale: str,
    calendar_years: bool = False,
    event_status: int = 1,
    source: str | None = None,
) -> CoxData:
    """Counting-process intervals with time-since-infection windows, split by SQL in the
    engine and streamed: what :func:`reawaken.epi.cohort_designs.cox_intervals` builds in
    memory, after :func:`define_persons`.

    Each person's follow-up ``(start, exit + 1]`` (days since diagnosis, or calendar days) is
    cut where a window of the most recent infection begins or ends (an infection on day ``t``
    opens window ``(a, b)`` at ``t + a``, days ``(t + a - 1, t + b]``; the next infection ends
    its windows, as :func:`reawaken.epi.intervals.add_infection_windows` does). Persons are
    numbered ``id`` 1, 2, ... in the order of source and person id. With ``calendar_years``
    follow-up is also cut on each 1 January and ``calendar_year`` (with its indicators
    ``year_YYYY``, the first year the reference) is the year of each interval's first day (on
    the diagnosis time scale only). The Cox fitter needs every
    interval at once: memory of the size of the intervals (a few rows per person at risk), not
    of the store's tables.

    Returns
    -------
    CoxData
        The intervals (``id, start, stop, event, stage``, the stage indicators, ``age10``, the
        window label column and the window indicators), the window terms kept, the adjustment
        terms, notes.

    Raises
    ------
    InputError
        If the exposure is unknown, or no person-time follows a recorded infection.
    """
    groups = exposures()
    if exposure not in groups:
        raise InputError(f"unknown exposure {exposure!r} (expected one of {', '.join(groups)})")
    pathogens = ", ".join(_text(p) for p in groups[exposure])
    origin = "diagnosis" if time_scale == "diagnosis" else "0"
    labels = [window_label(w) for w in windows]
    opens = _values(
        [(float(a) - 1.0, label) for (a, _), label in zip(windows, labels, strict=True)],
        "w(shift, label)",
    )
    closing = [
        (float(b),)
        for k, (_, b) in enumerate(windows)
        if not math.isinf(b) and (k + 1 == len(windows) or windows[k + 1][0] - 1 > b)
    ]
    closes = (
        f"""UNION ALL SELECT id, t + w.shift AS time, 'none' AS value, 0 AS prio, next_begin
            FROM nb CROSS JOIN {_values(closing, "w(shift)")}"""
        if closing
        else ""
    )
    prefix = exposure.replace("-", "_")
    infected = "true" if column_name(exposure) == prefix else "false"
    new_years = ""
    if calendar_years:  # 1 January of each year after the first day, inside follow-up
        jan1 = f"(make_date(y::INTEGER, 1, 1) - {_EPOCH})::DOUBLE - p.origin"
        first_year = "year(DATE '1970-01-01' + (p.start + p.origin)::INTEGER)"
        last_year = "year(DATE '1970-01-01' + (p.stop + p.origin)::INTEGER)"
        new_years = f"""UNION
            SELECT p.id, {jan1} FROM persons p,
                   range({first_year} + 1, {last_year} + 1) r(y)
            WHERE {jan1} > p.start AND {jan1} < p.stop"""
    sql = f"""
        WITH persons AS (
            SELECT row_number() OVER (ORDER BY source, person_id) AS id, source, person_id,
                   (start - {origin})::DOUBLE AS start, (exit + 1 - {origin})::DOUBLE AS stop,
                   (status = {int(event_status)})::BIGINT AS event, stage, age / 10.0 AS age10,
                   {origin} AS origin
            FROM rw_at_risk),
        inf AS (
            SELECT DISTINCT p.id, (i.infection_date - {_EPOCH} + 1 - p.origin)::DOUBLE AS t
            FROM persons p JOIN infection i USING (source, person_id)
            WHERE {infected} AND i.pathogen IN ({pathogens}){_and_source(source)}),
        nb AS (
            SELECT id, t, lead(t) OVER (PARTITION BY id ORDER BY t) + {float(windows[0][0])} - 1
                AS next_begin
            FROM inf),
        points AS (
            SELECT id, t + w.shift AS time, w.label AS value, 1 AS prio, next_begin
            FROM nb CROSS JOIN {opens}
            {closes}),
        kept AS (
            SELECT id, time, arg_max(value, prio) AS value FROM points
            WHERE NOT coalesce(time >= next_begin, false) GROUP BY id, time),
        starts AS (
            SELECT id, start AS at FROM persons
            UNION
            SELECT k.id, k.time FROM kept k JOIN persons p USING (id)
            WHERE k.time > p.start AND k.time < p.stop
            {new_years}),
        pieces AS (
            SELECT s.id, s.at AS start,
                   lead(s.at) OVER (PARTITION BY s.id ORDER BY s.at) AS next_start
            FROM starts s)
        SELECT q.id, q.start, coalesce(q.next_start, p.stop) AS stop,
               CASE WHEN q.next_start IS NULL THEN p.event ELSE 0 END AS event,
               p.stage, p.age10, coalesce(k.value, 'none') AS "window",
               year(DATE '1970-01-01' + (q.start + p.origin)::INTEGER) AS calendar_year
        FROM pieces q JOIN persons p USING (id)
        ASOF LEFT JOIN kept k ON q.id = k.id AND q.start >= k.time
        ORDER BY q.id, q.start"""
    got = stream(con, sql)
    levels, reference = _stage_levels(con)
    iv = pd.DataFrame(
        {
            "id": got["id"].astype(np.int64),
            "start": got["start"].astype(float),
            "stop": got["stop"].astype(float),
            "event": got["event"].astype(np.int64),
            "stage": got["stage"].astype(object),
        }
    )
    notes: list[str] = []
    stages = []
    for level in levels:
        if level != reference:
            name = f"stage_{level}"
            iv[name] = (iv["stage"].astype(str) == level).astype(np.int64)
            stages.append(name)
    if not stages:
        known = sorted(set(levels) - {"unknown"})
        held = f"only stage {known[0]}" if known else "no stage"
        notes.append(
            f"not adjusted for stage: the store records {held} for these persons "
            "(the models adjust for age only)"
        )
    iv["age10"] = got["age10"].astype(float)
    adjust = [*stages, "age10"]
    if calendar_years:
        iv["calendar_year"] = got["calendar_year"].astype(np.int64)
        first = con.execute(
            "SELECT year(min(DATE '1970-01-01' + start::INTEGER)) FROM rw_at_risk"
        ).fetchall()[0][0]
        years = sorted(set(iv["calendar_year"].astype(str)))
        reference = str(first) if str(first) in years else iv["calendar_year"].astype(str).mode()[0]
        for level in years:
            if level != reference:
                iv[f"year_{level}"] = (iv["calendar_year"].astype(str) == level).astype(np.int64)
                adjust.append(f"year_{level}")
    window_column = f"{prefix}_window"
    iv[window_column] = got["window"].astype(object)
    for label in labels:
        iv[window_term(prefix, label)] = (iv[window_column] == label).astype(np.int64)
    return cox_data(iv, prefix, labels, exposure, adjust, window_column, notes)
