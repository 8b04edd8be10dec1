"""An OMOP CDM in a DuckDB file, attached read-only to the import's connection: the same
cohort as the CSV files, tables in a named schema and views read, the file left as it was,
and a file that is not a DuckDB database named in one error."""

from __future__ import annotations

import hashlib

import duckdb
import pytest
from db_helpers import rows

from reawaken.cohort.schema import TABLES
from reawaken.cohort.store import CohortStore
from reawaken.errors import InputError

NAMES = ("PERSON", "OBSERVATION_PERIOD", "DEATH", "CONDITION_OCCURRENCE", "MEASUREMENT")


def _cdm_file(path, folder, *, schema: str, views: bool) -> None:
    """The CSV tables of ``folder`` in schema ``schema`` of a DuckDB file (``views``: person
    and death as views over tables of another schema)."""
    con = duckdb.connect(str(path))
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for name in NAMES:
        csv = folder / f"{name}.csv"
        if views and name in ("PERSON", "DEATH"):
            con.execute(f"CREATE TABLE raw.{name} AS SELECT * FROM read_csv_auto('{csv}')")
            con.execute(f"CREATE VIEW {schema}.{name} AS SELECT * FROM raw.{name}")
        else:
            con.execute(f"CREATE TABLE {schema}.{name} AS SELECT * FROM read_csv_auto('{csv}')")
    con.close()


@pytest.mark.parametrize("views", [False, True])
def test_duckdb_file_in_a_schema_equals_the_files(tmp_path, synthea_folder, views):
    cdm = tmp_path / "cdm.duckdb"
    _cdm_file(cdm, synthea_folder, schema="cdm54", views=views)
    before = hashlib.sha256(cdm.read_bytes()).hexdigest()
    want, got = CohortStore(tmp_path / "a.duckdb"), CohortStore(tmp_path / "b.duckdb")
    want.import_source("omop", synthea_folder)
    got.import_source("omop", cdm, cdm_schema="cdm54")
    for name in TABLES:
        assert rows(got.table(name)) == rows(want.table(name)), name
    assert len(got.person()) == 28
    assert hashlib.sha256(cdm.read_bytes()).hexdigest() == before  # read only


def test_missing_table_in_the_schema_is_named(tmp_path, synthea_folder):
    cdm = tmp_path / "cdm.duckdb"
    _cdm_file(cdm, synthea_folder, schema="cdm54", views=False)
    store = tmp_path / "c.duckdb"
    with pytest.raises(InputError, match="table person not found in the database"):
        CohortStore(store).import_source("omop", cdm, cdm_schema="other")
    assert not store.exists()


def test_a_file_that_is_not_duckdb_is_named(tmp_path):
    bogus = tmp_path / "cdm.duckdb"
    bogus.write_text("person_id,year_of_birth\n1,1950\n")
    store = tmp_path / "c.duckdb"
    with pytest.raises(InputError, match="not a DuckDB database") as err:
        CohortStore(store).import_source("omop", bogus)
    assert str(bogus) in str(err.value)
    assert not store.exists()


def test_the_store_cannot_be_the_cdm_file(tmp_path, synthea_folder):
    cdm = tmp_path / "cdm.duckdb"
    _cdm_file(cdm, synthea_folder, schema="cdm54", views=False)
    before = hashlib.sha256(cdm.read_bytes()).hexdigest()
    with pytest.raises(InputError, match="cannot be the extract's own file"):
        CohortStore(cdm).import_source("omop", cdm, cdm_schema="cdm54")
    assert hashlib.sha256(cdm.read_bytes()).hexdigest() == before
