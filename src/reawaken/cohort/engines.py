"""Where an OMOP CDM is read: DuckDB (a folder of table files or a DuckDB database file),
PostgreSQL (``postgresql://user@host:port/db``) or Spark (a local session, or Spark Connect
``sc://host:port``).

An engine knows the CDM's tables and their columns (:meth:`Engine.table`), runs one query and
streams its result back as Arrow record batches (:meth:`Engine.batches`), and describes itself
as engine, host and schema without a password (:meth:`Engine.describe`: this text goes to the
store's import record and to logs). Engines only read: a PostgreSQL session is set read-only
before its first query.

Every engine reads the CDM in UTC (DuckDB's ``TimeZone``, PostgreSQL's ``TIME ZONE``, Spark's
``spark.sql.session.timeZone``), so that a date stored as a ``TIMESTAMP WITH TIME ZONE`` is
its UTC date whatever the time zone of the machine, the server or the session (a Spark
session found active is given back in its own time zone).

Credentials are never taken from the command line: a PostgreSQL URL holding a password is
refused; libpq finds it in ``PGPASSWORD``, the password file (``~/.pgpass`` or
``PGPASSFILE``) or a service file (``PGSERVICEFILE``, ``?service=name``). A Spark Connect
URL holding a token is refused too; the token comes from ``SPARK_REMOTE`` (the same URL with
``;token=...``).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import pyarrow as pa

from reawaken.cohort.sources import common
from reawaken.cohort.sources.sql_import import NA_TEXTS
from reawaken.errors import InputError
from reawaken.io import duckdb_connect, scratch_prefix

ENGINES = ("duckdb", "postgres", "spark")

#: Rows fetched from Spark Connect at a time (assumed: about 10 columns of ids, dates and
#: short texts, ~100 MB of Arrow; a larger result is fetched in parts split by a hash).
#: ``REAWAKEN_CONNECT_ROWS`` overrides it.
CONNECT_ROWS = 1_000_000


def connect_rows() -> int:
    """Rows fetched from Spark Connect at a time: ``REAWAKEN_CONNECT_ROWS`` or
    :data:`CONNECT_ROWS`."""
    given = os.environ.get("REAWAKEN_CONNECT_ROWS")
    if given is None:
        return CONNECT_ROWS
    if not given.strip().isdigit() or int(given) < 1:
        raise InputError(f"REAWAKEN_CONNECT_ROWS must be a whole number above 0, not {given!r}")
    return int(given)


@dataclass(frozen=True)
class Table:
    """One CDM table as an engine sees it.

    Parameters
    ----------
    name : str
        The OMOP table name, lower case.
    ref : str
        How a query names it (quoted).
    label : str
        Where a row came from, in messages: the file, or ``schema.table``.
    columns : dict of str to tuple of (str, str)
        Lower-case column name -> (name as stored, kind: ``text``, ``integer``, ``float``,
        ``date``, ``timestamp`` or ``other``).
    row : str
        SQL giving a row's number in messages: the data row of a file, the ``rowid`` of a
        DuckDB table, the record's id (``measurement_id``) in a database; ``NULL`` if none.
    """

    name: str
    ref: str
    label: str
    columns: dict[str, tuple[str, str]]
    row: str = "NULL"


def translate(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB's dialect) in ``dialect`` (``duckdb``, ``postgres``, ``spark``).

    Examples
    --------
    >>> translate("SELECT regexp_matches(x, '^[0-9]') FROM cdm.person", "spark")
    "SELECT x RLIKE '^[0-9]' FROM cdm.person"
    >>> translate("SELECT regexp_matches(x, '^[0-9]') FROM cdm.person", "postgres")
    "SELECT x ~ '^[0-9]' FROM cdm.person"
    """
    if dialect == "duckdb":
        return sql
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write=dialect)[0]


def kind_of(type_name: str) -> str:
    """The kind of a column type as an engine names it (``character varying`` -> ``text``)."""
    t = type_name.lower()
    if any(w in t for w in ("char", "text", "string")):
        return "text"
    if t.startswith("timestamp"):
        return "timestamp"
    if t == "date":
        return "date"
    if re.search(r"int|long|short|byte", t):
        return "integer"
    if re.search(r"double|float|real|decimal|numeric", t):
        return "float"
    return "other"


