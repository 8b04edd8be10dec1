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
  memory is not counted); then the whole ``CohortStore.import_source`` into a new store (its
  time, and the process's peak over both);
- peer: the same in DuckDB from the CSV folder (the path of ``cohort import`` for files);
- with ``--spark``: the same CDM as Parquet tables in a local Spark session (``local[*]``),
  read by the same SQL (the JVM's memory is not counted).

Larger CDMs without the generator's memory (about 2.6 GB per million persons):
``--n 100000 --replicate 30`` generates 10^5 persons once and writes 30 copies of every table
as Parquet, each copy's id columns (``person_id`` and every ``*_id`` but concepts) shifted by
``k * 10^d`` above the generated ids, by DuckDB (:func:`replicate`); the copies are loaded and
read as the generated CDM is. ``--skip-postgres`` runs only Spark (and the DuckDB peer).

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
store_s = store_peak = None
if sys.argv[5] == "store":  # the whole import into a new cohort store
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        CohortStore(Path(tmp) / "c.duckdb").import_source(
            "omop", where, engine=engine, cdm_schema=schema
        )
        store_s = time.perf_counter() - t
    store_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # both runs' peak
out = {"wall": wall, "read": read_s, "peak_mb": peak, "rows": rows, "on": described}
print(json.dumps({**out, "store": store_s, "store_peak_mb": store_peak}))
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
    """The CDM tables of ``folder`` (CSV, types inferred by DuckDB, or Parquet) as streams of
    Arrow batches, one table at a time (names lower case)."""
    from reawaken.cohort.sources import common, omop

    con = duckdb.connect()
    con.execute("SET produce_arrow_string_view = false")
    for name in omop.CDM_TABLES:
        file = common.find_table(folder, name, required=False)
        if file is None:
            continue
        if file.suffix == ".parquet":
            sql = f"read_parquet('{file}')"
        else:
            sql = f"read_csv_auto('{file}', sample_size = -1)"
        names = [c for c, *_ in con.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall()]
        lower = ", ".join(f'"{c}" AS "{c.lower()}"' for c in names)
        rel = con.sql(f"SELECT {lower} FROM {sql}")
        reader = rel.to_arrow_reader() if hasattr(rel, "to_arrow_reader") else rel.arrow()
        yield name, reader
    con.close()


def is_id(column: str) -> bool:
    """An identifier column of the CDM (``person_id``, ``measurement_id``, visit ids; not a
    concept)."""
    column = column.lower()
    return column.endswith("_id") and not column.endswith("_concept_id")


def replicate(folder: Path, copies: int, out: Path) -> dict[str, int]:
    """The CDM of ``folder`` ``copies`` times over, as Parquet files in ``out``: copy ``k``
    has every id column (``is_id``) shifted by ``k * stride`` (``stride`` above every id of
    ``folder``), so that each copy is a new set of persons with the same records. Written by
    DuckDB without passing through Python (types inferred from the CSV files)."""
    from reawaken.cohort.sources import common, omop

    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{out.parent / 'replicate.spill'}'")
    out.mkdir(parents=True, exist_ok=True)
    read = {}
    for name in omop.CDM_TABLES:
        file = common.find_table(folder, name, required=False)
        if file is not None:
            con.execute(f"CREATE TABLE {name} AS FROM read_csv_auto('{file}', sample_size = -1)")
            read[name] = name
    ids = {
        name: [c for c, *_ in con.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall() if is_id(c)]
        for name, sql in read.items()
    }
    stride = 1 + max(
        con.execute(f"SELECT max({c}) FROM {read[name]}").fetchall()[0][0] or 0
        for name, columns in ids.items()
        for c in columns
    )
    stride = 10 ** len(str(stride))  # a round number: copy k's ids are k * 10^d + id
    rows = {}
    for name, sql in read.items():

        def copy(k: int, name: str = name, sql: str = sql) -> str:
            shifted = ", ".join(f"CAST({c} AS BIGINT) + {k * stride} AS {c}" for c in ids[name])
            return f"SELECT * REPLACE ({shifted}) FROM {sql}" if shifted else f"SELECT * FROM {sql}"

        target = out / f"{name}.parquet"
        union = " UNION ALL ".join(copy(k) for k in range(copies))
        con.execute(f"COPY ({union}) TO '{target}' (FORMAT parquet)")
        rows[name] = con.execute(f"SELECT count(*) FROM '{target}'").fetchall()[0][0]
    con.close()
    return rows


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
                rows[name] = cur.adbc_ingest(name, table, mode="create", db_schema_name=schema)
            cur.execute("ANALYZE")
        con.commit()
    return rows


def spark(cdm: Path, tmp: Path) -> dict:
    """The canonical cohort of the CDM in ``cdm`` read as Parquet tables by a local Spark."""
    files = {}
    for file in sorted(cdm.iterdir()):
        if file.suffix == ".parquet":
            files[file.stem] = str(file)
            continue
        path = tmp / "spark-parquet" / f"{file.stem}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        con.execute(
            f"COPY (FROM read_csv_auto('{file}', sample_size = -1)) TO '{path}' (FORMAT parquet)"
        )
        con.close()
        files[file.stem] = str(path)
    os.environ["SPARK_LOCAL_DIRS"] = str(tmp / "spark-local")
    os.environ["WAREHOUSE"] = str(tmp / "warehouse")
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, "local", "spark", "cdm", json.dumps(files), ""],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"the Spark canonical cohort failed: {out.stderr[-2000:]}")
    sp = json.loads([x for x in out.stdout.splitlines() if x.startswith("{")][-1])
    print(
        f"Spark local canonical cohort: {sp['wall']:.1f} s (SQL {sp['read']:.1f} s), "
        f"Python peak {sp['peak_mb']:.0f} MB (JVM not counted); rows {json.dumps(sp['rows'])}"
    )
    return sp


def spark_only(cdm: Path, tmp: Path) -> None:
    """Spark and the DuckDB peer only (no PostgreSQL)."""
    sp = spark(cdm, tmp)
    duck = child(str(cdm))
    print(f"DuckDB from the files (peer): {duck['wall']:.1f} s, peak {duck['peak_mb']:.0f} MB")
    assert sp["rows"] == duck["rows"], "Spark and DuckDB give different cohorts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spark", action="store_true", help="also read the CDM in Spark")
    parser.add_argument(
        "--replicate",
        type=int,
        default=1,
        help="copies of the generated CDM (ids shifted): --n 100000 --replicate 10 reads "
        "10^6 persons without generating them",
    )
    parser.add_argument(
        "--skip-postgres", action="store_true", help="only the Spark (and DuckDB) reads"
    )
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
        if args.replicate > 1:
            t = time.perf_counter()
            made = replicate(cdm, args.replicate, tmp / "parquet")
            cdm = tmp / "parquet"
            print(
                f"replicated {args.replicate} times: {args.n * args.replicate} persons as Parquet"
                f" in {time.perf_counter() - t:.1f} s: " + json.dumps(made)
            )
        if args.skip_postgres:
            spark_only(cdm, tmp)
            return

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
            print(
                f"  whole import into a new cohort store: {pg['store']:.1f} s, peak of the "
                f"process over both {pg['store_peak_mb']:.0f} MB"
            )
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
            sp = spark(cdm, tmp)
            assert sp["rows"] == duck["rows"], "Spark and DuckDB give different cohorts"
    finally:
        if started:
            subprocess.run([str(ROOT / ".ci" / "postgres"), "stop", str(pg_dir)], check=False)
        subprocess.run(["rm", "-rf", str(tmp), str(pg_dir)], check=False)


if __name__ == "__main__":
    main()
