"""An OMOP CDM behind a Spark Connect server read in place: the canonical cohort, fetched in
parts split by a hash when larger than ``REAWAKEN_CONNECT_ROWS``, equals the DuckDB import of
the same files row for row; a missing database is one line, exit 2, and no store."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from db_helpers import SYNTHETIC_N, rows

from reawaken.cohort.schema import TABLES
from reawaken.cohort.store import CohortStore

pytestmark = pytest.mark.slow  # a Spark Connect server starts in about 20 s on two cores


def _import(url: str, db, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``reawaken cohort import`` from Spark Connect, in a fresh process (a Connect client
    switches pyspark in its process to Connect mode)."""
    command = [sys.executable, "-m", "reawaken.cli", "cohort", "import", "--source", "omop"]
    return subprocess.run(
        [*command, url, "--db", str(db), *args],
        env={**{k: v for k, v in os.environ.items() if k != "SPARK_REMOTE"}, **env},
        capture_output=True,
        text=True,
    )


def test_synthetic_through_spark_connect_equals_the_duckdb_import(
    spark_connect, synthetic_folder, tmp_path
):
    # results above 100,000 rows (conditions, vaccinations) come in parts; the others whole
    db = tmp_path / "connect.duckdb"
    done = _import(spark_connect, db, "--cdm-schema", "synthetic", REAWAKEN_CONNECT_ROWS="100000")
    assert done.returncode == 0, done.stderr[-3000:]
    want = CohortStore(tmp_path / "files.duckdb")
    want.import_source("omop", synthetic_folder)
    got = CohortStore(db)
    assert len(got.person()) == SYNTHETIC_N
    assert len(got.vaccination()) > 2 * 100_000 > len(got.outcome())
    for name in TABLES:
        assert rows(got.table(name)) == rows(want.table(name)), name
    assert got.imports()["path"].tolist() == [f"spark {spark_connect} schema synthetic"]


def test_missing_database_on_spark_connect_is_one_line(spark_connect, tmp_path):
    db = tmp_path / "c.duckdb"
    done = _import(spark_connect, db, "--cdm-schema", "nosuch")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: schema nosuch not found in Spark {spark_connect}"
    ]
    assert not db.exists()


def test_bad_part_size_is_named(spark_connect, tmp_path):
    db = tmp_path / "c.duckdb"
    done = _import(spark_connect, db, "--cdm-schema", "synthetic", REAWAKEN_CONNECT_ROWS="0")
    assert done.returncode == 2
    assert "REAWAKEN_CONNECT_ROWS must be a whole number above 0, not '0'" in done.stderr
    assert not db.exists()
