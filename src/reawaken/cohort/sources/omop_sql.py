"""The OMOP CDM's canonical cohort as SQL, written once (DuckDB's dialect) and translated by
sqlglot for PostgreSQL and Spark.

Each query reads one CDM table where it lives and returns only the rows the canonical cohort
keeps, with the canonical values already mapped: persons, follow-up per person (earliest
observation start, latest end), deaths with their cause, cancer diagnoses, metastases and
infection diagnoses from ``condition_occurrence`` (hospitalised when the visit is inpatient),
positive tests from ``measurement``, vaccinations (CVX) from ``drug_exposure`` and
``procedure_occurrence``, first occurrences from ``episode``. Concept sets go in as inline
``VALUES`` lists (a read-only role can read them; nothing is written). Every row carries its
place (``_row``: the file's data row, or the record's id in a database) and, for dates
stored as text, the text (``event_text``), so that a bad date is reported where it is. The
rows come back in no particular order: the reader numbers them by place.

A column's SQL depends on how the engine stores it (:attr:`reawaken.cohort.engines.Table.columns`):
text (a CSV file read by DuckDB) is trimmed, its blanks are NULL, whole numbers written
``12.0`` or ``012`` read as ``12`` and dates are parsed (``YYYY-MM-DD``, ISO 8601 date-time,
``DD/MM/YYYY``); typed columns are used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from reawaken.cohort import codes
from reawaken.cohort.engines import Table
from reawaken.cohort.sources import common
from reawaken.errors import InputError

#: Visit concepts of a stay in hospital (OMOP standard concepts of the Visit domain):
#: 9201 Inpatient Visit, 262 Emergency Room and Inpatient Visit, 8717 Inpatient Hospital
#: (CMS Place of Service 21, claims CDMs), 32037 Intensive Care.
INPATIENT_VISITS = (9201, 262, 8717, 32037)
FIRST_OCCURRENCE_EPISODE = 32528
ROLES = ("cancer", "metastasis", "infection")
_WORD = "(^|[^a-z0-9_])"  # a word starts here (Python's \b before a word character)
_END = "([^a-z0-9_]|$)"  # a word ends here
#: A source value that is an ICD-10 code, as written (a letter, two digits, a third character,
#: then at most one dot and up to four characters), alone or followed by a blank or other
#: separator and text (``C50.9 Malignant ...``). Other coding systems that start the same way
#: are not read as ICD-10: Read v2 codes (CPRD), whose dots pad five characters (``C10E.00``
#: type 1 diabetes, ``C34..00`` gout, ``J11..00`` gastric ulcer), would otherwise be ICD-10
#: C10, C34 (lung cancer) and J11 (influenza).
ICD10_SHAPE = "^[A-Za-z][0-9][0-9A-Za-z]([.]?[0-9A-Za-z]{1,4})?([^0-9A-Za-z.]|$)"
#: Keeps PostgreSQL from copying a subquery's expressions into each join (it would compute a
#: row's ICD code once per join): ``OFFSET 0`` is an optimisation fence there.
_FENCE = {"postgres": " OFFSET 0"}


# ----- concept sets as VALUES lists -----------------------------------------------------------
def _literal(value: object) -> str:
    if value is None:
        return "CAST(NULL AS VARCHAR)"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def values(rows: list[tuple], names: tuple[str, ...], alias: str) -> str:
    """An inline table ``alias(names)`` of ``rows`` (one row of NULLs, matching nothing, when
    there are none).

    Examples
    --------
    >>> values([(1, "a")], ("concept_id", "value"), "v")
    "(VALUES (1, 'a')) AS v(concept_id, value)"
    """
    if not rows:
        nulls = [f"CAST(NULL AS {'BIGINT' if n == 'concept_id' else 'VARCHAR'})" for n in names]
        body = "(" + ", ".join(nulls) + ")"
    else:
        body = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    return f"(VALUES {body}) AS {alias}({', '.join(names)})"


def _prefixes(role: str, extra: Path | None) -> dict[str, str]:
    """ICD-10 prefix -> value of ``role`` (the first row of a prefix wins: a user's rows)."""
    table = codes.load("icd10.csv", extra)
    out: dict[str, str] = {}
    for prefix, value in zip(
        table.loc[table["role"] == role, "prefix"],
        table.loc[table["role"] == role, "value"],
        strict=True,
    ):
        if prefix != "":
            out.setdefault(prefix, value)
    return out


@dataclass(frozen=True)
class Concepts:
    """The concept sets of one import (packaged, plus a user's folder ``extra``), and the CDM's
    ``concept_ancestor`` table when it has one (in ``dialect``'s engine): a concept of a set
    then stands for its descendants too."""

    extra: Path | None = None
    ancestors: Table | None = None
    dialect: str = "duckdb"

    def set_of(self, rows: list[tuple], names: tuple[str, ...], alias: str) -> str:
        """The concept set ``rows`` (``concept_id`` first) as the relation ``alias(names)``;
        with ``concept_ancestor``, every descendant of a concept of the set too, with the
        values of its nearest ancestor in the set (the concept itself first; equally near
        ancestors: the smallest concept id).

        Examples
        --------
        >>> Concepts().set_of([(4112853, "breast")], ("concept_id", "site"), "cs")
        "(VALUES (4112853, 'breast')) AS cs(concept_id, site)"
        """
        if self.ancestors is None or not rows:
            return values(rows, names, alias)
        a = Columns(self.ancestors, self.dialect)
        carried = "".join(f", v.{n}" for n in names[1:])
        level = f"COALESCE({a.number('min_levels_of_separation')}, 1000000)"
        return (
            f"(SELECT {', '.join(names)} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY "
            "concept_id ORDER BY lv, root) AS k FROM ("
            f"SELECT v.concept_id AS concept_id{carried}, -1 AS lv, v.concept_id AS root "
            f"FROM {values(rows, names, 'v')} UNION ALL "
            f"SELECT {a.number('descendant_concept_id')}{carried}, {level}, v.concept_id "
            f"FROM {self.ancestors.ref} AS s JOIN {values(rows, names, 'v')} "
            f"ON v.concept_id = {a.number('ancestor_concept_id')}) AS e) AS r "
            f"WHERE k = 1) AS {alias}"
        )

    @cached_property
    def omop(self) -> dict[str, dict[int, str]]:
        roles = ("cancer", "metastasis", "infection", "test", "result")
        return {r: codes.omop_concepts(r, self.extra) for r in roles}

    def icd_joins(self, roles: tuple[str, ...], code: str, alias: str) -> tuple[str, dict]:
        """LEFT JOINs matching ``code`` (a normalised ICD-10 code) to the longest prefix of
        each role; returns the joins and, per role, the SQL of its value."""
        by_role = {r: _prefixes(r, self.extra) for r in roles}
        lengths = sorted({len(p) for m in by_role.values() for p in m}, reverse=True)
        joins = []
        for n in lengths:
            keys = sorted({p for m in by_role.values() for p in m if len(p) == n})
            rows = [(k, *(by_role[r].get(k) for r in roles)) for k in keys]
            table = values(rows, ("prefix", *roles), f"{alias}{n}")
            joins.append(f"LEFT JOIN {table} ON {alias}{n}.prefix = LEFT({code}, {n})")
        value = {
            r: "COALESCE(" + ", ".join([f"{alias}{n}.{r}" for n in lengths] + ["NULL"]) + ")"
            for r in roles
        }
        return "\n".join(joins), value

    def cvx(self) -> str:
        vaccines = codes.cvx_vaccines(self.extra)
        return values(sorted(vaccines.items()), ("code", "vaccine"), "x")


# ----- columns ---------------------------------------------------------------------------------
class Columns:
    """SQL for the columns of one table (alias ``s``), by how the engine stores them."""

    def __init__(self, table: Table, dialect: str) -> None:
        self.table, self.dialect = table, dialect

    def has(self, name: str) -> bool:
        return name in self.table.columns

    def raw(self, name: str) -> str:
        stored, _ = self.table.columns[name]
        return 's."' + stored.replace('"', '""') + '"'

    def kind(self, name: str) -> str:
        return self.table.columns[name][1]

    def text(self, name: str) -> str:
        """Identifiers and codes as text: trimmed, blank is NULL, ``12.0`` and ``012`` -> ``12``."""
        if not self.has(name):
            return "CAST(NULL AS VARCHAR)"
        col, kind = self.raw(name), self.kind(name)
        if kind == "integer":
            return f"CAST({col} AS VARCHAR)"
        if kind == "float":
            return (
                f"CASE WHEN {col} = FLOOR({col}) THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({col} AS VARCHAR) END"
            )
        t = f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '')"
        whole = f"TRIM(LEADING '0' FROM regexp_replace({t}, '[.]0*$', ''))"
        return (
            f"CASE WHEN regexp_matches({t}, '^[0-9]+([.]0*)?$') "
            f"THEN COALESCE(NULLIF({whole}, ''), '0') ELSE {t} END"
        )

    def code(self, name: str) -> str:
        """A code or word as text: trimmed, blank is NULL (for codes that start with a letter,
        and words, the same as :meth:`text`, for less work)."""
        if not self.has(name):
            return "CAST(NULL AS VARCHAR)"
        if self.kind(name) != "text":
            return self.text(name)
        return f"NULLIF(TRIM({self.raw(name)}), '')"

    def number(self, name: str) -> str:
        """Concept ids and other whole numbers (NULL where not a number)."""
        if not self.has(name):
            return "CAST(NULL AS BIGINT)"
        col, kind = self.raw(name), self.kind(name)
        if kind == "integer":
            return col
        if kind == "float":
            return f"CAST({col} AS BIGINT)"
        t = f"TRIM(CAST({col} AS VARCHAR))"
        return (
            f"CASE WHEN regexp_matches({t}, '^[+-]?[0-9]+([.][0-9]*)?$') "
            f"THEN CAST(CAST({t} AS DOUBLE) AS BIGINT) END"
        )

    def date(self, name: str) -> tuple[str, str]:
        """The date and the text as stored (for messages)."""
        col, kind = self.raw(name), self.kind(name)
        if kind in ("date", "timestamp"):  # only a missing date is bad: no text needed
            return f"CAST({col} AS DATE)", "CAST(NULL AS VARCHAR)"
        if kind == "text" and self.dialect == "duckdb":
            t = f"NULLIF(TRIM({col}), '')"
            parsed = (
                f"CAST(COALESCE(TRY_STRPTIME({t}, '%Y-%m-%d'), TRY_CAST({t} AS TIMESTAMP), "
                f"TRY_STRPTIME({t}, '%d/%m/%Y')) AS DATE)"
            )
            return parsed, t
        stored, _ = self.table.columns[name]
        raise InputError(
            f"column {stored} of {self.table.label} is not a date (expected DATE or TIMESTAMP, "
            "as in the OMOP CDM)",
            column=name,
        )


