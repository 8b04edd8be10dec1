"""Importing source files inside DuckDB: the files are read as text by DuckDB, transformed and
checked by SQL, and the canonical tables stay in DuckDB until the store inserts them.

What the UK Biobank and Flatiron importers share:

* :class:`SqlImport`: one in-memory DuckDB connection per import, loading a source table with
  every column as text (:meth:`SqlImport.load`), its rows numbered as the file's data rows;
* SQL for the values: text (:func:`text`), identifiers and codes (:func:`as_text`), ICD codes
  (:func:`icd_code`), whole numbers (:func:`number`), dates (:meth:`SqlImport.date`: ISO
  ``YYYY-MM-DD`` by SQL; :meth:`SqlImport.read_dates`: other spellings read once per distinct
  text with the rules of :func:`reawaken.cohort.sources.common.parse_date_text`; the session's
  time zone is UTC, so that a Parquet timestamp with a time zone reads as its UTC text);
* bad rows found by SQL predicates (:class:`Check`, :meth:`SqlImport.screen`), reported
  through :class:`reawaken.cohort.schema.Issues` with the file, row, column and reason, in the
  order the checks are listed and then the rows (strict: the first raises; lenient: every
  one is quarantined and the rows are deleted);
* ICD codes classified once per distinct code (:meth:`SqlImport.classify`) by
  :func:`reawaken.cohort.codes.classify_icd`;
* :class:`SqlTables`: what such an importer hands back, canonical tables carrying their
  provenance (``_file``, ``_row``, ``_column``) and their order (``_ord``) as DuckDB tables,
  validated by :func:`reawaken.cohort.sources.sql_validate.finalize`.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from reawaken.cohort import codes
from reawaken.cohort.schema import TABLES, Issues, columns
from reawaken.cohort.sources import common
from reawaken.errors import InputError
from reawaken.io import duckdb_connect

#: Cell texts pandas reads as missing (``pandas.read_csv``'s default ``na_values``): the same
#: texts are NULL here, so that an import reads the files as the pandas importers did.
NA_TEXTS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)


def quote(value: str) -> str:
    """``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """``name`` as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def text(column: str) -> str:
    """SQL: the trimmed text of ``column``, NULL when blank."""
    return f"nullif(trim({column}), '')"


def as_text(column: str) -> str:
    """SQL: an identifier or code as text (trimmed, blank NULL, ``12.0`` -> ``12``), as
    :func:`reawaken.cohort.sources.common.as_text` gives for the pandas importers.

    Parameters
    ----------
    column : str
        SQL of a text column (quoted with :func:`ident` where needed).

    Returns
    -------
    str
        The SQL expression.

    Raises
    ------
    None
        It only writes SQL.

    Examples
    --------
    >>> import duckdb
    >>> duckdb.sql(f"SELECT {as_text('x')} FROM (VALUES (' 12.0 '), (''), ('F7')) t(x)").fetchall()
    [('12',), (None,), ('F7',)]
    """
    value = text(column)
    return (
        f"CASE WHEN contains({value}, '.') "
        f"THEN regexp_replace({value}, '^(-?[0-9]+)\\.0*$', '\\1') ELSE {value} END"
    )


def icd_code(column: str) -> str:
    """SQL: a code upper case without dots and blanks, NULL when empty
    (:func:`reawaken.cohort.codes.normalise_code`).

    Parameters
    ----------
    column : str
        SQL of a text column.

    Returns
    -------
    str
        The SQL expression.

    Raises
    ------
    None
        It only writes SQL.

    Examples
    --------
    >>> import duckdb
    >>> duckdb.sql(f"SELECT {icd_code('x')} FROM (VALUES ('c78.01'), ('.')) t(x)").fetchall()
    [('C7801',), (None,)]
    """
    return f"nullif(upper(regexp_replace({column}, '[.\\s]', '', 'g')), '')"


def well_formed(code: str) -> str:
    """SQL: true where a normalised code looks like an ICD-9/ICD-10 code
    (:func:`reawaken.cohort.codes.well_formed`)."""
    return f"coalesce(regexp_full_match({code}, '[A-Z0-9]{{3,7}}'), false)"


def number(column: str) -> str:
    """SQL: ``column`` as a number (DOUBLE), NULL where it is not one (``pandas.to_numeric``
    with ``errors="coerce"``)."""
    return f"TRY_CAST(trim({column}) AS DOUBLE)"


#: The largest year of birth the canonical tables hold (``person.birth_year`` is a DuckDB
#: INTEGER, 32 bits); no plausible range is assumed beyond it.
MAX_YEAR = 2**31 - 1


def bad_year(value: str) -> str:
    """SQL: true where ``value`` (a number read by :func:`number`) is no year: missing, not
    finite (``inf``), not whole, or beyond what ``person.birth_year`` holds (``1e12``).

    Examples
    --------
    >>> import duckdb
    >>> texts = "VALUES ('1950'), ('1950e0'), ('1950.5'), ('inf'), ('1e12'), ('x')"
    >>> query = f"SELECT t, {bad_year(number('t'))} FROM ({texts}) v(t)"
    >>> [bad for _, bad in duckdb.sql(query).fetchall()]
    [False, False, True, True, True, True]
    """
    return (
        f"({value} IS NULL OR NOT isfinite({value}) OR abs({value}) > {MAX_YEAR} "
        f"OR {value} <> floor({value}))"
    )


def show(value: str) -> str:
    """SQL: a value as a message shows it (``missing`` for NULL; dates as ``YYYY-MM-DD``)."""
    return f"coalesce(CAST({value} AS VARCHAR), 'missing')"


def show_date(value: str) -> str:
    """SQL: a date as a message shows it, ``YYYY-MM-DD``."""
    return f"coalesce(strftime({value}, '%Y-%m-%d'), 'missing')"


def ordinal(*parts: str) -> str:
    """SQL: one BIGINT ordering rows as ``parts`` do, most significant first (up to three:
    the last, a row number, below 2**32; the middle below 2**20; the first below 2**11).

    Parameters
    ----------
    *parts : str
        SQL of whole numbers, most significant first.

    Returns
    -------
    str
        The SQL expression (no window, no sort: rows keep their place in one pass).

    Raises
    ------
    ValueError
        If given more than three parts.

    Examples
    --------
    >>> ordinal("_part", "_row")
    'CAST(_part AS BIGINT) * 4294967296 + CAST(_row AS BIGINT) * 1'
    """
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"ordinal takes one to three parts, not {len(parts)}")
    weights = [2**52, 2**32, 1][3 - len(parts) :]
    return " + ".join(f"CAST({p} AS BIGINT) * {w}" for p, w in zip(parts, weights, strict=True))


@dataclass(frozen=True)
class Check:
    """One check of a screen: the rows where ``bad`` holds are reported.

    Parameters
    ----------
    bad : str
        SQL predicate, true for a bad row (NULL counts as false).
    reason : str
        SQL expression giving the message of a bad row.
    column : str
        SQL expression giving the column the problem is in (a literal such as ``'p31'``).
    table : str
        The canonical table the problem is filed under (the quarantine's ``table_name``).
    """

    bad: str
    reason: str
    column: str
    table: str


@dataclass(frozen=True)
class SourceFile:
    """A source table found and checked, not read yet (:meth:`SqlImport.open`): its file,
    its column names and the SQL reading it (every column as text, names as given)."""

    path: Path
    columns: list[str]
    sql: str


@dataclass
class SqlTables:
    """What an SQL importer hands back: canonical tables in ``con`` (table name -> relation
    holding the canonical columns, ``_file``, ``_row``, ``_column`` and a unique ``_ord``
    giving the rows' order), how follow-up was cut, and where bad rows are reported."""

    con: duckdb.DuckDBPyConnection
    tables: dict[str, str]
    issues: Issues
    censor_date: pd.Timestamp | None = None
    n_after_censor: int = 0
    notes: list[str] = field(default_factory=list)
    names_used: int = 0  #: relation names handed out so far (:meth:`SqlImport.name`)


def delimiter(path: Path) -> str | None:
    """The field delimiter of a text table by its suffix (``.csv`` comma; ``.tsv`` and
    ``.txt`` tab, as UK Biobank writes its ``.txt`` downloads); None for Parquet.

    Examples
    --------
    >>> [delimiter(Path(n)) for n in ("a.csv", "covid19_result.txt", "a.TSV", "a.parquet")]
    [',', '\\t', '\\t', None]
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return None
    return "\t" if suffix in (".tsv", ".txt") else ","


def _read_error(path: Path, exc: duckdb.Error) -> InputError:
    """The error of a file DuckDB could not read, in one line: for a ``.csv`` or ``.tsv``
    file the data row (header not counted) and what is wrong with it, found by
    :func:`csv_problem`; else the first line of DuckDB's message."""
    if delimiter(path) is not None:
        found = csv_problem(path, delimiter(path))
        if found is not None:
            row, reason = found
            if row == 0:
                return InputError(f"{reason} in the header", file=path)
            return InputError(reason, file=path, row=row)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(f"cannot read table: {first}", file=path)


def csv_problem(path: Path, delimiter: str) -> tuple[int, str] | None:
    """The first malformed row of a delimited text file read as the importer reads it
    (UTF-8, a UTF-8 byte order mark allowed; quote ``"`` doubled inside a quoted field; blank
    lines skipped): (its data row, 0 for the header; the reason: ``expected 15 fields, found
    16``, ``unterminated quote``, ``not UTF-8 text``), or None when there is none.

    Examples
    --------
    >>> from pathlib import Path
    >>> _ = Path("t.csv").write_text('a,b\\n1,2\\n3,4,5\\n')
    >>> csv_problem(Path("t.csv"), ",")
    (2, 'expected 2 fields, found 3')
    >>> _ = Path("t.csv").write_text('a,b\\n1,"2\\n3,4\\n')
    >>> csv_problem(Path("t.csv"), ",")
    (1, 'unterminated quote')
    """
    undecodable = False

    def lines() -> Iterator[str]:
        nonlocal undecodable
        with path.open("rb") as handle:
            for number, raw in enumerate(handle):
                try:
                    yield raw.decode("utf-8-sig" if number == 0 else "utf-8")
                except UnicodeDecodeError:
                    undecodable = True
                    return

    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # an unterminated quote runs to the end of the file
    records, width = 0, None  # records read, the header's included
    try:
        reader = csv.reader(lines(), delimiter=delimiter, quotechar='"', strict=True)
        for fields in reader:
            if not fields:
                continue
            if width is None:
                width = len(fields)
            elif len(fields) != width:
                return records, f"expected {width} fields, found {len(fields)}"
            records += 1
    except csv.Error as exc:
        if undecodable:
            return records, "not UTF-8 text"
        if "end of data" in str(exc):
            return records, "unterminated quote"
        return records, f"malformed quoting ({exc})"
    finally:
        csv.field_size_limit(limit)
    if undecodable:
        return records, "not UTF-8 text"
    return None


def _refuse_twice(path: Path, names: dict[str, str]) -> None:
    """Raise InputError when two columns of the file at ``path`` have one name (``names``:
    DuckDB's column name -> the name used), naming both as the file writes them: blanks
    around a name and the old ``31-0.0`` style are undone before (``p31`` and ``31-0.0``),
    and DuckDB calls the second of two identical names ``p31_1`` (the header says)."""
    written = list(names)
    header = _csv_header(path) if delimiter(path) is not None else None
    if header is not None and len(header) == len(written):
        written = header
    seen: dict[str, str] = {}
    for original, used in zip(written, names.values(), strict=True):
        if used in seen:
            raise InputError(
                f"column {used!r} given twice: {seen[used]!r} and {original!r}", file=path
            )
        seen[used] = original
    if header is not None and len(header) == len(written):
        stripped = [h.strip() for h in header]
        twice = [h for k, h in enumerate(stripped) if h in stripped[:k]]
        if twice:
            first = header[stripped.index(twice[0])]
            last = header[len(stripped) - 1 - stripped[::-1].index(twice[0])]
            raise InputError(f"column {twice[0]!r} given twice: {first!r} and {last!r}", file=path)


def _csv_header(path: Path) -> list[str] | None:
    """The column names of a ``.csv`` or ``.tsv`` file's header (None if unreadable)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle, delimiter=delimiter(path), quotechar='"'), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def _parse_dates(spelled: pd.Series) -> pd.Series:
    """:func:`reawaken.cohort.sources.common.parse_date_text` of ``spelled``; a text it
    fails on (raises) is no date (NaT), reported as a bad date like any other."""
    try:
        return common.parse_date_text(pd.Series(spelled, dtype="string"))
    except (ValueError, TypeError, OverflowError):
        one = []
        for value in spelled:
            try:
                one.append(common.parse_date_text(pd.Series([value], dtype="string")).iloc[0])
            except (ValueError, TypeError, OverflowError):
                one.append(pd.NaT)
        return pd.Series(one, index=spelled.index, dtype="datetime64[ns]")


class SqlImport:
    """One import in DuckDB: a private in-memory connection, the extract and its issues.

    Parameters
    ----------
    extract : reawaken.cohort.sources.common.Extract
        What is imported (folder, issues, censor date, concepts).
    con : duckdb.DuckDBPyConnection, optional
        The connection to work in (e.g. the one holding the CDM's tables); default: a new
        in-memory one. The import's result owns it (``SqlTables.con``: the caller closes it).

    Examples
    --------
    A table read in one pass, a bad year of birth found by an SQL predicate and quarantined
    (lenient) with its file, row and column:

    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from reawaken.cohort.schema import Issues
    >>> from reawaken.cohort.sources.common import Extract
    >>> folder = Path("extract")
    >>> folder.mkdir()
    >>> frame = pd.DataFrame({"eid": [1001, 1002], "p34": ["1950", "x"]})
    >>> frame.to_csv(folder / "participant.csv", index=False)
    >>> q = SqlImport(Extract(folder, Issues(lenient=True, id_column="eid")))
    >>> source = q.open("participant", ["eid", "p34"])
    >>> rows = q.rows(source, lambda file: f"SELECT {as_text('eid')} AS eid, p34 FROM {file}")
    >>> bad = Check(f"{number('p34')} IS NULL", "'bad year ' || p34", "'p34'", "person")
    >>> q.screen(rows, [bad], person="eid")
    1
    >>> q.issues.frame()[["person_id", "row", "column", "reason"]].values.tolist()
    [['1002', 2, 'p34', 'bad year x']]
    >>> q.sql(f"SELECT eid, _row FROM {rows}").fetchall()
    [('1001', 1)]
    """

    def __init__(
        self, extract: common.Extract, con: duckdb.DuckDBPyConnection | None = None
    ) -> None:
        self.extract = extract
        self.issues = extract.issues
        self.con = duckdb_connect(":memory:") if con is None else con
        # a timestamp with a time zone (Parquet ``timestamp[tz=...]``) is read as its text in
        # UTC, whatever the machine's zone: its date is the same on every machine
        self.con.execute("SET TimeZone = 'UTC'")
        self._n = 0
        self._backing: dict[str, str] = {}  # relation of rows() -> the table holding them
        self._views: set[str] = set()  # canonical tables made as views

    def sql(self, query: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        """Run ``query`` on the import's connection."""
        return self.con.execute(query, params or [])

    def name(self, stem: str) -> str:
        """A fresh relation name starting with ``stem``."""
        self._n += 1
        return f"{stem}_{self._n}"

    def result(self, tables: dict[str, str], cut: pd.Timestamp | None) -> SqlTables:
        """The canonical tables, records dated after ``cut`` deleted and counted (None or NaT:
        nothing cut)."""
        if cut is None or pd.isna(cut):
            return SqlTables(self.con, tables, self.issues, names_used=self._n)
        dropped = 0
        tables = dict(tables)
        for name, column in common.DATED_TABLES:
            if name not in tables:
                continue
            relation, late = tables[name], f"{column} > DATE {quote(cut.strftime('%Y-%m-%d'))}"
            if relation not in self._views:
                dropped += self.sql(f"DELETE FROM {relation} WHERE {late}").fetchall()[0][0]
                continue
            n = self.sql(f"SELECT count(*) FROM {relation} WHERE {late}").fetchall()[0][0]
            if n:
                dropped += n
                tables[name] = self.name(f"cohort_{name}")
                self.sql(
                    f"CREATE VIEW {tables[name]} AS SELECT * FROM {relation} "
                    f"WHERE NOT coalesce({late}, false)"
                )
                self._views.add(tables[name])
        return SqlTables(
            self.con,
            tables,
            self.issues,
            censor_date=cut,
            n_after_censor=dropped,
            names_used=self._n,
        )

    @classmethod
    def resume(cls, raw: SqlTables) -> SqlImport:
        """Go on working on the connection of an import's tables (relation names continue
        where the import left them)."""
        q = cls.__new__(cls)
        q.extract, q.issues, q.con = None, raw.issues, raw.con
        q._n, q._backing, q._views = raw.names_used, {}, set()
        return q

    # ----- reading files -------------------------------------------------------------------
    def open(
        self,
        name: str,
        required_columns: list[str],
        *,
        required: bool = True,
        rename: Callable[[str], str] | None = None,
    ) -> SourceFile | None:
        """Table ``name`` of the extract folder, every column as text (not read yet: see
        :meth:`rows`); None when an optional table is absent.

        ``rename`` gives a column's new name (from its name stripped of blanks). A required
        column that is missing raises :class:`~reawaken.errors.InputError` naming it (and a
        near match).
        """
        path = common.find_table(self.extract.path, name, required=required)
        if path is None:
            return None
        return self.open_file(path, required_columns, rename=rename)

    def open_file(
        self,
        path: Path,
        required_columns: list[str],
        *,
        rename: Callable[[str], str] | None = None,
    ) -> SourceFile:
        """The file at ``path`` as :meth:`open` gives a table (``.csv``; ``.tsv`` or ``.txt``,
        tab-separated; ``.parquet``)."""
        reader = self._reader(path)
        try:
            found = [r[0] for r in self.sql(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
        except duckdb.Error as exc:
            raise _read_error(path, exc) from exc
        names = {c: str(c).strip() for c in found}
        names = {c: rename(n) if rename else n for c, n in names.items()}
        _refuse_twice(path, names)
        columns = list(names.values())
        common.require_column_names(columns, required_columns, path)
        renamed = ", ".join(f"{ident(old)} AS {ident(new)}" for old, new in names.items())
        return SourceFile(path, columns, f"(SELECT {renamed} FROM {reader})")

    def rows(self, source: SourceFile, query: Callable[[str], str], stem: str = "rows") -> str:
        """Read ``source`` in one pass through ``query`` (given the SQL of the file's
        relation, it returns the SELECT of the columns to keep, computed row by row); return
        a relation of them with ``_row`` (the file's data row) and ``_file``. Rows deleted
        from it (:meth:`screen`) keep the others' numbers."""
        data, view = self.name(f"{stem}_data"), self.name(stem)
        try:
            # the table keeps the file's order: its rowid + 1 is the data row
            self.sql(f"CREATE TABLE {data} AS {query(source.sql)}")
        except duckdb.Error as exc:
            raise _read_error(source.path, exc) from exc
        self.sql(
            f"CREATE VIEW {view} AS SELECT rowid + 1 AS _row, {quote(str(source.path))} AS _file, "
            f"* FROM {data}"
        )
        self._backing[view] = data
        return view

    @staticmethod
    def _reader(path: Path) -> str:
        """SQL reading the file at ``path`` with every column as text."""
        literal = quote(str(path))
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            return f"(SELECT COLUMNS(*)::VARCHAR FROM read_parquet({literal}))"
        delim = "\\t" if delimiter(path) == "\t" else ","  # as _read_error() reads it
        nulls = ", ".join(quote(t) for t in NA_TEXTS)
        return (
            f"read_csv({literal}, all_varchar = true, header = true, delim = '{delim}', "
            f"quote = '\"', escape = '\"', nullstr = [{nulls}])"
        )

    # ----- values --------------------------------------------------------------------------
    @staticmethod
    def date(value: str) -> str:
        """SQL: the date a text ``value`` gives when it is ``YYYY-MM-DD`` (else NULL: other
        spellings are read by :meth:`read_dates`)."""
        return (
            f"CASE WHEN length({value}) = 10 "
            f"THEN CAST(try_strptime({value}, '%Y-%m-%d') AS DATE) END"
        )

    def read_dates(self, relation: str, pairs: list[tuple[str, str]]) -> None:
        """Fill the dates of ``relation`` that :meth:`date` left NULL: for each (text column,
        date column) of ``pairs``, every distinct text not read yet is read once by
        :func:`reawaken.cohort.sources.common.parse_date_text` (ISO 8601 with a time,
        ``DD/MM/YYYY``); a text that is no date stays NULL."""
        if not pairs:
            return
        parts = [
            f"SELECT {t} AS t FROM {relation} WHERE {d} IS NULL AND {t} IS NOT NULL"
            for t, d in pairs
        ]
        found = self.sql("SELECT DISTINCT t FROM (" + " UNION ALL ".join(parts) + ")").fetchdf()
        if not len(found):
            return
        spelled = pd.Series(found["t"].astype(object).tolist(), dtype=object)
        parsed = _parse_dates(spelled)
        frame = pd.DataFrame({"t": spelled, "d": parsed.dt.date.astype(object)})
        frame = frame[parsed.notna().to_numpy()]
        if not len(frame):
            return
        lookup = self.name("dates")
        self.sql(f"CREATE TABLE {lookup} (t VARCHAR, d DATE)")
        self.con.register("_spelled", frame)
        self.sql(f"INSERT INTO {lookup} SELECT t, d FROM _spelled")
        self.con.unregister("_spelled")
        table = self._backing.get(relation, relation)
        for t, d in pairs:
            self.sql(
                f"UPDATE {table} SET {d} = l.d FROM {lookup} l "
                f"WHERE {table}.{d} IS NULL AND l.t = {table}.{t}"
            )

    @staticmethod
    def date_check(date: str, value: str, column: str, table: str, *, required: bool) -> Check:
        """The check of a date column: ``value`` its text, ``date`` the date read from it
        (``missing date`` when ``required`` and blank; ``unparseable or impossible date``)."""
        blank = "TRUE" if required else "FALSE"
        return Check(
            bad=f"({value} IS NULL AND {blank}) OR ({value} IS NOT NULL AND {date} IS NULL)",
            reason=(
                f"CASE WHEN {value} IS NULL THEN 'missing date' "
                f"ELSE 'unparseable or impossible date ' || {value} END"
            ),
            column=quote(column),
            table=table,
        )

    def canonical(self, table: str, query: str, order: str, *, view: bool = False) -> str:
        """Create canonical table ``table`` from ``query`` (its canonical columns with
        provenance), ``order`` the SQL of each row's unique place (``_ord``, e.g.
        :func:`ordinal`); return its relation name. ``view``: a view, computed where it is
        read (nothing may be deleted from it; :meth:`result` cuts it by a filter)."""
        relation = self.name(f"cohort_{table}")
        typed = ", ".join(
            f"CAST({ident(c)} AS {TABLES[table].get(c, 'VARCHAR')}) AS {ident(c)}"
            for c in columns(table)
        )
        self.sql(
            f"CREATE {'VIEW' if view else 'TABLE'} {relation} AS SELECT {typed}, "
            "CAST(_file AS VARCHAR) AS _file, CAST(_row AS BIGINT) AS _row, "
            f"CAST(_column AS VARCHAR) AS _column, {order} AS _ord FROM ({query})"
        )
        if view:
            self._views.add(relation)
        return relation

    def empty(self, table: str) -> str:
        """An empty canonical table ``table`` (with provenance); its relation name."""
        relation = self.name(f"cohort_{table}")
        typed = ", ".join(f"{ident(c)} {TABLES[table].get(c, 'VARCHAR')}" for c in columns(table))
        self.sql(
            f"CREATE TABLE {relation} ({typed}, _file VARCHAR, _row BIGINT, _column VARCHAR, "
            "_ord BIGINT)"
        )
        return relation

    def classify(self, relation: str, column: str, roles: list[str], *, version: int = 10) -> str:
        """A relation mapping each distinct code of ``relation.column`` (``code``) to its value
        in each of ``roles`` (one column per role), by
        :func:`reawaken.cohort.codes.classify_icd` with the extract's concept sets."""
        lookup = self.name("codes")
        found = self.sql(
            f"SELECT DISTINCT {column} AS code FROM {relation} WHERE {column} IS NOT NULL"
        ).fetchdf()
        values = pd.Series(found["code"].astype(object).tolist(), dtype=object)
        frame = pd.DataFrame({"code": values})
        for role in roles:
            got = codes.classify_icd(values, role, version=version, extra=self.extract.concepts)
            frame[role] = got.astype(object).where(got.notna(), None)
        typed = ", ".join(f"{ident(c)} VARCHAR" for c in frame.columns)
        self.sql(f"CREATE TABLE {lookup} ({typed})")
        if len(frame):
            self.con.register("_codes", frame)
            self.sql(f"INSERT INTO {lookup} SELECT * FROM _codes")
            self.con.unregister("_codes")
        return lookup

    # ----- bad rows ------------------------------------------------------------------------
    def screen(
        self,
        relation: str,
        checks: list[Check],
        *,
        person: str,
        file: str = "_file",
        row: str = "_row",
        key: str = "_row",
        order: str = "_row",
        rows: str | None = None,
        group: str | None = None,
    ) -> int:
        """Report the rows of ``relation`` that fail a check, and delete them.

        A row is reported once, for the first check it fails; the reports come check by
        check (within ``group``, when given: e.g. a registry instance), each in ``order``, as
        the pandas importers reported them. ``rows`` is the SQL relation the checks read
        (default ``relation``; it may add columns, e.g. windows), ``key`` a column unique per
        row, ``person`` the SQL giving the row's person id (for the quarantine). Strict: the
        first bad row raises. Returns how many rows were deleted.
        """
        if not checks:
            return 0
        source = rows or relation
        which = "CASE " + " ".join(
            f"WHEN coalesce({c.bad}, false) THEN {k}" for k, c in enumerate(checks)
        )
        which += " END"
        reason = "CASE _k " + " ".join(f"WHEN {k} THEN {c.reason}" for k, c in enumerate(checks))
        column = "CASE _k " + " ".join(f"WHEN {k} THEN {c.column}" for k, c in enumerate(checks))
        flagged = f"(SELECT *, {which} AS _k FROM {source}) AS _flagged"
        first = f"{group}, " if group else ""
        limit = "" if self.issues.lenient else " LIMIT 1"
        bad = self.sql(
            f"SELECT _k, {reason} END, {file}, {row}, {column} END, {person} FROM {flagged} "
            f"WHERE _k IS NOT NULL ORDER BY {first}_k, {order}{limit}"
        ).fetchall()
        for k, message, in_file, at_row, in_column, person_id in bad:
            self.issues.report(
                message,
                table=checks[k].table,
                file=in_file,
                row=None if at_row is None else int(at_row),
                column=in_column,
                person_id=None if person_id is None else str(person_id),
            )
        if not bad:
            return 0
        table, own = relation, key
        if relation in self._backing:  # rows(): deleted from the table by row number
            table, own = self._backing[relation], "rowid + 1"
        self.sql(
            f"DELETE FROM {table} WHERE {own} IN (SELECT {key} FROM {flagged} WHERE _k IS NOT NULL)"
        )
        return len(bad)