#: One part of a schema's name: letters (any script), digits, ``_``, ``$`` and ``-``.
_NAME_PART = re.compile(r"[\w$-]+")


def schema_parts(schema: str, dialect: str) -> tuple[str, ...]:
    """The parts of the CDM schema's name: ``(schema,)``, or on Spark also
    ``(catalog, schema)`` (``main.cdm`` in Unity Catalog, ``spark_catalog.cdm``); an
    InputError for any other name.

    Examples
    --------
    >>> schema_parts("main.cdm", "spark")
    ('main', 'cdm')
    >>> schema_parts("cdm54", "postgres")
    ('cdm54',)
    >>> schema_parts("main.cdm", "postgres")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: the CDM schema 'main.cdm' names a catalog and a schema ...
    """
    parts = tuple(schema.split("."))
    if not all(_NAME_PART.fullmatch(p) for p in parts) or len(parts) > 2:
        raise InputError(
            f"the CDM schema {schema!r} is not a schema name (accepted: letters, digits, _, $ "
            "and -; on Spark also catalog.schema)"
        )
    if len(parts) == 2 and dialect != "spark":
        raise InputError(
            f"the CDM schema {schema!r} names a catalog and a schema (catalog.schema), which "
            "only Spark reads: give the schema alone"
        )
    return parts


