"""Real database servers for the tests: PostgreSQL (``REAWAKEN_TEST_PG``, else one started by
``.ci/postgres`` in a temporary folder and stopped at the end), a local Spark session, and a
Spark Connect server (pyspark's ``start-connect-server.sh``, on a free loopback port).

Without PostgreSQL binaries (or pyspark and Java) these tests skip, except under CI
(``CI=true``), where they fail: CI installs them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest
from db_helpers import SYNTHETIC_N, Postgres, cdm_arrow, load_postgres, load_spark

from reawaken.cohort import generate
from reference_data import shared_reference

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "postgres"
SYNTHETIC_SEED = 7


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI installs it: see .ci/run)")
    pytest.skip(what)


def _have_postgres_binaries() -> bool:
    if shutil.which("pg_config") or shutil.which("initdb"):
        return True
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server: ``REAWAKEN_TEST_PG`` (a URL; libpq finds its password), else one
    started here on a Unix socket."""
    given = os.environ.get("REAWAKEN_TEST_PG")
    if given:
        yield Postgres(given)
        return
    if not _have_postgres_binaries():
        _missing("PostgreSQL server binaries (initdb, pg_ctl) not found")
    folder = tempfile.mkdtemp(prefix="reawaken-pg-")  # under /tmp: open to the postgres user
    try:
        started = subprocess.run(
            [str(SCRIPT), "start", folder], capture_output=True, text=True, check=False
        )
        if started.returncode != 0:
            pytest.fail(f".ci/postgres start failed: {started.stderr.strip()}")
        env = dict(line.split("=", 1) for line in started.stdout.split())
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PGPASSFILE", env["PGPASSFILE"])
            patch.delenv("PGPASSWORD", raising=False)
            yield Postgres(env["REAWAKEN_TEST_PG"], env)
    finally:
        subprocess.run([str(SCRIPT), "stop", folder], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """A local Spark session (one core), its warehouse in a temporary folder."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        _missing("pyspark not installed")
    if shutil.which("java") is None:
        _missing("no Java runtime for Spark")
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark on pandas 3
        session = (
            SparkSession.builder.master("local[1]")
            .appName("reawaken-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.warehouse.dir", str(warehouse))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "1")
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def synthea_folder() -> Path:
    return shared_reference("Synthea27Nj_5.4")


@pytest.fixture(scope="session")
def synthetic_folder(tmp_path_factory) -> Path:
    """A synthetic OMOP extract (``cohort synth --like omop``)."""
    folder = tmp_path_factory.mktemp("synthetic-omop")
    generate("omop", SYNTHETIC_N, SYNTHETIC_SEED, folder)
    return folder


@pytest.fixture(scope="session")
def pg_synthea(postgres, synthea_folder) -> Postgres:
    """The server with schema ``synthea`` holding Synthea's CDM."""
    load_postgres(postgres, synthea_folder, "synthea")
    return postgres


@pytest.fixture(scope="session")
def pg_synthetic(postgres, synthetic_folder) -> Postgres:
    """The server with schema ``synthetic`` holding the synthetic CDM."""
    load_postgres(postgres, synthetic_folder, "synthetic")
    return postgres


@pytest.fixture(scope="session")
def spark_synthea(spark, synthea_folder, tmp_path_factory):
    """The Spark session with database ``synthea`` holding Synthea's CDM."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark on pandas 3
        load_spark(spark, synthea_folder, "synthea", tmp_path_factory.mktemp("parquet"))
    return spark


@pytest.fixture(scope="session")
def spark_synthetic(spark, synthetic_folder, tmp_path_factory):
    """The Spark session with database ``synthetic`` holding the synthetic CDM."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark on pandas 3
        load_spark(spark, synthetic_folder, "synthetic", tmp_path_factory.mktemp("parquet"))
    return spark


#: A Spark Connect server and the CDM database it holds: its URL and schema.
CONNECT_LOAD = """
import sys
from pathlib import Path
from pyspark.sql import SparkSession
spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
spark.sql(f"CREATE DATABASE IF NOT EXISTS {sys.argv[2]}")
for path in sorted(Path(sys.argv[3]).glob("*.parquet")):
    spark.sql(f"CREATE TABLE {sys.argv[2]}.{path.stem} USING parquet LOCATION '{path}'")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def spark_connect(synthetic_folder, tmp_path_factory):
    """A Spark Connect server (pyspark's own, local[1], a free port) holding the synthetic CDM
    as database ``synthetic``; yields its URL. Clients run in subprocesses: a Connect client
    switches pyspark in its process to Connect mode, which the local session tests must not
    see."""
    try:
        import pyspark
    except ImportError:
        _missing("pyspark not installed")
    if shutil.which("java") is None:
        _missing("no Java runtime for Spark")
    home = Path(pyspark.__file__).parent
    start = home / "sbin" / "start-connect-server.sh"
    stop = home / "sbin" / "stop-connect-server.sh"
    if not start.exists():
        _missing(f"pyspark has no {start.name}")
    folder = tmp_path_factory.mktemp("spark-connect")
    port = _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(folder / "logs"),
        "SPARK_PID_DIR": str(folder / "pid"),
        "SPARK_IDENT_STRING": f"reawaken-tests-{port}",
    }
    conf = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "1",
        "spark.ui.enabled": "false",
    }
    args = ["bash", str(start), "--master", "local[1]"]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    logs = "".join(p.read_text()[-2000:] for p in (folder / "logs").glob("*"))
                    pytest.fail(f"the Spark Connect server did not start: {logs}")
                time.sleep(1)
        url = f"sc://127.0.0.1:{port}"
        files = folder / "parquet"
        files.mkdir()
        import pyarrow.parquet as pq

        for name, table in cdm_arrow(synthetic_folder).items():
            pq.write_table(table, files / f"{name}.parquet")
        subprocess.run(
            [sys.executable, "-c", CONNECT_LOAD, url, "synthetic", str(files)],
            env={k: v for k, v in os.environ.items() if k != "SPARK_REMOTE"},
            capture_output=True,
            text=True,
            check=True,
        )
        yield url
    finally:
        subprocess.run(["bash", str(stop)], env=env, capture_output=True, check=False)
