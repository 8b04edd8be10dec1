"""The cohort store: one DuckDB file holding the canonical tables of any number of imports.

Each import is stored under a source name (default: the source kind, one of
:func:`reawaken.cohort.sources.kinds`); every table has a ``source`` column. An import is all or
nothing: the files are read and validated first (UK Biobank and Flatiron by SQL in an
in-memory DuckDB database, which then writes the store directly; OMOP in pandas), then written
in one transaction, so a failure leaves the store as it was (a store file that did not exist
before is removed).
Importing a name that is already stored is refused unless ``replace=True``.

Python API for analyses (each method returns a pandas DataFrame; pass ``source=`` to restrict)::

    from reawaken.cohort import CohortStore
    store = CohortStore("reawaken.duckdb")
    store.person(); store.cancer_diagnosis(); store.follow_up()
    store.infection(); store.vaccination(); store.outcome(); store.quarantine()
    store.imports(); store.summary(min_cell=10)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from reawaken.cohort import linking, sources
from reawaken.cohort.codes import check_concepts
from reawaken.cohort.defaults import DEFAULT_PATH
from reawaken.cohort.schema import QUARANTINE_COLUMNS, TABLES, Issues, columns, empty, finalize
from reawaken.cohort.sources import sql_validate
from reawaken.cohort.sources.common import Extract, SourceTables
from reawaken.cohort.sources.sql_import import SqlTables
from reawaken.cohort.sources.sql_validate import Validated
from reawaken.cohort.summary import summarise
from reawaken.errors import InputError
from reawaken.io import duckdb_connect
from reawaken.suppression import DEFAULT_MIN_CELL

_IMPORTS_DDL = """CREATE TABLE IF NOT EXISTS imports (
    source VARCHAR PRIMARY KEY, kind VARCHAR, path VARCHAR, imported_at TIMESTAMP,
    lenient BOOLEAN, censor_date DATE, n_after_censor INTEGER, n_quarantined INTEGER)"""
_IMPORTS_LINK = "ALTER TABLE imports ADD COLUMN IF NOT EXISTS link VARCHAR"  # older stores
_FILES_DDL = """CREATE TABLE IF NOT EXISTS import_files (
    source VARCHAR, file VARCHAR, sha256 VARCHAR)"""
_QUARANTINE_DDL = """CREATE TABLE IF NOT EXISTS quarantine (
    source VARCHAR, table_name VARCHAR, person_id VARCHAR, file VARCHAR, "row" INTEGER,
    "column" VARCHAR, reason VARCHAR)"""


def _ddl(table: str) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in TABLES[table].items())
    return f"CREATE TABLE IF NOT EXISTS {table} (source VARCHAR, person_id VARCHAR, {cols})"


class AlreadyStored(InputError):
    """An import under a name the store already holds (pass ``replace=True`` to replace it).

    An :class:`~reawaken.errors.InputError`; the command line adds its flag names.

    Parameters
    ----------
    name : str
        The source name asked for (kept as ``name``).
    store : pathlib.Path
        The store's file (the error's ``file``).

    Examples
    --------
    >>> from reawaken.cohort import AlreadyStored, CohortStore, generate
    >>> truth = generate("flatiron", 300, 1, "synthetic")
    >>> store = CohortStore("cohort.duckdb")
    >>> store.import_source("flatiron", "synthetic").source
    'flatiron'
    >>> try:
    ...     store.import_source("flatiron", "synthetic")
    ... except AlreadyStored as err:
    ...     print(err.name, "|", err.reason)
    flatiron | source 'flatiron' is already in the store (pass replace=True to replace it, or
    another name to store it under)
    >>> store.import_source("flatiron", "synthetic", replace=True).rows["person"]
    300
    """

    def __init__(self, name: str, store: Path) -> None:
        self.name = name
        super().__init__(
            f"source {name!r} is already in the store (pass replace=True to replace it, or "
            "another name to store it under)",
            file=store,
        )


@dataclass(frozen=True)
class ImportResult:
    """What one import stored (returned by :meth:`CohortStore.import_source`).

    Parameters
    ----------
    source : str
        The name the import is stored under.
    rows : dict of str to int
        Rows stored per canonical table.
    n_quarantined : int
        Rows a lenient import left out (the ``quarantine`` table).
    censor_date : pandas.Timestamp or None
        The date follow-up was ended at, if any (the one asked for, or a source's own).
    n_after_censor : int
        Records after the censor date, left out.

    Examples
    --------
    >>> from reawaken.cohort import CohortStore, generate
    >>> truth = generate("flatiron", 300, 1, "synthetic")
    >>> CohortStore("cohort.duckdb").import_source("flatiron", "synthetic")
    ImportResult(source='flatiron', rows={'person': 300, 'cancer_diagnosis': 300,
    'follow_up': 300, 'infection': 70, 'vaccination': 0, 'outcome': 80}, n_quarantined=0,
    censor_date=None, n_after_censor=0)
    """

    source: str
    rows: dict[str, int]
    n_quarantined: int
    censor_date: pd.Timestamp | None
    n_after_censor: int


def read_source(
    kind: str,
    path: str | Path,
    *,
    lenient: bool = False,
    censor_date: str | pd.Timestamp | None = None,
    concepts: str | Path | None = None,
    engine: str | None = None,
    cdm_schema: str | None = None,
):
    """Read and validate one source extract without storing it.

    Parameters
    ----------
    kind : str
        A registered source kind (:func:`reawaken.cohort.sources.kinds`: ``ukb``,
        ``flatiron``, ``omop`` or one registered).
    path : str or pathlib.Path
        The extract: a folder with one file per table (``.csv``, ``.tsv`` or ``.parquet``),
        for OMOP also a DuckDB file or a database (:func:`reawaken.cohort.sources.omop.
        read_database`: ``postgresql://user@host:port/db``, ``sc://host:port``, ``local``).
    lenient : bool, default False
        Leave bad rows out and report them (else the first bad row raises).
    censor_date : str or pandas.Timestamp, optional
        End follow-up at this date (``YYYY-MM-DD``); later records are left out and counted.
    concepts : str or pathlib.Path, optional
        A folder of concept files whose rows are added to the packaged concept sets.
    engine : {"duckdb", "postgres", "spark"}, optional
        OMOP only: the engine holding the CDM (default: from ``path``).
    cdm_schema : str, optional
        OMOP only: the CDM's schema in that database.

    Returns
    -------
    raw : reawaken.cohort.sources.common.SourceTables
        The tables as read, with their provenance, censor date and records left out.
    tables : dict of str to pandas.DataFrame
        The validated canonical tables.
    issues : reawaken.cohort.schema.Issues
        The rows left out (``issues.frame()``: the quarantine table), when lenient.

    Raises
    ------
    InputError
        If the kind is unknown; the censor date is not a date; the concepts folder is missing
        or holds no concept file; or, when strict, a file, column or row is bad (the message
        names the file, row, column and reason).

    Examples
    --------
    >>> from reawaken.cohort import generate, read_source
    >>> truth = generate("flatiron", 300, 1, "synthetic")
    >>> raw, tables, issues = read_source("flatiron", "synthetic")
    >>> {name: len(frame) for name, frame in tables.items()}
    {'person': 300, 'cancer_diagnosis': 300, 'follow_up': 300, 'infection': 70,
    'vaccination': 0, 'outcome': 80}
    >>> len(issues.frame())
    0
    """
    raw, tables, issues, _ = _read_validated(
        kind,
        path,
        lenient=lenient,
        censor_date=censor_date,
        concepts=concepts,
        engine=engine,
        cdm_schema=cdm_schema,
    )
    try:
        return raw, {name: _as_frame(raw, table) for name, table in tables.items()}, issues
    finally:
        if isinstance(raw, SqlTables):
            raw.con.close()


def _read_validated(
    kind: str,
    path: str | Path,
    *,
    lenient: bool = False,
    censor_date: str | pd.Timestamp | None = None,
    concepts: str | Path | None = None,
    engine: str | None = None,
    cdm_schema: str | None = None,
) -> tuple[SourceTables | SqlTables, dict[str, pd.DataFrame | Validated], Issues, str | None]:
    """:func:`read_source` with the validated tables where the importer made them: in
    DuckDB for an importer working there (validated by SQL; the caller closes ``raw.con``),
    pandas DataFrames for one working in pandas; and, for a CDM read in a database, the
    engine, host and schema it was read from (never a password)."""
    source = sources.get(kind)
    cut = None
    if censor_date is not None:
        cut = pd.to_datetime(censor_date, format="%Y-%m-%d", errors="coerce")
        if pd.isna(cut):
            raise InputError(f"censor date '{censor_date}' is not a date (YYYY-MM-DD)")
    check_concepts(concepts)
    issues = Issues(lenient=lenient, id_column=source.id_column)
    extras = None if concepts is None else Path(concepts)
    described = None
    if engine is not None or cdm_schema is not None or "://" in str(path):
        if kind != "omop":
            raise InputError(f"only the omop source reads from a database, not {kind}: {path}")
        raw, described = source.read_database(
            str(path), issues, engine=engine, schema=cdm_schema, censor_date=cut, concepts=extras
        )
    else:
        raw = source.read(Extract(Path(path), issues, censor_date=cut, concepts=extras))
    if isinstance(raw, SqlTables):
        try:
            return raw, sql_validate.finalize(raw), issues, described
        except BaseException:
            raw.con.close()
            raise
    return raw, finalize(raw.tables, issues), issues, described


def _as_frame(raw: SourceTables | SqlTables, table: pd.DataFrame | Validated) -> pd.DataFrame:
    """A validated table as a pandas DataFrame typed as :func:`reawaken.cohort.schema.empty`
    types it (dates ``datetime64[ns]``, years ``Int64``, flags ``boolean``)."""
    if isinstance(table, pd.DataFrame):
        return table
    frame = raw.con.sql(table.select()).df()
    for column, dtype in empty(table.table).dtypes.items():
        if column not in frame:
            continue
        if str(dtype).startswith("datetime64"):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        elif str(dtype) in ("Int64", "boolean"):
            frame[column] = frame[column].astype(str(dtype))
        else:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def _kept_apart(
    tables: dict[str, pd.DataFrame | Validated], name: str
) -> dict[str, pd.DataFrame | Validated]:
    """The tables with every person id prefixed by the source ``name`` (link ``distinct``)."""
    if all(isinstance(frame, Validated) for frame in tables.values()):
        return {table: frame.apart(name) for table, frame in tables.items()}
    return linking.kept_apart(tables, name)


def _overlaps(con: duckdb.DuckDBPyConnection, ids: str, files: str) -> list[linking.Overlap]:
    """What a new import shares with each stored source: person ids (``ids``: SQL of a
    relation with ``person_id``) and identical files (``files``: a relation of ``file,
    sha256``)."""
    shared_ids = con.execute(
        f"SELECT source, person_id FROM person WHERE person_id IN (SELECT person_id FROM {ids}) "
        "ORDER BY source, person_id"
    ).df()
    shared_files = con.execute(
        "SELECT i.source, n.file AS new_file, i.file FROM import_files i "
        f"JOIN {files} n USING (sha256) ORDER BY i.source, n.file"
    ).df()
    out = []
    for source in sorted(set(shared_ids["source"]) | set(shared_files["source"])):
        ids = shared_ids.loc[shared_ids["source"] == source, "person_id"].tolist()
        same = shared_files[shared_files["source"] == source]
        pairs = list(zip(same["new_file"], same["file"], strict=True))
        out.append(linking.Overlap(source, ids[:3], len(ids), pairs))
    return out


def _literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _reader(name: str, note: str = "") -> Callable[..., pd.DataFrame]:
    """The method reading table ``name`` (:meth:`CohortStore.table`), optionally of one source."""

    def read(self: CohortStore, source: str | None = None) -> pd.DataFrame:
        return self.table(name, source)

    shown = QUARANTINE_COLUMNS if name == "quarantine" else ["source", *columns(name)]
    read.__name__ = read.__qualname__ = name
    read.__doc__ = f"``{', '.join(shown)}``" + (f" ({note})." if note else ".")
    return read


class CohortStore:
    """A DuckDB cohort store: the canonical tables of any number of imports, in one file.

    Every table has a ``source`` column (the name an import is stored under) and a
    ``person_id``; the readers return pandas DataFrames with dates as ``datetime64`` and
    take ``source=`` to restrict to one import. Reading opens the file read-only.

    Parameters
    ----------
    path : str or pathlib.Path, default "reawaken.duckdb"
        The store's file (created by the first import).

    Attributes
    ----------
    path : pathlib.Path
        The store's file.

    Examples
    --------
    >>> from reawaken.cohort import CohortStore, generate
    >>> truth = generate("flatiron", 300, 1, "synthetic")  # a synthetic Flatiron extract
    >>> store = CohortStore("cohort.duckdb")
    >>> store.import_source("flatiron", "synthetic").rows["infection"]
    70
    >>> store.sources()
    ['flatiron']
    >>> store.follow_up().columns.tolist()
    ['source', 'person_id', 'start_date', 'end_date', 'end_reason']
    >>> store.query("SELECT pathogen, count(*) AS n FROM infection GROUP BY 1 ORDER BY 1")
                pathogen   n
    0          influenza  14
    1  other-respiratory  13
    2                rsv   2
    3         sars-cov-2  41
    >>> summary = store.summary(min_cell=10)  # counts from 1 to 9 hidden (None)
    >>> summary["persons"], summary["person_years"], summary["infections"]["rsv"]
    (300, 1425.25, None)
    """

    def __init__(self, path: str | Path = DEFAULT_PATH) -> None:
        self.path = Path(path)

    # ----- writing -------------------------------------------------------------------------
    def import_source(
        self,
        kind: str,
        path: str | Path,
        *,
        name: str | None = None,
        replace: bool = False,
        lenient: bool = False,
        censor_date: str | pd.Timestamp | None = None,
        concepts: str | Path | None = None,
        link: str | None = None,
        engine: str | None = None,
        cdm_schema: str | None = None,
    ) -> ImportResult:
        """Read, validate and store one source extract, all or nothing.

        The files are read and validated first (by SQL in DuckDB for the UK Biobank and
        Flatiron layouts), then written in one transaction: a failure leaves the store as it
        was (a store file that did not exist is removed).
        The SHA-256 of every file read is recorded (the ``import_files`` table). An import
        whose person ids are already stored under another source, or whose files are
        identical to a stored import's (under any name), is refused unless ``link`` says
        how its persons relate to the stored ones (:mod:`reawaken.cohort.linking`).

        Parameters
        ----------
        kind : str
            A registered source kind (:func:`reawaken.cohort.sources.kinds`).
        path : str or pathlib.Path
            The extract: a folder with one file per table, for OMOP also a DuckDB file.
        name : str, optional
            The name to store it under (default: ``kind``).
        replace : bool, default False
            Replace an import stored under the same name.
        lenient : bool, default False
            Leave bad rows out (the ``quarantine`` table) instead of refusing the import.
        censor_date : str or pandas.Timestamp, optional
            End follow-up at this date (``YYYY-MM-DD``); later records are left out.
        concepts : str or pathlib.Path, optional
            A folder of concept files whose rows are added to the packaged concept sets.
        link : {"same-person", "distinct"}, optional
            How the import's persons relate to those already stored, when ids or files are
            shared: ``same-person`` (merged, counted once) or ``distinct`` (separate id
            spaces: the ids are stored prefixed by ``name``, ``site-b:123``).
        engine : {"duckdb", "postgres", "spark"}, optional
            OMOP only: the engine holding the CDM (default: from ``path``: a
            ``postgresql://`` or ``sc://`` URL is read in that database, see
            :func:`read_source`); the import records the engine, host and schema as its path.
        cdm_schema : str, optional
            OMOP only: the CDM's schema in that database.

        Returns
        -------
        ImportResult
            Rows stored per table, rows quarantined, the censor date.

        Raises
        ------
        AlreadyStored
            If ``name`` is stored and ``replace`` is false.
        reawaken.cohort.linking.Unlinked
            If person ids or identical files are shared with a stored source and ``link`` is
            None (the message names the ids, the files and the source).
        InputError
            If the kind is unknown, the input is bad (see :func:`read_source`) or the store
            cannot be opened.
        """
        name = name or kind
        linking.check_link(link)
        if "://" not in str(path) and Path(path).resolve() == self.path.resolve():
            raise InputError(
                "the cohort store cannot be the extract's own file (nothing is written to the "
                "extract): store the import in another file",
                file=self.path,
            )
        if self.path.exists() and not replace and name in self._stored_sources():
            raise AlreadyStored(name, self.path)
        raw, tables, issues, described = _read_validated(
            kind,
            path,
            lenient=lenient,
            censor_date=censor_date,
            concepts=concepts,
            engine=engine,
            cdm_schema=cdm_schema,
        )
        if link == linking.DISTINCT:
            tables = _kept_apart(tables, name)
        files = {} if described is not None else linking.checksums(Path(path))
        quarantine = issues.frame()
        existed = self.path.exists()
        try:
            con = self._open_for_import(raw)
        except BaseException:
            if isinstance(raw, SqlTables):
                raw.con.close()
            raise
        # small frames are registered before the transaction, which writes the store only
        checked = pd.DataFrame({"file": list(files), "sha256": list(files.values())})
        incoming = {"_quarantine": quarantine, "_files": checked}
        if isinstance(tables["person"], pd.DataFrame):
            incoming["_person"] = tables["person"]
        try:
            for view, frame in incoming.items():
                con.register(view, frame)
            con.execute("BEGIN TRANSACTION")
            for table in TABLES:
                con.execute(_ddl(table))
            con.execute(_IMPORTS_DDL)
            con.execute(_IMPORTS_LINK)
            con.execute(_QUARANTINE_DDL)
            con.execute(_FILES_DDL)
            stored = {r[0] for r in con.execute("SELECT source FROM imports").fetchall()}
            if name in stored and not replace:
                raise AlreadyStored(name, self.path)
            for table in [*TABLES, "quarantine", "imports", "import_files"]:
                con.execute(f"DELETE FROM {table} WHERE source = ?", [name])
            person = tables["person"]
            ids = (
                f"(SELECT {person.person_id()} AS person_id FROM {person.relation})"
                if isinstance(person, Validated)
                else "_person"
            )
            overlaps = _overlaps(con, ids, "_files")
            if overlaps and link is None:
                raise linking.Unlinked(name, overlaps, self.path)
            stored_rows = {
                table: self._insert(con, table, frame, name, columns(table))
                for table, frame in tables.items()
            }
            self._insert(con, "quarantine", "_quarantine", name, QUARANTINE_COLUMNS)
            self._insert(con, "import_files", "_files", name, ["file", "sha256"])
            con.execute(
                "INSERT INTO imports (source, kind, path, imported_at, lenient, censor_date, "
                "n_after_censor, n_quarantined, link) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    name,
                    kind,
                    described or str(Path(path).resolve()),
                    # this machine's local time, whatever the time zone of the SQL session
                    datetime.now(),
                    lenient,
                    None if raw.censor_date is None else raw.censor_date.date(),
                    raw.n_after_censor,
                    len(quarantine),
                    link,
                ],
            )
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            con.close()
            if not existed:
                self.path.unlink(missing_ok=True)
                Path(str(self.path) + ".wal").unlink(missing_ok=True)
            raise
        con.close()
        return ImportResult(
            name,
            stored_rows,
            len(quarantine),
            raw.censor_date,
            raw.n_after_censor,
        )

    def _open_for_import(self, raw: SourceTables | SqlTables) -> duckdb.DuckDBPyConnection:
        """A connection writing the store: for tables validated in DuckDB, the importer's own
        connection with the store attached and in use (the tables go from one database to
        the other without leaving DuckDB), else a connection to the store."""
        try:
            if not isinstance(raw, SqlTables):
                return duckdb_connect(str(self.path))
            raw.con.execute(f"ATTACH {_literal(str(self.path))} AS cohort_store")
            raw.con.execute("USE cohort_store")
            return raw.con
        except duckdb.Error as exc:
            raise InputError(f"cannot open cohort store: {exc}", file=self.path) from exc

    @staticmethod
    def _insert(
        con: duckdb.DuckDBPyConnection,
        table: str,
        frame: pd.DataFrame | Validated | str,
        name: str,
        cols: list[str],
    ) -> int:
        """Insert the ``cols`` of ``frame`` into ``table`` under source ``name``: a table
        validated in DuckDB (inserted from there, in order), a DataFrame (read in place) or
        the name of a registered one. Returns how many rows were inserted."""
        quoted = ", ".join(f'"{c}"' for c in cols)
        into = f'INSERT INTO {table} ("source", {quoted}) '
        if isinstance(frame, Validated):
            return con.execute(into + frame.select(first="?, "), [name]).fetchall()[0][0]
        if isinstance(frame, str):
            return con.execute(into + f"SELECT ?, {quoted} FROM {frame}", [name]).fetchall()[0][0]
        if len(frame) == 0:
            return 0
        con.register("_incoming", frame)
        inserted = con.execute(into + f"SELECT ?, {quoted} FROM _incoming", [name])
        count = inserted.fetchall()[0][0]
        con.unregister("_incoming")
        return count

    # ----- reading -------------------------------------------------------------------------
    def _connect(self) -> duckdb.DuckDBPyConnection:
        if not self.path.exists():
            raise InputError("no cohort store here (import a source first)", file=self.path)
        try:
            return duckdb_connect(str(self.path), read_only=True)
        except duckdb.Error as exc:
            raise InputError(f"cannot open cohort store: {exc}", file=self.path) from exc

    def _stored_sources(self) -> set[str]:
        con = self._connect()
        try:
            found = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'imports'"
            ).fetchone()[0]
            if not found:
                return set()
            return {r[0] for r in con.execute("SELECT source FROM imports").fetchall()}
        finally:
            con.close()

    def sources(self) -> list[str]:
        """The names of the stored sources, sorted.

        Raises
        ------
        InputError
            If there is no store at :attr:`path` or it cannot be opened.
        """
        return sorted(self._stored_sources())

    def check_source(self, source: str | None) -> None:
        """Refuse a source name that is not stored.

        Parameters
        ----------
        source : str or None
            A stored source name (None: all sources, always accepted).

        Raises
        ------
        InputError
            If ``source`` is not stored (the message names the stored ones).
        """
        if source is None:
            return
        stored = self.sources()
        if source not in stored:
            listed = ", ".join(stored) if stored else "none yet: import a source first"
            raise InputError(
                f"source {source!r} is not in the cohort store (stored sources: {listed})",
                file=self.path,
            )

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run a read-only SQL query against the store.

        Parameters
        ----------
        sql : str
            A DuckDB query over the tables (``person``, ..., ``quarantine``, ``imports``).
        params : list, optional
            Values for the ``?`` placeholders of ``sql``.

        Returns
        -------
        pandas.DataFrame
            The result.

        Raises
        ------
        InputError
            If there is no store at :attr:`path` or it cannot be opened.
        duckdb.Error
            If the query fails (or tries to write).
        """
        con = self._connect()
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    def table(self, name: str, source: str | None = None) -> pd.DataFrame:
        """One stored table, ordered by source and person id (a person's rows as imported).

        Parameters
        ----------
        name : str
            A canonical table (:data:`reawaken.cohort.TABLES`), ``quarantine`` or ``imports``.
        source : str, optional
            Only the rows of this stored source.

        Returns
        -------
        pandas.DataFrame
            ``source``, ``person_id`` and the table's columns; dates as ``datetime64``.

        Raises
        ------
        InputError
            If the table or the source is unknown, or there is no store at :attr:`path`.
        """
        if name not in (*TABLES, "quarantine", "imports"):
            raise InputError(f"no table {name!r} in a cohort store")
        self.check_source(source)
        frame = self._read(name, source)
        if source is None and name in TABLES and self._linked_as_same_person():
            return self._merged({name: frame})[name]
        return frame

    def _read(self, name: str, source: str | None = None) -> pd.DataFrame:
        """Table ``name`` as stored (dates as ``datetime64``), of one source or all: by source
        and person, a person's rows in the order they were imported (the validated order:
        by date, then as read)."""
        order = "source" if name == "imports" else "source, person_id, rowid"
        where, params = ("WHERE source = ?", [source]) if source is not None else ("", [])
        frame = self.query(f"SELECT * FROM {name} {where} ORDER BY {order}", params)
        for col, kind in TABLES.get(name, {}).items():
            if kind == "DATE":
                frame[col] = pd.to_datetime(frame[col])
        return frame

    def _linked_as_same_person(self) -> bool:
        imports = self._read("imports")
        return "link" in imports and bool((imports["link"] == linking.SAME_PERSON).any())

    def _merged(self, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """``tables`` (of the whole store) with each person linked as the same person once."""
        person = self.query("SELECT source, person_id FROM person")
        return linking.merge_linked(tables, person, self._read("imports"))

    # one reader per table, its docstring listing the table's columns (schema.TABLES)
    person = _reader("person")
    cancer_diagnosis = _reader("cancer_diagnosis")
    follow_up = _reader("follow_up", "one row per person")
    infection = _reader("infection", "episodes")
    vaccination = _reader("vaccination")
    outcome = _reader("outcome")
    quarantine = _reader("quarantine", "rows a lenient import left out")

    def imports(self) -> pd.DataFrame:
        """One row per stored source: kind, path, time, lenient, censor date, counts."""
        return self.table("imports")

    def record(self) -> dict:
        """What an analysis read, for its records: the store's path and, per stored source,
        its kind, the path and time of its import, how it was linked, and one SHA-256 over
        the checksums of the files imported (equal for the same files, whatever their names).

        Returns
        -------
        dict
            ``path`` and ``imports`` (a list of dicts, one per source).

        Raises
        ------
        OSError
            If the store cannot be opened.

        Examples
        --------
        >>> from reawaken.cohort import CohortStore
        >>> record = CohortStore("empty.duckdb").record()
        >>> record["imports"]
        []
        """
        if not self._stored_sources():
            return {"path": str(Path(self.path).resolve()), "imports": []}
        files = self.query("SELECT source, sha256 FROM import_files")
        out = []
        for row in self.imports().itertuples(index=False):
            digests = sorted(files.loc[files["source"] == row.source, "sha256"])
            link = getattr(row, "link", None)
            out.append(
                {
                    "source": row.source,
                    "kind": row.kind,
                    "path": row.path,
                    "imported_at": str(row.imported_at),
                    "link": None if pd.isna(link) else link,
                    "files": len(digests),
                    "files_sha256": hashlib.sha256("".join(digests).encode()).hexdigest(),
                }
            )
        return {"path": str(Path(self.path).resolve()), "imports": out}

    def summary(self, *, min_cell: int = DEFAULT_MIN_CELL, source: str | None = None) -> dict:
        """Aggregate counts of the store, with small counts suppressed.

        Parameters
        ----------
        min_cell : int, default 10
            Counts from 1 to ``min_cell - 1`` are replaced by None (0 shows everything).
        source : str, optional
            Only this stored source.

        Returns
        -------
        dict
            ``sources``, ``min_cell``, ``persons``, ``person_years``, ``tables``,
            ``infections``, ``infections_by_month``, ``events``, ``outcomes``,
            ``quarantined`` (see :mod:`reawaken.cohort.summary`; printed by
            :func:`reawaken.cohort.format_summary`).

        Raises
        ------
        InputError
            If the source is not stored or there is no store at :attr:`path`.
        """
        self.check_source(source)
        merged = {}
        if self._linked_as_same_person():  # each linked person once
            merged = self._merged({t: self._read(t) for t in TABLES})
        con = self._connect()  # one read-only connection for all the queries
        try:
            for table, frame in merged.items():
                dates = [c for c, kind in TABLES[table].items() if kind == "DATE"]
                con.register(f"linked_{table}", _as_dates(frame, dates))
            relations = {t: f"linked_{t}" for t in merged}
            return summarise(con, min_cell=min_cell, source=source, relations=relations)
        finally:
            con.close()


def _as_dates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with its ``columns`` as calendar dates (DuckDB reads them as DATE)."""
    return frame.assign(**{c: frame[c].dt.date for c in columns})
