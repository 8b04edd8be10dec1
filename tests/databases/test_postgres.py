"""OMOP CDMs in PostgreSQL read in place: the canonical cohort equals the DuckDB import of the
same files row for row, a read-only role suffices and nothing is written, and a bad
connection, a missing table or column is one clear error that leaves the store as it was."""

from __future__ import annotations

import hashlib
import inspect
import json
from urllib.parse import urlsplit, urlunsplit

import adbc_driver_postgresql.dbapi as dbapi
import pandas as pd
import pytest
from db_helpers import Postgres, canonical, omop_read, rows, store_from

from reawaken.cli import main
from reawaken.cohort.schema import TABLES
from reawaken.cohort.store import CohortStore
from reawaken.errors import InputError


def _same_tables(a: dict, b: dict) -> None:
    for name in TABLES:
        assert rows(a[name]) == rows(b[name]), name


def _as_user(url: str, user: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.split("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def _summary_json(db, capsys) -> dict:
    capsys.readouterr()
    assert main(["cohort", "summary", "--db", str(db), "--json", "--min-cell", "0"]) == 0
    return json.loads(capsys.readouterr().out)


def test_synthea_in_postgres_equals_the_duckdb_import(pg_synthea, synthea_folder):
    got = canonical(pg_synthea.url, schema="synthea")
    want = canonical(synthea_folder)
    _same_tables(got, want)
    assert len(got["person"]) == 28 and len(got["infection"]) == 3  # tests/cohort/test_omop.py


def test_synthetic_in_postgres_equals_the_duckdb_import(
    pg_synthetic, synthetic_folder, tmp_path, capsys
):
    want = CohortStore(tmp_path / "files.duckdb")
    want.import_source("omop", synthetic_folder)
    got = store_from(tmp_path / "pg.duckdb", pg_synthetic.url, schema="synthetic")
    for name in TABLES:
        assert rows(got.table(name)) == rows(want.table(name)), name
    assert len(want.table("vaccination")) > 0 and len(want.table("outcome")) > 0
    assert _summary_json(tmp_path / "pg.duckdb", capsys) == _summary_json(
        tmp_path / "files.duckdb", capsys
    )


def test_censor_date_and_concepts_apply_in_postgres(pg_synthea, synthea_folder, tmp_path):
    (tmp_path / "concepts").mkdir()
    # a user's concept set: every J-code diagnosis is another respiratory infection
    (tmp_path / "concepts" / "icd10.csv").write_text(
        "prefix,role,value,label\nJ,infection,other-respiratory,any J code\n"
    )
    options = {"censor_date": "2020-06-30", "concepts": tmp_path / "concepts", "lenient": True}
    got = omop_read(pg_synthea.url, schema="synthea", **options)
    want = omop_read(synthea_folder, **options)
    assert got[1] == want[1] > 0  # records after the censor date, left out
    _same_tables(got[0], want[0])
    # person 27, born in 2022, has no follow-up left before the censor date
    assert rows(got[2]) == rows(want[2])
    assert list(got[2]["person_id"]) == ["27"]
    assert (got[0]["follow_up"]["end_date"] <= pd.Timestamp("2020-06-30")).all()


def test_a_read_only_role_suffices_and_nothing_is_written(
    pg_synthetic, synthetic_folder, monkeypatch
):
    pg = pg_synthetic
    pg.execute(
        "DROP ROLE IF EXISTS reawaken_reader",
        "CREATE ROLE reawaken_reader LOGIN PASSWORD 'reader-secret'",
        "GRANT USAGE ON SCHEMA synthetic TO reawaken_reader",
        "GRANT SELECT ON ALL TABLES IN SCHEMA synthetic TO reawaken_reader",
    )
    before = pg.query(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
        "WHERE schemaname = 'synthetic' ORDER BY relname"
    )
    reader = _as_user(pg.url, "reawaken_reader")
    monkeypatch.setenv("PGPASSWORD", "reader-secret")  # libpq reads it; never in the URL
    got = canonical(reader, schema="synthetic")
    _same_tables(got, canonical(synthetic_folder))
    # the role cannot write: had the import tried, it would have failed
    with pytest.raises(dbapi.Error, match="permission denied for schema synthetic"):
        Postgres(reader).execute("CREATE TABLE synthetic.scratch (x integer)")
    monkeypatch.delenv("PGPASSWORD")
    after = pg.query(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables "
        "WHERE schemaname = 'synthetic' ORDER BY relname"
    )
    assert before.equals(after)
    tables = pg.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'synthetic'"
    )
    assert "scratch" not in set(tables["table_name"])


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_bad_connections_are_one_line_and_leave_the_store_unchanged(
    pg_synthetic, synthetic_folder, tmp_path, monkeypatch
):
    db = tmp_path / "c.duckdb"
    CohortStore(db).import_source("omop", synthetic_folder)
    digest = _digest(db)
    reader = _as_user(pg_synthetic.url, "reawaken_nobody")
    pg_synthetic.execute(
        "DROP ROLE IF EXISTS reawaken_nobody",
        "CREATE ROLE reawaken_nobody LOGIN PASSWORD 'right'",
    )
    monkeypatch.setenv("PGPASSWORD", "wrong")
    cases = {
        reader: 'password authentication failed for user "reawaken_nobody"',
        "postgresql://reader@127.0.0.1:1/cdm": "Connection refused",
    }
    for url, message in cases.items():
        with pytest.raises(InputError) as err:
            store_from(db, url, schema="synthetic", name="omop-2")
        assert message in str(err.value) and "\n" not in str(err.value)
        assert str(err.value).startswith("cannot connect to postgresql://")
        assert "wrong" not in str(err.value)
        assert _digest(db) == digest


def test_a_password_in_the_url_is_refused(tmp_path):
    with pytest.raises(InputError, match="the database URL holds a password"):
        canonical("postgresql://reader:secret@localhost:5432/cdm", schema="cdm")
    with pytest.raises(InputError, match="holds a password"):
        canonical("postgresql://reader@localhost/cdm?password=secret", schema="cdm")


def test_missing_schema_table_and_column_are_named(pg_synthetic, tmp_path):
    pg = pg_synthetic
    pg.execute(
        "DROP SCHEMA IF EXISTS partial CASCADE",
        "CREATE SCHEMA partial",
        "CREATE TABLE partial.person AS SELECT * FROM synthetic.person",
    )
    with pytest.raises(InputError) as err:
        canonical(pg.url, schema="partial")
    assert err.value.reason.startswith("table observation_period not found in schema partial")
    pg.execute(
        "CREATE TABLE partial.observation_period AS SELECT person_id, "
        "observation_period_start_date, observation_period_end_date AS period_end "
        "FROM synthetic.observation_period"
    )
    with pytest.raises(InputError) as err:
        canonical(pg.url, schema="partial")
    assert (err.value.file, err.value.column) == (
        "partial.observation_period",
        "observation_period_end_date",
    )
    assert err.value.reason.startswith("missing required column")
    with pytest.raises(InputError, match="schema nosuch not found"):
        canonical(pg.url, schema="nosuch")


needs_store_urls = pytest.mark.skipif(
    "engine" not in inspect.signature(CohortStore.import_source).parameters,
    reason="the cohort store does not take database URLs yet",
)


@needs_store_urls
def test_cli_imports_from_postgres(pg_synthetic, synthetic_folder, tmp_path, capsys):
    files, pg = tmp_path / "files.duckdb", tmp_path / "pg.duckdb"
    assert (
        main(["cohort", "import", "--source", "omop", str(synthetic_folder), "--db", str(files)])
        == 0
    )
    argv = ["cohort", "import", "--source", "omop", pg_synthetic.url, "--cdm-schema", "synthetic"]
    assert main([*argv, "--db", str(pg)]) == 0
    assert _summary_json(pg, capsys) == _summary_json(files, capsys)
    path = CohortStore(pg).imports()["path"].iloc[0]
    assert path.startswith("postgres postgresql://postgres@") and "schema synthetic" in path


@needs_store_urls
def test_cli_bad_connection_exits_2_and_leaves_the_store(
    pg_synthetic, synthetic_folder, tmp_path, capsys, monkeypatch
):
    db = tmp_path / "c.duckdb"
    assert (
        main(["cohort", "import", "--source", "omop", str(synthetic_folder), "--db", str(db)]) == 0
    )
    digest = _digest(db)
    monkeypatch.setenv("PGPASSWORD", "wrong")
    url = _as_user(pg_synthetic.url, "reawaken_nobody")
    argv = ["cohort", "import", "--source", "omop", url, "--cdm-schema", "synthetic"]
    capsys.readouterr()
    assert main([*argv, "--db", str(db), "--name", "again"]) == 2
    err = capsys.readouterr().err.strip()
    assert "password authentication failed" in err and "\n" not in err
    assert _digest(db) == digest


def test_cli_refuses_a_password_in_the_url(tmp_path, capsys):
    url = "postgresql://reader:secret@localhost:5432/cdm"
    assert (
        main(["cohort", "import", "--source", "omop", url, "--db", str(tmp_path / "c.duckdb")]) == 2
    )
    err = capsys.readouterr().err
    assert "holds a password" in err and "secret" not in err
    assert not (tmp_path / "c.duckdb").exists()