def _quoted(*parts: str) -> str:
    """A qualified name in DuckDB's dialect, each part quoted (``"main"."cdm"."person"``)."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


@dataclass
class Engine:
    """An open connection to a CDM (made by :func:`connect`)."""

    dialect: str
    where: str
    schema: str | None = None
    tables: dict[str, Table] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        """The CDM table ``name`` (lower case), or None when absent."""
        return self.tables.get(name)

    def missing_table(self, name: str) -> InputError:
        """The error for a required table that is absent."""
        return InputError(f"table {name} not found in {self.place()}")

    def place(self) -> str:
        """Where tables are looked for, in messages."""
        return f"schema {self.schema} of {self.where}" if self.schema else self.where

    def describe(self) -> str:
        """Engine, host and schema, never a password (for the import record and logs)."""
        schema = f" schema {self.schema}" if self.schema else ""
        return f"{self.dialect} {self.where}{schema}"

    def batches(self, sql: str) -> pa.RecordBatchReader:
        """Run ``sql`` (in this engine's dialect) and stream its rows as Arrow batches."""
        raise NotImplementedError

    @contextmanager
    def rows_into(self, con, sql: str) -> Iterator[str]:
        """The rows of ``sql`` (in this engine's dialect) as a relation that ``con``, an
        import's DuckDB connection, reads once: here the Arrow batches of :meth:`batches`,
        registered on ``con`` while the relation is in use."""
        con.register("_arriving", self.batches(sql))
        try:
            yield "_arriving"
        finally:
            con.unregister("_arriving")

    def import_connection(self):
        """A DuckDB connection the import may work in (so that one memory limit bounds the
        CDM's tables and the import's), or None: the import opens its own."""
        return None

    def frame(self, sql: str) -> pd.DataFrame:
        """The result of ``sql`` as a DataFrame: dates as ``datetime64[ns]``, text as objects
        (None where missing)."""
        return _to_pandas(self.batches(sql).read_all())

    def nonempty(self, names: tuple[str, ...]) -> set[str]:
        """Which of the tables ``names`` (present ones) hold a row, found by one query."""
        present = [self.tables[n] for n in names if n in self.tables]
        if not present:
            return set()
        sql = " UNION ALL ".join(
            f"SELECT * FROM (SELECT '{t.name}' AS name FROM {t.ref} LIMIT 1) AS t{k}"
            for k, t in enumerate(present)
        )
        return set(self.frame(translate(sql, self.dialect))["name"])

    def close(self) -> None:
        """Close the connection."""


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas(date_as_object=False)
    for name, typ in zip(table.column_names, table.schema.types, strict=True):
        if pa.types.is_date(typ) or pa.types.is_timestamp(typ):
            frame[name] = frame[name].astype("datetime64[ns]")
        elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
            col = frame[name].astype(object)
            frame[name] = col.where(col.notna(), None)
    return frame


# ----- DuckDB --------------------------------------------------------------------------------
#: The name a CDM in a DuckDB file is attached under (read-only) in the import's connection.
CDM_FILE = "reawaken_cdm"


class DuckDBEngine(Engine):
    """DuckDB over a folder of table files (read as text, as a spreadsheet shows them) or a
    DuckDB database file (attached read-only), in an in-memory connection whose memory is
    bounded (:func:`limit_memory`)."""

    def __init__(self, path: Path, names: tuple[str, ...], schema: str | None = None) -> None:
        import duckdb

        if schema is not None:
            schema_parts(schema, "duckdb")
        super().__init__("duckdb", str(path), schema)
        self._handed = False  # the connection handed to an import (import_connection)
        self._duckdb = duckdb
        if path.is_dir():
            self.con = duckdb_connect()
            try:
                limit_memory(self.con)  # the tables read spill to disk beyond the limit
                _in_utc(self.con)
                for name in names:
                    file = common.find_table(path, name, required=False)
                    if file is not None:
                        self._load_file(name, file)
            except BaseException:
                self.con.close()
                raise
        elif path.is_file():
            self.con = duckdb_connect()
            try:
                limit_memory(self.con)  # the queries' sorts and joins spill beyond the limit
                _in_utc(self.con)
                self.con.execute(f"ATTACH {_literal(str(path))} AS {CDM_FILE} (READ_ONLY)")
                self._catalog(path, names)
            except BaseException as exc:
                self.con.close()
                if isinstance(exc, duckdb.Error):
                    raise InputError(f"not a DuckDB database: {_line(exc)}", file=path) from exc
                raise
        else:
            raise InputError("not a folder of source tables or a DuckDB file", file=path)

    def _load_file(self, name: str, file: Path) -> None:
        """Copy one table file into a temporary table, its rows numbered as in the file."""
        suffix = file.suffix.lower()
        quoted = str(file).replace("'", "''")
        if suffix == ".parquet":
            reader = f"read_parquet('{quoted}')"
        else:
            delim = "\\t" if delimiter(file) == "\t" else ","
            nulls = ", ".join("'" + v.replace("'", "''") + "'" for v in NA_TEXTS)
            reader = (
                f"read_csv('{quoted}', all_varchar = true, header = true, delim = '{delim}', "
                f"nullstr = [{nulls}], auto_detect = true)"
            )
        try:
            self.con.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM {reader}')
            described = self.con.execute(f'DESCRIBE "{name}"').fetchall()
        except self._duckdb.Error as exc:
            raise InputError(f"cannot read table: {_line(exc)}", file=file) from exc
        columns = {str(c).strip().lower(): (c, kind_of(t)) for c, t, *_ in described}
        self.tables[name] = Table(name, f'"{name}"', str(file), columns, "(rowid + 1)")

    def _catalog(self, path: Path, names: tuple[str, ...]) -> None:
        """The tables of the attached file: those of the CDM schema, or of any schema when
        none is given (a CDM table found in more than one schema is refused)."""
        rows = self.con.execute(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables "
            "WHERE table_catalog = ? ORDER BY table_schema, table_name",
            [CDM_FILE],
        ).fetchall()
        seen: dict[str, list[tuple[str, str, str]]] = {}
        for schema, name, kind in rows:
            if self.schema is None or schema.lower() == self.schema.lower():
                seen.setdefault(name.lower(), []).append((schema, name, kind))
        for name in names:
            schemas = sorted({schema for schema, _, _ in seen.get(name, [])})
            if len(schemas) > 1:
                raise InputError(
                    f"table {name} is in more than one schema ({', '.join(schemas)}): choose "
                    "one as the CDM schema",
                    file=path,
                )
        for lower, ((schema, name, kind), *_) in seen.items():
            cols = self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position",
                [CDM_FILE, schema, name],
            ).fetchall()
            self.tables[lower] = Table(
                lower,
                _quoted(CDM_FILE, schema, name),
                f"{path}:{lower}" if schema.lower() == "main" else f"{path}:{schema}.{lower}",
                {c.lower(): (c, kind_of(t)) for c, t in cols},
                "(rowid + 1)" if kind == "BASE TABLE" else "NULL",
            )

    def missing_table(self, name: str) -> InputError:
        if Path(self.where).is_dir():
            return InputError(
                f"table {name} not found (expected {name}.csv, .tsv or .parquet)", file=self.where
            )
        return InputError(f"table {name} not found in the database", file=self.where)

    def batches(self, sql: str) -> pa.RecordBatchReader:
        try:
            relation = self.con.sql(sql)
            if hasattr(relation, "to_arrow_reader"):  # DuckDB >= 1.4
                return relation.to_arrow_reader()
            return relation.fetch_arrow_reader()
        except self._duckdb.Error as exc:
            raise InputError(f"query failed on {self.describe()}: {_line(exc)}") from exc

    def import_connection(self):
        """The in-memory connection holding a folder's tables or the DuckDB file attached
        read-only (already bounded by :func:`limit_memory`): the import reads them there by
        SQL, without Arrow, and :meth:`close` drops the tables or detaches the file instead
        of closing it."""
        self._handed = True
        return self.con

    @contextmanager
    def rows_into(self, con, sql: str) -> Iterator[str]:
        if con is self.con:  # the import works in this connection: the query itself
            yield f"({sql})"
            return
        with super().rows_into(con, sql) as relation:
            yield relation

    def close(self) -> None:
        if not self._handed:
            self.con.close()
            return
        try:  # the import goes on in the connection (unless it failed and closed it)
            if not Path(self.where).is_dir():
                self.con.execute(f"DETACH {CDM_FILE}")
                return
            for table in self.tables.values():
                self.con.execute(f"DROP TABLE IF EXISTS temp.main.{table.ref}")
        except self._duckdb.Error:
            pass


