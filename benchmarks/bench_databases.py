"""OMOP CDM read in place: the canonical cohort of a synthetic CDM in PostgreSQL (and Spark).

Targets (issue 13): a synthetic OMOP CDM of 10^6 persons in PostgreSQL on this machine gives
its canonical cohort in at most 60 s, in under 2 GB of memory whatever the database's size.
Measured:

- the CDM: ``reawaken cohort synth --like omop --n N`` (CSV files), loaded into a PostgreSQL
  schema with DuckDB-inferred types (ids and concepts integers, dates dates) by ADBC bulk copy
  (a server started by ``.ci/postgres`` in a temporary folder, or ``REAWAKEN_TEST_PG``);
- canonical cohort: :func:`reawaken.cohort.sources.omop.read_database` (the SQL of
  ``omop_sql`` run in the database, the kept rows streamed back as Arrow into DuckDB) and
  :func:`reawaken.cohort.sources.sql_validate.finalize` (validation, infection episodes), in
  a fresh process: wall time and its peak resident memory (``ru_maxrss``; the server's own
  memory is not counted); then the whole ``CohortStore.import_source`` into a new store;
- peer: the same in DuckDB from the CSV folder (the path of ``cohort import`` for files);
- with ``--spark``: the same CDM as Parquet tables in a local Spark session (``local[*]``),
  read by the same SQL (the JVM's memory is not counted).

Run: ``python benchmarks/bench_databases.py`` (default ``--n 1000000``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 60.0  # issue 13: canonical cohort of 10^6 persons in PostgreSQL
TARGET_MB = 2048.0  # issue 13: memory under 2 GB

_CHILD = """
import json, os, resource, sys, tempfile, time, warnings
from pathlib import Path
warnings.simplefilter("ignore", FutureWarning)
from reawaken.cohort.schema import Issues
from reawaken.cohort.sources import omop, sql_validate
from reawaken.cohort.store import CohortStore
where, engine, schema = sys.argv[1], sys.argv[2] or None, sys.argv[3] or None
if engine == "spark":
    from pyspark.sql import SparkSession
    spark = SparkSession.builder.master("local[*]").config("spark.ui.enabled", "false")
    spark = spark.config("spark.driver.memory", "4g")
    spark = spark.config("spark.sql.warehouse.dir", os.environ["WAREHOUSE"]).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {schema}")
    for name, path in json.loads(sys.argv[4]).items():
        spark.sql(f"CREATE TABLE IF NOT EXISTS {schema}.{name} USING parquet LOCATION '{path}'")
t = time.perf_counter()
issues = Issues()
raw, described = omop.read_database(where, issues, engine=engine, schema=schema)
read_s = time.perf_counter() - t
validated = sql_validate.finalize(raw)
wall = time.perf_counter() - t
count = "SELECT count(*) FROM {}"
rows = {k: raw.con.sql(count.format(v.relation)).fetchall()[0][0] for k, v in validated.items()}
raw.con.close()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
store_s = None
if sys.argv[5] == "store":  # the whole import into a new cohort store
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        CohortStore(Path(tmp) / "c.duckdb").import_source(
            "omop", where, engine=engine, cdm_schema=schema
        )
        store_s = time.perf_counter() - t