# ----- the queries (DuckDB's dialect) ---------------------------------------------------------
def person(t: Table, dialect: str) -> str:
    """Every person row: id as text, year of birth as stored, gender concept."""
    c = Columns(t, dialect)
    return (
        f"SELECT {t.row} AS _row, {c.text('person_id')} AS person_id, "
        f"{c.raw('year_of_birth')} AS year_of_birth, "
        f"{c.number('gender_concept_id')} AS gender_concept_id "
        f"FROM {t.ref} AS s"
    )


def observation_problems(t: Table, dialect: str) -> str:
    """Observation periods whose start or end is missing or not a date."""
    c = Columns(t, dialect)
    start, start_text = c.date("observation_period_start_date")
    end, end_text = c.date("observation_period_end_date")
    return (
        f"SELECT * FROM (SELECT {t.row} AS _row, {c.text('person_id')} AS person_id, "
        f"{start} AS start_date, {start_text} AS start_text, "
        f"{end} AS end_date, {end_text} AS end_text FROM {t.ref} AS s) AS o "
        "WHERE start_date IS NULL OR end_date IS NULL"
    )


def observation(t: Table, dialect: str) -> str:
    """Per person: the earliest start and latest end of the observation periods, and the place
    of the period that starts first."""
    c = Columns(t, dialect)
    start, _ = c.date("observation_period_start_date")
    end, _ = c.date("observation_period_end_date")
    return (
        "SELECT person_id, _row, start_date, end_date FROM ("
        "SELECT person_id, _row, "
        "ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY s, _row) AS k, "
        "MIN(s) OVER (PARTITION BY person_id) AS start_date, "
        "MAX(e) OVER (PARTITION BY person_id) AS end_date FROM ("
        f"SELECT {t.row} AS _row, {c.text('person_id')} AS person_id, {start} AS s, {end} AS e "
        f"FROM {t.ref} AS s) AS o "
        "WHERE s IS NOT NULL AND e IS NOT NULL AND person_id IS NOT NULL) AS r "
        "WHERE k = 1"
    )