# ----- PostgreSQL ----------------------------------------------------------------------------
def check_postgres_url(url: str) -> str:
    """The URL if it holds no password; else an InputError (credentials come from the
    environment, a password file or a service file, never from the command line).

    Examples
    --------
    >>> check_postgres_url("postgresql://reader@db.example.org:5432/cdm")
    'postgresql://reader@db.example.org:5432/cdm'
    >>> check_postgres_url("postgresql://reader:secret@db.example.org/cdm")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: the database URL holds a password: leave it out and set \
PGPASSWORD, a password file (~/.pgpass) or a service file instead
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise InputError(
            f"not a PostgreSQL URL (expected postgresql://user@host:port/database): "
            f"{_without_password(url)}"
        )
    query = {k.lower() for k, _ in parse_qsl(parts.query)}
    if parts.password is not None or "password" in query:
        raise InputError(
            "the database URL holds a password: leave it out and set PGPASSWORD, a password "
            "file (~/.pgpass) or a service file instead"
        )
    return url


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def postgres_where(url: str) -> str:
    """``host:port/database`` of a PostgreSQL URL (the socket folder when the host is one)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    host = parts.hostname or query.get("host", "localhost")
    port = parts.port or query.get("port", "5432")
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}{host}:{port}{parts.path}"