out = {"wall": wall, "read": read_s, "peak_mb": peak, "rows": rows, "on": described}
print(json.dumps({**out, "store": store_s}))
"""


def child(where: str, engine: str = "", schema: str = "", extra: str = "{}") -> dict:
    """Run the canonical cohort in a fresh process; its timings, peak memory and rows (and,
    where the store reads databases, the time of a whole import into a new store)."""
    import inspect

    from reawaken.cohort.store import CohortStore

    store = "engine" in inspect.signature(CohortStore.import_source).parameters
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, where, engine, schema, extra, "store" if store else ""],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"the canonical cohort failed: {out.stderr[-2000:]}")
    return json.loads([x for x in out.stdout.splitlines() if x.startswith("{")][-1])


def cdm_tables(folder: Path):
    """The CDM tables of ``folder`` as Arrow, one at a time (types inferred by DuckDB)."""
    from reawaken.cohort.sources import common, omop

    con = duckdb.connect()
    for name in omop.CDM_TABLES:
        file = common.find_table(folder, name, required=False)
        if file is None:
            continue
        rel = con.sql(f"SELECT * FROM read_csv_auto('{file}', sample_size = -1)")
        table = rel.arrow()
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
        plain = [
            pa.field(f.name.lower(), pa.string() if pa.types.is_string_view(f.type) else f.type)
            for f in table.schema
        ]
        yield name, table.rename_columns([f.name for f in plain]).cast(pa.schema(plain))
    con.close()


def start_postgres(folder: Path) -> tuple[str, dict]:
    given = os.environ.get("REAWAKEN_TEST_PG")
    if given:
        return given, {}
    started = subprocess.run(
        [str(ROOT / ".ci" / "postgres"), "start", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    env = dict(line.split("=", 1) for line in started.stdout.split())
    os.environ["PGPASSFILE"] = env["PGPASSFILE"]
    return env["REAWAKEN_TEST_PG"], env


def load_postgres(url: str, folder: Path, schema: str) -> dict[str, int]:
    import adbc_driver_postgresql.dbapi as dbapi

    rows = {}
    with dbapi.connect(url) as con:
        with con.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            cur.execute(f"CREATE SCHEMA {schema}")
            for name, table in cdm_tables(folder):
                cur.adbc_ingest(name, table, mode="create", db_schema_name=schema)
                rows[name] = table.num_rows
            cur.execute("ANALYZE")
        con.commit()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spark", action="store_true", help="also read the CDM in Spark")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="reawaken-bench-"))
    pg_dir = Path(tempfile.mkdtemp(prefix="reawaken-bench-pg-"))  # under /tmp: open to postgres
    started = False
    try:
        cdm = tmp / "omop"
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "reawaken.cli", "cohort", "synth", "--like", "omop"]
            + ["--n", str(args.n), "--seed", str(args.seed), "--out", str(cdm)],
            check=True,
            capture_output=True,
        )
        gen_s = time.perf_counter() - t
        mb = sum(p.stat().st_size for p in cdm.iterdir()) / 1e6
        print(f"synthetic OMOP: {args.n} persons, {mb:.0f} MB of CSV in {gen_s:.1f} s")

        url, env = start_postgres(pg_dir)
        started = not os.environ.get("REAWAKEN_TEST_PG")
        t = time.perf_counter()
        rows = load_postgres(url, cdm, "cdm")
        load_s = time.perf_counter() - t
        print(f"loaded into PostgreSQL in {load_s:.1f} s: " + json.dumps(rows))

        pg = child(url, "postgres", "cdm")
        print(
            f"PostgreSQL canonical cohort: {pg['wall']:.1f} s (SQL and transfer {pg['read']:.1f} s)"
            f", peak {pg['peak_mb']:.0f} MB; rows {json.dumps(pg['rows'])}"
        )
        if pg["store"] is not None:
            print(f"  whole import into a new cohort store: {pg['store']:.1f} s")
        print(
            f"  target <= {TARGET_S:.0f} s: ratio {pg['wall'] / TARGET_S:.2f}; "
            f"target < {TARGET_MB:.0f} MB: ratio {pg['peak_mb'] / TARGET_MB:.2f}"
        )
        duck = child(str(cdm))
        print(
            f"DuckDB from the CSV files (peer): {duck['wall']:.1f} s, peak {duck['peak_mb']:.0f} "
            f"MB; PostgreSQL / DuckDB time {pg['wall'] / duck['wall']:.2f}"
        )
        assert pg["rows"] == duck["rows"], "PostgreSQL and DuckDB give different cohorts"
        if args.spark:
            import pyarrow.parquet as pq

            files = {}
            for name, table in cdm_tables(cdm):
                path = tmp / "parquet" / f"{name}.parquet"
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, path)
                files[name] = str(path)
            warehouse = tmp / "warehouse"
            os.environ["SPARK_LOCAL_DIRS"] = str(tmp / "spark-local")
            os.environ["WAREHOUSE"] = str(warehouse)
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, "local", "spark", "cdm", json.dumps(files), ""],
                check=True,
                capture_output=True,
                text=True,
            )
            sp = json.loads([x for x in out.stdout.splitlines() if x.startswith("{")][-1])
            print(
                f"Spark local canonical cohort: {sp['wall']:.1f} s (SQL {sp['read']:.1f} s), "
                f"Python peak {sp['peak_mb']:.0f} MB (JVM not counted)"
            )
            assert sp["rows"] == duck["rows"], "Spark and DuckDB give different cohorts"
    finally:
        if started:
            subprocess.run([str(ROOT / ".ci" / "postgres"), "stop", str(pg_dir)], check=False)
        subprocess.run(["rm", "-rf", str(tmp), str(pg_dir)], check=False)


if __name__ == "__main__":
    main()