def death(t: Table, dialect: str, concepts: Concepts) -> str:
    """Deaths with their cause: ``cause_concept_id`` (COVID-19 or cancer concepts) first, then
    an ICD-10 ``cause_source_value``; any other cause given is ``other``, none is NULL."""
    c = Columns(t, dialect)
    date, event_text = c.date("death_date")
    covid = common.covid_pathogen()
    by_id = {k: "covid" for k, v in concepts.omop["infection"].items() if v == covid}
    by_id.update({k: "cancer" for k in (*concepts.omop["cancer"], *concepts.omop["metastasis"])})
    joins, value = concepts.icd_joins(("death_cause",), "d.code", "i")
    cause_text = c.code("cause_source_value")
    icd = f"CASE WHEN regexp_matches({cause_text}, '{ICD10_SHAPE}') THEN {cause_text} END"
    return (
        "SELECT d._row, d.person_id, d.event_text, d.event_date, COALESCE(dc.cause, "
        f"{value['death_cause']}, CASE WHEN d.cause_text IS NOT NULL THEN 'other' END, "
        "CASE WHEN COALESCE(d.cause_concept, 0) <> 0 THEN 'other' END) AS cause FROM ("
        f"SELECT {t.row} AS _row, {c.text('person_id')} AS person_id, {date} AS event_date, "
        f"{event_text} AS event_text, {cause_text} AS cause_text, {_normalised(icd)} AS code, "
        f"{c.number('cause_concept_id')} AS cause_concept FROM {t.ref} AS s) AS d "
        f"LEFT JOIN {concepts.set_of(sorted(by_id.items()), ('concept_id', 'cause'), 'dc')} "
        f"ON dc.concept_id = d.cause_concept\n{joins}"
    )