class PostgresEngine(Engine):
    """PostgreSQL through ADBC (libpq): a read-only session, results as Arrow batches."""

    def __init__(self, url: str, schema: str) -> None:
        import adbc_driver_postgresql.dbapi as dbapi

        schema_parts(schema, "postgres")
        super().__init__("postgres", postgres_where(check_postgres_url(url)), schema)
        self._errors = (dbapi.Error,)
        try:
            self.con = dbapi.connect(url)
        except dbapi.Error as exc:
            raise InputError(f"cannot connect to {self.where}: {_line(exc)}") from exc
        try:
            self._catalog(schema)
        except BaseException:
            self.con.close()
            raise

    def _catalog(self, schema: str) -> None:
        self._run("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        self._run("SET DateStyle = 'ISO'")
        self._run("SET TIME ZONE 'UTC'")  # a timestamptz's date is its UTC date
        rows = self.frame(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = {_literal(schema)} ORDER BY table_name, ordinal_position"
        )
        if rows.empty:
            exists = self.frame(
                "SELECT 1 AS x FROM information_schema.schemata "
                f"WHERE schema_name = {_literal(schema)}"
            )
            if exists.empty:
                raise InputError(f"schema {schema} not found in {self.where}")
        for name, cols in rows.groupby("table_name", sort=False):
            lower = str(name).lower()
            columns = {
                str(c).lower(): (str(c), kind_of(str(t)))
                for c, t in zip(cols["column_name"], cols["data_type"], strict=True)
            }
            self.tables[lower] = Table(
                lower,
                _quoted(schema, str(name)),
                f"{schema}.{lower}",
                columns,
                _id_row(lower, columns),
            )

    def missing_table(self, name: str) -> InputError:
        return InputError(
            f"table {name} not found in {self.place()} (or the role may not read it: GRANT SELECT)"
        )

    def _run(self, sql: str) -> None:
        with self.con.cursor() as cur:
            try:
                cur.execute(sql)
            except self._errors as exc:
                raise InputError(f"query failed on {self.describe()}: {_line(exc)}") from exc

    def batches(self, sql: str) -> pa.RecordBatchReader:
        cur = self.con.cursor()
        try:
            cur.execute(sql)
            reader = cur.fetch_record_batch()
        except self._errors as exc:
            cur.close()
            raise InputError(f"query failed on {self.describe()}: {_line(exc)}") from exc

        def stream() -> Iterator[pa.RecordBatch]:
            try:  # the cursor lives as long as its batches are read
                yield from reader
            finally:
                cur.close()

        return pa.RecordBatchReader.from_batches(reader.schema, stream())

    def close(self) -> None:
        try:
            self.con.rollback()
        finally:
            self.con.close()


# ----- Spark ---------------------------------------------------------------------------------
class SparkEngine(Engine):
    """Spark: a local session (``local[*]``) by default, or Spark Connect (``sc://host:port``);
    an active session is used as it is, its time zone set to UTC while the CDM is read. The
    schema is a database, or ``catalog.database`` (``main.cdm`` in Unity Catalog)."""

    def __init__(self, url: str | None, schema: str) -> None:
        from pyspark.sql import SparkSession

        parts = schema_parts(schema, "spark")
        where = spark_where(url)
        super().__init__("spark", where, schema)
        self._zone: str | None = None  # the session's time zone before the CDM was read
        try:
            with _quiet():
                if url:
                    remote = _with_token(check_spark_url(url))
                    self.spark = SparkSession.builder.remote(remote).getOrCreate()
                else:
                    active = SparkSession.getActiveSession()
                    self.spark = active or SparkSession.builder.master("local[*]").getOrCreate()
                self._zone = self.spark.conf.get(SPARK_ZONE)
                self.spark.conf.set(SPARK_ZONE, "UTC")  # a timestamp's date is its UTC date
                qualified = ".".join(_backticked(p) for p in parts)
                if not self.spark.catalog.databaseExists(qualified):
                    raise InputError(f"schema {schema} not found in Spark {where}")
                listed = self.spark.catalog.listTables(qualified)
                for name in [t.name for t in listed if not t.isTemporary]:
                    lower = name.lower()
                    cols = self.spark.catalog.listColumns(f"{qualified}.{_backticked(name)}")
                    columns = {c.name.lower(): (c.name, kind_of(c.dataType)) for c in cols}
                    self.tables[lower] = Table(
                        lower,
                        _quoted(*parts, name),
                        f"{schema}.{lower}",
                        columns,
                        _id_row(lower, columns),
                    )
        except BaseException as exc:
            try:
                self.close()
            except Exception:  # a session that failed may not take the setting back
                pass
            if isinstance(exc, InputError) or not isinstance(exc, Exception):
                raise
            # pyspark raises many classes (analysis, connect, py4j)
            raise InputError(f"cannot read schema {schema} on Spark {where}: {_line(exc)}") from exc

    def close(self) -> None:
        """Give the session back in its own time zone (the session stays open)."""
        if self._zone is not None:
            zone, self._zone = self._zone, None
            with _quiet():
                self.spark.conf.set(SPARK_ZONE, zone)

    def batches(self, sql: str) -> pa.RecordBatchReader:
        """The rows of ``sql`` as Arrow batches: from a local session, written by Spark as
        Parquet files to a temporary folder and read back batch by batch (the folder removed
        once read); from Spark Connect, in parts of about :func:`connect_rows` rows (the
        rows split by a hash of all their columns), each fetched whole as Arrow, so that
        Python never holds the whole result."""
        most = None if self._local() else connect_rows()
        try:
            with _quiet():
                frame = self.spark.sql(sql)
                if most is None:
                    return self._through_files(frame)
                return self._in_parts(frame, most)
        except Exception as exc:  # pyspark raises many classes (analysis, connect, py4j)
            raise InputError(f"query failed on {self.describe()}: {_line(exc)}") from exc

    @contextmanager
    def rows_into(self, con, sql: str) -> Iterator[str]:
        """The rows of ``sql`` for an import's DuckDB ``con``: from a local session, the
        Parquet files Spark wrote, read by DuckDB itself (within ``con``'s memory limit; no
        Arrow buffers held in Python); from Spark Connect, as :meth:`batches` gives them."""
        if not self._local():
            with super().rows_into(con, sql) as relation:
                yield relation
            return
        import shutil

        try:
            with _quiet():
                folder = self._written(self.spark.sql(sql))
        except Exception as exc:  # pyspark raises many classes (analysis, connect, py4j)
            raise InputError(f"query failed on {self.describe()}: {_line(exc)}") from exc
        try:
            files = sorted((folder / "rows").glob("*.parquet"))
            if files:
                yield f"read_parquet({_literal(str(folder / 'rows' / '*.parquet'))})"
            else:  # a result without rows may be written without a file
                with super().rows_into(con, sql) as relation:
                    yield relation
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _local(self) -> bool:
        """Whether the session runs on this machine (a classic session, master ``local``)."""
        try:
            return str(self.spark.sparkContext.master).startswith("local")
        except Exception:  # Spark Connect has no SparkContext
            return False

    @staticmethod
    def _written(frame) -> Path:
        """A fresh temporary folder holding the rows of ``frame`` as Parquet (``rows/``)."""
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix=scratch_prefix("spark"), suffix=".tmp"))
        try:
            frame.write.mode("overwrite").parquet(str(folder / "rows"))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return folder

    @classmethod
    def _through_files(cls, frame) -> pa.RecordBatchReader:
        import shutil

        import pyarrow.dataset as ds

        folder = cls._written(frame)
        try:
            data = ds.dataset(str(folder / "rows"), format="parquet")
            schema = data.schema
            scanner = data.scanner(batch_size=65536, use_threads=False)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

        def stream() -> Iterator[pa.RecordBatch]:
            try:  # the folder lives as long as its batches are read
                yield from scanner.to_batches()
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        return pa.RecordBatchReader.from_batches(schema, stream())

    @staticmethod
    def _in_parts(frame, most: int) -> pa.RecordBatchReader:
        """The rows of a Spark Connect ``frame`` in parts of about ``most`` rows (expected:
        a part's size varies with the hash). A result of more than one part is computed once
        and kept on the cluster (``persist``: memory, then disk) while its parts are fetched,
        so that every part comes from the same rows, then released."""
        from pyspark.sql import functions as F

        first = frame.limit(most + 1).toArrow()
        if first.num_rows <= most:
            return pa.RecordBatchReader.from_batches(first.schema, first.to_batches())
        kept = frame.persist()
        try:
            parts = -(-kept.count() // most)
        except BaseException:
            kept.unpersist()
            raise
        key = F.pmod(F.hash(*[F.col(f"`{c}`") for c in kept.columns]), F.lit(parts))

        def stream() -> Iterator[pa.RecordBatch]:
            try:
                for k in range(parts):
                    with _quiet():
                        yield from kept.where(key == k).toArrow().to_batches()
            finally:
                kept.unpersist()

        return pa.RecordBatchReader.from_batches(first.schema, stream())


#: The Spark setting that names a session's time zone.
SPARK_ZONE = "spark.sql.session.timeZone"


def _backticked(part: str) -> str:
    """One part of a name as Spark quotes it (`` `cdm` ``)."""
    return "`" + part.replace("`", "``") + "`"


@contextmanager
def _quiet() -> Iterator[None]:
    """pyspark's warnings about its own support of pandas versions say nothing about the data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


def check_spark_url(url: str) -> str:
    """The Spark Connect URL if it holds no token; else an InputError (a token comes from
    the environment: ``SPARK_REMOTE`` holding the same URL with ``;token=...``).

    Examples
    --------
    >>> check_spark_url("sc://spark.example.org:15002")
    'sc://spark.example.org:15002'
    >>> check_spark_url("sc://spark.example.org:15002/;token=secret")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: the Spark Connect URL holds a token: leave it out and set ...
    """
    if "token=" in url.split(";", 1)[-1].lower() and ";" in url:
        raise InputError(
            "the Spark Connect URL holds a token: leave it out and set SPARK_REMOTE to the URL "
            "with its token instead"
        )
    return url


def _with_token(url: str) -> str:
    """``url``, with the parameters (a token) that ``SPARK_REMOTE`` gives for the same host."""
    remote = os.environ.get("SPARK_REMOTE", "")
    if remote and remote.split(";", 1)[0].rstrip("/") == url.split(";", 1)[0].rstrip("/"):
        return remote
    return url


def spark_where(url: str | None) -> str:
    """A Spark Connect URL without its parameters (``;token=...``, ``;user_id=...``: a token
    is a credential), or ``local``.

    Examples
    --------
    >>> spark_where("sc://spark.example.org:15002/;token=secret;use_ssl=true")
    'sc://spark.example.org:15002/'
    """
    return (url or "local").split(";", 1)[0]


def _id_row(table: str, columns: dict[str, tuple[str, str]]) -> str:
    """A database row's number in messages: its integer id (``measurement_id``), if any."""
    key = "person_id" if table == "person" else f"{table}_id"
    name, kind = columns.get(key, ("", ""))
    return f'"{name}"' if kind == "integer" else "NULL"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_utc(con) -> None:
    """Set a DuckDB connection's time zone to UTC: a ``TIMESTAMP WITH TIME ZONE``'s date is
    then its UTC date."""
    con.execute("SET TimeZone = 'UTC'")


def delimiter(file: Path) -> str:
    r"""The delimiter of a table file: a tab for ``.tsv``, and for ``.csv`` a tab when its
    header line holds tabs and no commas (OHDSI Athena's vocabulary files, ``CONCEPT.csv``
    and the others, are tab-separated though named ``.csv``), else a comma.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "CONCEPT.csv").write_text("concept_id\tconcept_name\n1\tCOVID-19, mRNA\n")
    >>> delimiter(folder / "CONCEPT.csv") == "\t"
    True
    >>> _ = (folder / "person.csv").write_text("person_id,year_of_birth\n1,1950\n")
    >>> delimiter(folder / "person.csv")
    ','
    """
    if file.suffix.lower() == ".tsv":
        return "\t"
    with open(file, "rb") as handle:
        header = handle.readline(1 << 20)  # a header line is short (assumed: under 1 MiB)
    return "\t" if b"\t" in header and b"," not in header else ","


#: Memory an import's DuckDB may hold before it spills to disk (assumed: half of the 2 GB
#: the import of a CDM of any size is to stay under, issue 13; the rest is Python, Arrow
#: batches in flight and DuckDB's own overhead). ``REAWAKEN_IMPORT_MEMORY`` overrides it.
IMPORT_MEMORY = "1GB"


def limit_memory(con, memory: str | None = None) -> str:
    """Bound the memory of an import's DuckDB connection: beyond ``memory`` its tables, sorts
    and joins spill to a fresh folder under the system's temporary folder, which DuckDB
    creates when it first spills and removes when the connection closes (the folder of an
    import killed before that is removed by the next one: :func:`reawaken.io.scratch_prefix`).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The connection (in memory or on a file).
    memory : str, optional
        DuckDB's ``memory_limit`` (default: ``REAWAKEN_IMPORT_MEMORY`` or
        :data:`IMPORT_MEMORY`).

    Returns
    -------
    str
        The folder spilled to (absent until DuckDB spills).

    Examples
    --------
    >>> from reawaken.io import duckdb_connect
    >>> con = duckdb_connect()
    >>> spill = limit_memory(con, "256MiB")
    >>> con.sql("SELECT current_setting('memory_limit')").fetchall()
    [('256.0 MiB',)]
    >>> con.close()
    >>> Path(spill).exists()
    False
    """
    import uuid

    memory = memory or os.environ.get("REAWAKEN_IMPORT_MEMORY") or IMPORT_MEMORY
    spill = f"{scratch_prefix('import')}{uuid.uuid4().hex}.tmp"
    con.execute(f"SET memory_limit = {_literal(memory)}")
    con.execute(f"SET temp_directory = {_literal(spill)}")
    return spill


def _line(exc: BaseException) -> str:
    """The first non-empty line of an error message (without the driver's prefix)."""
    for line in str(exc).splitlines():
        if line.strip():
            return re.sub(r"^[A-Z_]+: \[libpq\] ", "", line.strip())
    return type(exc).__name__


# ----- connecting ----------------------------------------------------------------------------
def is_url(text: str | Path) -> bool:
    """Whether ``text`` names a database by URL (``postgresql://``, ``sc://``) rather than a
    path."""
    return bool(re.match(r"^[a-z][a-z0-9+.-]*://", str(text)))


def _engine_of(where: str, engine: str | None) -> str:
    if engine is None:
        if where.startswith(("postgresql://", "postgres://")):
            return "postgres"
        if where.startswith("sc://"):
            return "spark"
        return "duckdb"
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r} (expected one of {', '.join(ENGINES)})")
    return engine


