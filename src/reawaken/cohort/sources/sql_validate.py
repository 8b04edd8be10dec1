"""Validating canonical tables held in DuckDB (:class:`~reawaken.cohort.sources.sql_import.
SqlTables`): the checks of :func:`reawaken.cohort.schema.finalize`, written as SQL predicates,
with the same messages, the same order of reports and the same rows left out; infection
records merged into episodes by SQL. The clean tables stay in DuckDB (:class:`Validated`),
for the store to insert them from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from reawaken.cohort.schema import (
    DEATH_CAUSES,
    EPISODE_GAP_DAYS,
    EVENT_DATES,
    METASTASIS_SITES,
    TABLES,
    Issues,
    allowed,
    columns,
)
from reawaken.cohort.sources.sql_import import Check, SqlImport, SqlTables, ident, quote, show
from reawaken.cohort.sources.sql_import import show_date as day


def _listed(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(quote(v) for v in values) + ")"


def finalize(raw: SqlTables) -> dict[str, Validated]:
    """Validate the canonical tables of ``raw``; return them clean, without provenance.

    Checks, in the order of :func:`reawaken.cohort.schema.finalize`: allowed values, one
    person row per id, events on known persons, follow-up present, start <= end, no date
    before the year of birth, events within follow-up. Problem rows are reported through
    ``raw.issues``; a person whose own row or follow-up fails is left out with all their rows.
    Infection records are then merged into episodes.

    Parameters
    ----------
    raw : reawaken.cohort.sources.sql_import.SqlTables
        Canonical tables in DuckDB with provenance and order (``_ord``).

    Returns
    -------
    dict of str to Validated
        The canonical tables (:data:`reawaken.cohort.schema.TABLES`), still in ``raw.con``;
        :meth:`Validated.select` reads one in the order of
        :func:`reawaken.cohort.schema.finalize` (by person id and its first column).

    Raises
    ------
    reawaken.errors.InputError
        When ``raw.issues`` is strict, at the first bad row (file, row, column, reason).

    Examples
    --------
    >>> from pathlib import Path
    >>> from reawaken.cohort import generate
    >>> from reawaken.cohort.schema import Issues
    >>> from reawaken.cohort.sources import ukb
    >>> from reawaken.cohort.sources.common import Extract
    >>> truth = generate("ukb", 200, 1, "ukb-extract")
    >>> raw = ukb.read(Extract(Path("ukb-extract"), Issues(id_column="eid")))
    >>> tables = finalize(raw)
    >>> count = "SELECT count(*) FROM {}"
    >>> [raw.con.sql(count.format(tables[t].relation)).fetchall() for t in ("person", "follow_up")]
    [[(200,)], [(200,)]]
    >>> raw.con.sql(tables["person"].select()).fetchall()[0]
    ('1000001', 1937, 'female')
    """
    q = SqlImport.resume(raw)
    tables = {name: raw.tables.get(name) or q.empty(name) for name in TABLES}

    checks = _value_checks()
    if _anything_to_check(q, tables, checks):
        _validate(q, tables, checks)
    tables["infection"] = _episodes(q, tables["infection"])
    catalog = q.sql("SELECT current_database()").fetchall()[0][0]
    return {
        name: Validated(name, f"{ident(catalog)}.main.{relation}")
        for name, relation in tables.items()
    }


def left_out(q: SqlImport, tables: dict[str, str]) -> tuple[str, str] | None:
    """What :func:`finalize` would leave out of the canonical ``tables`` of the import ``q``,
    found by running its checks on copies, leniently, reporting nothing: relations of the
    persons kept (``person_id``) and of the rows left out (``table_name``, ``_file``,
    ``_row``, ``_column``: where they were read); None when nothing would be (the usual
    case).

    For an importer whose own dates decide something (UK Biobank's end of data: the latest
    date of the rows kept). The relation names continue ``q``'s.

    Examples
    --------
    A clean extract loses nothing; a participant whose death precedes the assessment visit is
    left out with the rows read from their line:

    >>> from pathlib import Path
    >>> from reawaken.cohort.sources import ukb
    >>> from reawaken.cohort.sources.common import Extract
    >>> folder = Path("ukb-left-out")
    >>> folder.mkdir()
    >>> lines = ["eid,p31,p34,p53_i0,p40000_i0", "1,0,1950,2008-01-01,"]
    >>> lines.append("2,0,1950,2008-01-01,2007-06-01")
    >>> _ = (folder / "participant.csv").write_text("\\n".join(lines) + "\\n")
    >>> raw = ukb.read(Extract(folder, Issues(lenient=True, id_column="eid")))
    >>> q = SqlImport.resume(raw)
    >>> persons, rows = left_out(q, raw.tables)
    >>> q.sql(f"SELECT person_id FROM {persons}").fetchall()
    [('1',)]
    >>> q.sql(f"SELECT table_name, _row, _column FROM {rows} ORDER BY table_name").fetchall()
    [('follow_up', 2, 'p40000_i0'), ('outcome', 2, 'p40000_i0')]
    """
    dry = SqlImport.resume(SqlTables(q.con, tables, Issues(lenient=True), names_used=q._n))
    copies = {name: tables.get(name) or dry.empty(name) for name in TABLES}
    checks = _value_checks()
    found = _anything_to_check(dry, copies, checks)
    if found:
        _validate(dry, copies, checks)
    q._n = dry._n
    if not found:
        return None
    persons, rows = q.name("kept_persons"), q.name("left_out_rows")
    q.sql(f"CREATE TABLE {persons} AS SELECT DISTINCT person_id FROM {copies['person']}")
    q.sql(f"CREATE TABLE {rows} (table_name VARCHAR, _file VARCHAR, _row BIGINT, _column VARCHAR)")
    reported = [(r["table_name"], r["file"], r["row"], r["column"]) for r in dry.issues.rows]
    if reported:
        q.con.executemany(f"INSERT INTO {rows} VALUES (?, ?, ?, ?)", reported)
    return persons, rows


@dataclass(frozen=True)
class Validated:
    """A validated canonical table held in DuckDB (by :func:`finalize`).

    Parameters
    ----------
    table : str
        The canonical table (:data:`reawaken.cohort.schema.TABLES`).
    relation : str
        Where it is, qualified by its database (it can be read with another database in use).
    prefix : str, default ""
        Put before every person id when it is read (``site-b:``; see :meth:`apart`).
    """

    table: str
    relation: str
    prefix: str = ""

    def apart(self, name: str) -> Validated:
        """The same table with its person ids prefixed by ``name`` (link ``distinct``)."""
        return Validated(self.table, self.relation, f"{name}:{self.prefix}")

    def person_id(self) -> str:
        """SQL of the person id as read (prefixed when kept apart)."""
        return f"{quote(self.prefix)} || person_id" if self.prefix else "person_id"

    def select(self, *, first: str = "") -> str:
        """SQL reading the table's canonical columns in the order
        :func:`reawaken.cohort.schema.finalize` gives (``first``: SQL of a column put before
        them, e.g. ``?, ``)."""
        cols = [f"{self.person_id()} AS person_id", *map(ident, columns(self.table)[1:])]
        # finalize's stable sort on the first two columns; episodes of one day by pathogen
        order = [*columns(self.table)[:2], *(["pathogen"] if self.table == "infection" else [])]
        return (
            f"SELECT {first}{', '.join(cols)} FROM {self.relation} "
            f"ORDER BY {', '.join(map(ident, order))}, _ord"
        )


def _value_checks() -> dict[str, list[Check]]:
    """The checks of allowed values per table, in the order of
    :func:`reawaken.cohort.schema.allowed` (each table's follow one another), then those of
    metastasis sites and causes of death."""
    checks: dict[str, list[Check]] = {}  # each table's checks follow one another in allowed()
    for (table, column), (values, nullable) in allowed().items():
        bad = f"{ident(column)} NOT IN {_listed(values)}"
        if not nullable:
            bad = f"{ident(column)} IS NULL OR {bad}"
        reason = (
            f"'unknown {column} ' || {show(ident(column))} || "
            f"' (expected one of {', '.join(values)})'"
        )
        checks.setdefault(table, []).append(Check(bad, reason, "_column", table))
    met = "outcome_type = 'distant_metastasis'"
    checks["outcome"] += [
        Check(
            f"({met} AND site IS NOT NULL AND site NOT IN {_listed(METASTASIS_SITES)}) "
            f"OR (NOT {met} AND site IS NOT NULL)",
            f"'bad metastasis site ' || {show('site')}",
            "_column",
            "outcome",
        ),
        Check(
            f"(NOT {met} AND cause IS NOT NULL AND cause NOT IN {_listed(DEATH_CAUSES)}) "
            f"OR ({met} AND cause IS NOT NULL)",
            f"'bad cause of death ' || {show('cause')}",
            "_column",
            "outcome",
        ),
    ]
    return checks


def _any(checks: list[Check]) -> str:
    """SQL: true where any of ``checks`` finds the row bad."""
    return " OR ".join(f"coalesce({c.bad}, false)" for c in checks) or "false"


def _anything_to_check(
    q: SqlImport, tables: dict[str, str], checks: dict[str, list[Check]]
) -> bool:
    """Whether :func:`_validate` would report or leave out anything: three queries over the
    tables as they are (a clean cohort, the usual case, is then not screened check by check).
    Conservative: true whenever any check could hold for any row.

    The persons fully joined to their follow-up (``span``) have no row without the other
    side and as many rows as each table exactly when every person has one row and one
    follow-up row: with no row alone, an id with p person and f follow-up rows (both at least
    1) gives p x f rows, and the sum of p x f equals the sum of p only when every f is 1 (and
    likewise every p). The event tables, one after the other, are joined to ``span`` once.
    The queries run one at a time over ``span`` as a table, so that a CDM of 10^7 persons
    stays within the import's memory limit (held as one query's CTE it ran out of memory)."""
    person, fu = tables["person"], tables["follow_up"]
    relation = q.name("span")
    span = (
        "SELECT coalesce(f.person_id, p.person_id) AS person_id, f.start_date, f.end_date, "
        f"p.birth_year, {_any(checks.get('person', []))} OR {_any(checks.get('follow_up', []))} "
        "OR p.person_id IS NULL OR f.person_id IS NULL "
        "OR p.birth_year IS NULL OR f.start_date IS NULL OR f.end_date IS NULL "
        "OR year(f.end_date) < p.birth_year OR f.end_date < f.start_date AS _bad "
        f"FROM {fu} f FULL JOIN {person} p ON p.person_id = f.person_id"
    )
    events = []  # person, date, whether it must not precede follow-up, a bad value or no date
    for name in ("cancer_diagnosis", *EVENT_DATES):
        date = "diagnosis_date" if name == "cancer_diagnosis" else EVENT_DATES[name]
        events.append(
            f"SELECT person_id, {date} AS _date, {name != 'cancer_diagnosis'} AS _in_span, "
            f"{_any(checks.get(name, []))} OR {date} IS NULL AS _bad FROM {tables[name]}"
        )
    found = [
        "SELECT bool_or(_bad) "
        f"OR count(*) <> (SELECT count(*) FROM {person}) "
        f"OR count(*) <> (SELECT count(*) FROM {fu}) FROM {relation}",
        "SELECT bool_or(e._bad OR s.person_id IS NULL OR year(e._date) < s.birth_year "
        "OR e._date > s.end_date OR (e._in_span AND e._date < s.start_date)) "
        f"FROM ({' UNION ALL '.join(events)}) e LEFT JOIN {relation} s "
        "ON s.person_id = e.person_id",
        "SELECT count(*) <> count(DISTINCT person_id) "
        f"FROM {tables['outcome']} WHERE outcome_type = 'death'",
    ]
    # a table (spilled to disk beyond the import's memory limit, as a CTE held in memory is
    # not), read by one query at a time (their hash tables never held at once); the first
    # query finding anything ends the check
    q.sql(f"CREATE TABLE {relation} AS {span}")
    try:
        return any(q.sql(f"SELECT coalesce(({f}), false)").fetchall()[0][0] for f in found)
    finally:
        q.sql(f"DROP TABLE {relation}")


def _validate(q: SqlImport, tables: dict[str, str], checks: dict[str, list[Check]]) -> None:
    """The checks of :func:`reawaken.cohort.schema.finalize`, one after the other, reporting
    and deleting bad rows."""

    def screen(table: str, listed: list[Check], rows: str | None = None) -> None:
        q.screen(tables[table], listed, person="person_id", key="_ord", order="_ord", rows=rows)

    for name, relation in list(tables.items()):  # bad rows are deleted: tables, not views
        tables[name] = q.name(f"valid_{name}")
        q.sql(f"CREATE TABLE {tables[name]} AS SELECT * FROM {relation}")

    for table, listed in checks.items():
        screen(table, listed)
    outcome = tables["outcome"]
    deaths = (
        f"(SELECT o.*, d._first FROM {outcome} o LEFT JOIN (SELECT person_id, min(_ord) AS "
        f"_first FROM {outcome} WHERE outcome_type = 'death' GROUP BY person_id "
        "HAVING count(*) > 1) d ON d.person_id = o.person_id)"
    )
    screen(
        "outcome",
        [
            Check(
                "outcome_type = 'death' AND _ord > _first",
                f"'more than one death for ' || {show('person_id')}",
                "_column",
                "outcome",
            )
        ],
        deaths,
    )
    _persons_and_follow_up(q, tables, screen)
    span = q.name("span")
    q.sql(
        f"CREATE TABLE {span} AS SELECT f.person_id, f.start_date, f.end_date, p.birth_year "
        f"FROM {tables['follow_up']} f JOIN {tables['person']} p USING (person_id)"
    )
    for name in ("cancer_diagnosis", *EVENT_DATES):
        _check_events(tables, name, span, screen)


def _persons_and_follow_up(q: SqlImport, tables: dict[str, str], screen) -> None:
    """One person row per id, a year of birth, exactly one follow-up row that starts before
    it ends and does not end before birth; persons and follow-up rows without the other go."""
    person, fu = tables["person"], tables["follow_up"]
    counted = (
        f"(SELECT p.*, d._first, d._c FROM {person} p LEFT JOIN (SELECT person_id, "
        f"min(_ord) AS _first, count(*) AS _c FROM {person} GROUP BY person_id "
        "HAVING count(*) > 1) d ON d.person_id = p.person_id)"
    )
    screen(
        "person",
        [
            Check(
                "_ord > _first",
                f"'duplicate person id ' || {show('person_id')}",
                "_column",
                "person",
            ),
            Check(
                "_c > 1",
                f"'person id ' || {show('person_id')} || ' occurs more than once'",
                "_column",
                "person",
            ),
            Check("birth_year IS NULL", "'missing year of birth'", "_column", "person"),
        ],
        counted,
    )
    twice = f"(SELECT person_id FROM {fu} GROUP BY person_id HAVING count(*) > 1)"
    screen(
        "follow_up",
        [Check(f"person_id IN {twice}", "'more than one follow-up row'", "_column", "follow_up")],
    )
    q.sql(f"DELETE FROM {fu} WHERE person_id NOT IN (SELECT person_id FROM {person})")
    screen(
        "person",
        [
            Check(
                f"person_id NOT IN (SELECT person_id FROM {fu})",
                f"'no follow-up for person ' || {show('person_id')}",
                "_column",
                "person",
            )
        ],
    )
    born = (
        f"(SELECT f.*, p.birth_year FROM {fu} f LEFT JOIN "
        f"(SELECT person_id, birth_year FROM {person}) p USING (person_id))"
    )
    screen(
        "follow_up",
        [
            Check(
                "start_date IS NULL OR end_date IS NULL",
                "'missing start or end of follow-up'",
                "_column",
                "follow_up",
            ),
            Check(
                "year(end_date) < birth_year",
                f"'end of follow-up ' || {day('end_date')} || ' before birth (year ' "
                "|| birth_year || ')'",
                "_column",
                "follow_up",
            ),
            Check(
                "end_date < start_date",
                f"'end of follow-up ' || {day('end_date')} || ' before its start ' "
                f"|| {day('start_date')}",
                "_column",
                "follow_up",
            ),
        ],
        born,
    )
    q.sql(f"DELETE FROM {person} WHERE person_id NOT IN (SELECT person_id FROM {fu})")


def _check_events(tables: dict[str, str], name: str, span: str, screen) -> None:
    """Events (and cancer diagnoses) of known persons, dated, not before birth, within
    follow-up (a diagnosis may precede it)."""
    date = "diagnosis_date" if name == "cancer_diagnosis" else EVENT_DATES[name]
    what = "death" if name == "outcome" else "date"
    rows = (
        f"(SELECT e.*, s.person_id IS NOT NULL AS _known, s.start_date AS _start, "
        f"s.end_date AS _end, s.birth_year AS _born FROM {tables[name]} e "
        f"LEFT JOIN {span} s USING (person_id))"
    )
    checks = [
        Check(
            "NOT _known",
            f"'person ' || {show('person_id')} || ' not in the person table (or left out)'",
            "_column",
            name,
        ),
        Check(f"{date} IS NULL", "'missing date'", "_column", name),
        Check(
            f"year({date}) < _born",
            f"'{what} ' || {day(date)} || ' before birth (year ' || _born || ')'",
            "_column",
            name,
        ),
    ]
    if name == "cancer_diagnosis":
        checks.append(
            Check(
                f"{date} > _end",
                f"'diagnosis ' || {day(date)} || ' after end of follow-up ' || {day('_end')}",
                "_column",
                name,
            )
        )
    else:
        checks += [
            Check(
                f"{date} > _end",
                f"'event ' || {day(date)} || ' after end of follow-up ' || {day('_end')}",
                "_column",
                name,
            ),
            Check(
                f"{date} < _start",
                f"'event ' || {day(date)} || ' before start of follow-up ' || {day('_start')}",
                "_column",
                name,
            ),
        ]
    screen(name, checks, rows)


def _episodes(q: SqlImport, infection: str, gap_days: int = EPISODE_GAP_DAYS) -> str:
    """Infection records merged into episodes
    (:func:`reawaken.cohort.schema.merge_infection_episodes`): a record no more than
    ``gap_days`` after the previous record of the same person and pathogen continues its
    episode; the episode has its first record's date and provenance, evidence ``test`` if any
    record is a test, hospitalised if any record is."""
    episodes = q.name("episodes")
    ordered = (
        f"SELECT *, CASE WHEN lag(infection_date) OVER w IS NULL "
        f"OR infection_date - lag(infection_date) OVER w > {int(gap_days)} THEN 1 ELSE 0 END "
        f"AS _new FROM {infection} WINDOW w AS (PARTITION BY person_id, pathogen "
        "ORDER BY infection_date, _ord)"
    )
    numbered = (
        "SELECT *, sum(_new) OVER (PARTITION BY person_id, pathogen ORDER BY infection_date, "
        f"_ord ROWS UNBOUNDED PRECEDING) AS _episode FROM ({ordered})"
    )
    q.sql(
        f"CREATE TABLE {episodes} AS SELECT person_id, min(infection_date) AS infection_date, "
        "pathogen, CASE WHEN bool_or(evidence = 'test') THEN 'test' ELSE 'diagnosis' END "
        "AS evidence, coalesce(bool_or(hospitalised), false) AS hospitalised, "
        "arg_max(_file, _new) AS _file, arg_max(_row, _new) AS _row, "
        "arg_max(_column, _new) AS _column, arg_max(_ord, _new) AS _ord "
        f"FROM ({numbered}) GROUP BY person_id, pathogen, _episode"
    )
    return episodes