def _normalised(code: str) -> str:
    """Upper case without dots and spaces (``c78.01`` -> ``C7801``); blank is NULL."""
    return f"NULLIF(REPLACE(REPLACE(UPPER({code}), '.', ''), ' ', ''), '')"


def _inpatient(visits: Table | None, dialect: str) -> str | None:
    if visits is None or not {"visit_occurrence_id", "visit_concept_id"} <= set(visits.columns):
        return None
    v = Columns(visits, dialect)
    kinds = ", ".join(str(k) for k in INPATIENT_VISITS)
    return (
        f"SELECT DISTINCT {v.number('visit_occurrence_id')} AS visit_id FROM {visits.ref} AS s "
        f"WHERE {v.number('visit_concept_id')} IN ({kinds})"
    )


def condition(t: Table, dialect: str, concepts: Concepts, visits: Table | None) -> str:
    """Condition rows that are a cancer, a metastasis or a respiratory infection (by concept,
    else by ICD-10 ``condition_source_value``), with ``hospitalised`` for an inpatient visit."""
    c = Columns(t, dialect)
    date, event_text = c.date("condition_start_date")
    source = c.code("condition_source_value")
    icd = f"CASE WHEN regexp_matches({source}, '{ICD10_SHAPE}') THEN {source} END"
    rows = [
        (k, *(concepts.omop[r].get(k) for r in ROLES))
        for k in sorted({k for r in ROLES for k in concepts.omop[r]})
    ]
    joins, by_code = concepts.icd_joins(ROLES, "c.code", "i")
    role_values = ", ".join(f"COALESCE(o.{r}, {by_code[r]}) AS {r}" for r in ROLES)
    inpatient = _inpatient(visits, dialect)
    visit_join, hospitalised = "", "FALSE"
    if inpatient is not None and c.has("visit_occurrence_id"):
        visit_join = f"LEFT JOIN ({inpatient}) AS v ON v.visit_id = c.visit_id"
        hospitalised = "v.visit_id IS NOT NULL"
    relevant = " OR ".join(f"{r} IS NOT NULL" for r in ROLES)
    return (
        "SELECT * FROM ("
        f"SELECT c._row, c.person_id, c.event_text, c.event_date, {role_values}, c.code, "
        f"{hospitalised} AS hospitalised FROM ("
        f"SELECT {t.row} AS _row, {c.text('person_id')} AS person_id, {date} AS event_date, "
        f"{event_text} AS event_text, {c.number('condition_concept_id')} AS concept_id, "
        f"{_normalised(icd)} AS code, {c.number('visit_occurrence_id')} AS visit_id "
        f"FROM {t.ref} AS s{_FENCE.get(dialect, '')}) AS c "
        f"LEFT JOIN {concepts.set_of(rows, ('concept_id', *ROLES), 'o')} "
        "ON o.concept_id = c.concept_id\n"
        f"{joins}\n{visit_join}) AS m WHERE {relevant}"
    )