def describe(where: str | Path, *, engine: str | None = None, schema: str | None = None) -> str:
    """Engine, host and schema of a CDM, never a password, as :meth:`Engine.describe` says it
    (for an import's record, without connecting).

    Examples
    --------
    >>> describe("postgresql://reader@db.example.org:5432/cdm", schema="cdm54")
    'postgres postgresql://reader@db.example.org:5432/cdm schema cdm54'
    >>> describe("local", engine="spark")
    'spark local schema default'
    """
    text = str(where)
    kind = _engine_of(text, engine)
    if kind == "postgres":
        return f"postgres {postgres_where(check_postgres_url(text))} schema {schema or 'public'}"
    if kind == "spark":
        return f"spark {spark_where(text)} schema {schema or 'default'}"
    return f"duckdb {Path(text).resolve()}" + (f" schema {schema}" if schema else "")


def connect(
    where: str | Path,
    names: tuple[str, ...],
    *,
    engine: str | None = None,
    schema: str | None = None,
) -> Engine:
    """Open the CDM at ``where``.

    Parameters
    ----------
    where : str or pathlib.Path
        A folder of table files or a DuckDB file (engine ``duckdb``), a PostgreSQL URL
        (``postgresql://user@host:port/db``; engine ``postgres``), a Spark Connect URL
        (``sc://host:port``) or ``local`` (engine ``spark``).
    names : tuple of str
        The tables a folder is searched for.
    engine : {"duckdb", "postgres", "spark"}, optional
        Default: from ``where``.
    schema : str, optional
        The CDM schema (PostgreSQL: default ``public``; Spark: the database, default
        ``default``; a DuckDB file: any schema unless given).

    Examples
    --------
    >>> from reawaken.cohort import generate
    >>> truth = generate("omop", 50, 1, "cdm")
    >>> cdm = connect("cdm", ("person",))
    >>> cdm.describe().startswith("duckdb"), sorted(cdm.tables)
    (True, ['person'])
    >>> cdm.close()
    """
    text = str(where)
    engine = _engine_of(text, engine)
    if engine == "postgres":
        return PostgresEngine(text, schema or "public")
    if engine == "spark":
        return SparkEngine(None if text in ("", "local") else text, schema or "default")
    if is_url(text):
        raise InputError(
            f"the duckdb engine reads a folder or a DuckDB file, not a URL: "
            f"{_without_password(text)}"
        )
    return DuckDBEngine(Path(where), names, schema)
