"""Helpers of the database tests: load an OMOP folder into PostgreSQL or Spark, read the
canonical cohort from a folder or a database, compare tables."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from reawaken.cohort import sources
from reawaken.cohort.schema import Issues
from reawaken.cohort.sources import common, omop, sql_validate
from reawaken.cohort.store import CohortStore

#: Persons of the synthetic OMOP extract loaded in every engine.
SYNTHETIC_N = 100_000


@dataclass
class Postgres:
    """A PostgreSQL server for the tests: its URL (no password) and the environment that lets
    libpq find the password (``PGPASSFILE``)."""

    url: str
    env: dict[str, str] = field(default_factory=dict)

    def connect(self):
        import adbc_driver_postgresql.dbapi as dbapi

        return dbapi.connect(self.url)

    def execute(self, *statements: str) -> None:
        with self.connect() as con, con.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
            con.commit()

    def query(self, sql: str) -> pd.DataFrame:
        with self.connect() as con, con.cursor() as cur:
            cur.execute(sql)
            return cur.fetch_arrow_table().to_pandas()


def cdm_arrow(folder: Path) -> dict[str, pa.Table]:
    """The CDM tables :mod:`reawaken.cohort.sources.omop` reads, typed as DuckDB infers them
    from the CSV files (ids and concepts as integers, dates as dates, codes as text)."""
    out = {}
    con = duckdb.connect()
    for name in omop.CDM_TABLES:
        file = common.find_table(folder, name, required=False)
        if file is None:
            continue
        table = con.sql(f"SELECT * FROM read_csv_auto('{file}', sample_size = -1)").arrow()
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
        table = table.rename_columns([c.lower() for c in table.column_names])
        out[name] = _plain_strings(table)
    con.close()
    return out


def _plain_strings(table: pa.Table) -> pa.Table:
    """String views (DuckDB 1.4 and later, pyarrow 16 and later) as plain strings, which every
    ADBC driver ingests; older pyarrow has no string views."""
    is_view = getattr(pa.types, "is_string_view", lambda _: False)
    schema = pa.schema(
        [pa.field(f.name, pa.string()) if is_view(f.type) else f for f in table.schema]
    )
    return table.cast(schema)


def load_postgres(pg: Postgres, folder: Path, schema: str) -> None:
    """Create ``schema`` holding the folder's CDM tables."""
    pg.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE", f"CREATE SCHEMA {schema}")
    with pg.connect() as con:
        with con.cursor() as cur:
            for name, table in cdm_arrow(folder).items():
                cur.adbc_ingest(name, table, mode="create", db_schema_name=schema)
        con.commit()


def load_spark(spark, folder: Path, schema: str, files: Path) -> None:
    """Create database ``schema`` holding the folder's CDM tables, as Parquet files in
    ``files``."""
    import pyarrow.parquet as pq

    spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    for name, table in cdm_arrow(folder).items():
        path = files / schema / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        spark.sql(f"CREATE TABLE {schema}.{name} USING parquet LOCATION '{path}'")


def omop_read(
    where,
    *,
    censor_date: str | None = None,
    concepts: Path | None = None,
    lenient: bool = False,
    **kwargs,
) -> tuple[dict[str, pd.DataFrame], int, pd.DataFrame]:
    """The validated canonical tables read from ``where`` (a folder, or a database with
    ``engine``/``schema``), the records left out after the censor date, and the quarantine
    (lenient) without its file column (a file path or ``schema.table``)."""
    issues = Issues(lenient=lenient)
    cut = None if censor_date is None else pd.Timestamp(censor_date)
    raw, _ = omop.read_database(where, issues, censor_date=cut, concepts=concepts, **kwargs)
    try:
        validated = sql_validate.finalize(raw)
        tables = {name: raw.con.execute(v.select()).df() for name, v in validated.items()}
    finally:
        raw.con.close()
    return tables, raw.n_after_censor, issues.frame().drop(columns=["file"])


def canonical(where, **kwargs) -> dict[str, pd.DataFrame]:
    """The validated canonical tables read from ``where`` (see :func:`omop_read`)."""
    return omop_read(where, **kwargs)[0]


def rows(frame: pd.DataFrame) -> list[tuple]:
    """A table as plain tuples (dates as ISO text, missing as None), in its order."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    out = out.astype(object).where(out.notna(), None)
    return [tuple(r) for r in out.itertuples(index=False)]


def store_from(db: Path, where, *, name: str = "omop", **kwargs) -> CohortStore:
    """A cohort store holding the import of the CDM at ``where`` under ``name`` (read by
    :func:`reawaken.cohort.sources.omop.read_database`)."""
    kind = "omop-database-test"
    source = sources.get("omop")

    def read(extract: common.Extract) -> common.SourceTables:
        raw, _ = omop.read_database(
            where,
            extract.issues,
            censor_date=extract.censor_date,
            concepts=extract.concepts,
            **kwargs,
        )
        return raw

    sources.register(
        types.SimpleNamespace(
            kind=kind,
            id_column=source.id_column,
            title="OMOP CDM in a database",
            field_map=source.field_map,
            synthetic=source.synthetic,
            read=read,
            write_synthetic=source.write_synthetic,
        )
    )
    try:
        nothing = db.parent / "no-files"
        nothing.mkdir(exist_ok=True)
        store = CohortStore(db)
        store.import_source(kind, nothing, name=name)
    finally:
        sources.unregister(kind)
    return store