def measurement(t: Table, dialect: str, concepts: Concepts) -> str:
    """Positive tests for a pathogen of the pathogen table: ``value_as_concept_id`` a
    Detected/Positive/Present concept, or ``value_source_value`` saying detected, positive,
    present or pos (whole words) without the words not, no, none, never or a word starting
    with neg."""
    c = Columns(t, dialect)
    date, event_text = c.date("measurement_date")
    tests = concepts.set_of(sorted(concepts.omop["test"].items()), ("concept_id", "pathogen"), "tc")
    results = concepts.set_of(
        [(k,) for k in sorted(concepts.omop["result"])], ("concept_id",), "rc"
    )
    text = f"LOWER({c.code('value_source_value')})"
    said = (
        f"COALESCE(regexp_matches({text}, '{_WORD}(detected|positive|present|pos){_END}') "
        f"AND NOT regexp_matches({text}, '{_WORD}(not|no|none|never){_END}|{_WORD}neg'), "
        "FALSE)"
    )
    return (
        "SELECT * FROM ("
        f"SELECT {t.row} AS _row, {c.text('person_id')} AS person_id, {date} AS event_date, "
        f"{event_text} AS event_text, tc.pathogen FROM {t.ref} AS s "
        f"JOIN {tests} ON tc.concept_id = {c.number('measurement_concept_id')} "
        f"LEFT JOIN {results} ON rc.concept_id = {c.number('value_as_concept_id')} "
        f"WHERE rc.concept_id IS NOT NULL OR {said}) AS m"
    )


def vaccination(
    t: Table, dialect: str, concepts: Concepts, prefix: str, date_column: str, vocab: Table | None
) -> str:
    """Vaccinations: a CVX concept (by the ``concept`` table, when given) or a CVX code (1-3
    digits) in ``{prefix}_source_value``."""
    c = Columns(t, dialect)
    date, event_text = c.date(date_column)
    cvx = concepts.cvx()
    by_concept = "NULL"
    concept_join = ""
    if vocab is not None:
        v = Columns(vocab, dialect)
        code = f"TRIM(LEADING '0' FROM TRIM(CAST({v.raw('concept_code')} AS VARCHAR)))"
        concept_join = (
            f"LEFT JOIN (SELECT {v.number('concept_id')} AS concept_id, MAX(x.vaccine) AS vaccine "
            f"FROM {vocab.ref} AS s JOIN {cvx} ON x.code = {code} "
            f"WHERE CAST({v.raw('vocabulary_id')} AS VARCHAR) = 'CVX' "
            f"GROUP BY {v.number('concept_id')}) AS cc "
            f"ON cc.concept_id = {c.number(prefix + '_concept_id')} "
        )
        by_concept = "cc.vaccine"
    source = c.text(f"{prefix}_source_value")
    short = (
        f"CASE WHEN regexp_matches({source}, '^[0-9]{{1,3}}$') "
        f"THEN TRIM(LEADING '0' FROM {source}) END"
    )
    return (
        "SELECT * FROM ("
        f"SELECT {t.row} AS _row, {c.text('person_id')} AS person_id, {date} AS event_date, "
        f"{event_text} AS event_text, COALESCE({by_concept}, x.vaccine) AS vaccine "
        f"FROM {t.ref} AS s {concept_join}LEFT JOIN {cvx} ON x.code = {short}) AS q "
        f"WHERE vaccine IS NOT NULL"
    )


def episode(t: Table, dialect: str, concepts: Concepts) -> str:
    """First occurrences of a cancer (``episode_concept_id`` 32528), the site from
    ``episode_object_concept_id`` (``other`` when not a cancer concept of the sets)."""
    c = Columns(t, dialect)
    date, event_text = c.date("episode_start_date")
    sites = concepts.set_of(sorted(concepts.omop["cancer"].items()), ("concept_id", "site"), "cs")
    return (
        "SELECT * FROM ("
        f"SELECT {t.row} AS _row, {c.text('person_id')} AS person_id, {date} AS event_date, "
        f"{event_text} AS event_text, COALESCE(cs.site, 'other') AS site FROM {t.ref} AS s "
        f"LEFT JOIN {sites} ON cs.concept_id = {c.number('episode_object_concept_id')} "
        f"WHERE {c.number('episode_concept_id')} = {FIRST_OCCURRENCE_EPISODE}) AS e"
    )
