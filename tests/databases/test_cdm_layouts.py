"""OMOP CDMs laid out as they are found, read in place: dates stored as TIMESTAMP WITH TIME
ZONE give their UTC date whatever the machine's time zone (DuckDB over Parquet files or a
DuckDB file, PostgreSQL, Spark); a DuckDB file holding a CDM table in two schemas is refused
until one is chosen; OHDSI Athena's vocabulary files (tab-separated though named ``.csv``)
are read; a Spark schema qualified by its catalog (``spark_catalog.cdm``) is read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from db_helpers import cdm_arrow, rows

from reawaken.cli import main
from reawaken.cohort import engines, generate
from reawaken.cohort.schema import TABLES
from reawaken.cohort.sources import omop
from reawaken.cohort.store import CohortStore
from reawaken.errors import InputError

N, SEED = 300, 11  # a small synthetic CDM: every canonical table holds rows
#: Time zones either side of UTC: 02:00 UTC is the day before in New York (UTC-5, UTC-4 in
#: summer) and 22:00 UTC the day after in Tokyo (UTC+9, no summer time).
ZONES = ("America/New_York", "Asia/Tokyo")

#: Imports run in a fresh process whose time zone is TZ (and PGTZ, the zone libpq asks the
#: PostgreSQL server to use).
IMPORT = """
import json, sys
from reawaken.cohort.store import CohortStore
for db, where, options in json.loads(sys.argv[1]):
    CohortStore(db).import_source("omop", where, **options)
"""


def _canonical(store: CohortStore) -> dict[str, list[tuple]]:
    return {name: rows(store.table(name)) for name in TABLES}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A synthetic OMOP extract: CSV files with DATE columns."""
    out = tmp_path_factory.mktemp("omop-csv")
    generate("omop", N, SEED, out)
    return out


@pytest.fixture(scope="module")
def want(folder, tmp_path_factory) -> dict[str, list[tuple]]:
    """The canonical tables of the CSV files."""
    store = CohortStore(tmp_path_factory.mktemp("want") / "c.duckdb")
    store.import_source("omop", folder)
    return _canonical(store)


def _with_time_zone(table: pa.Table) -> pa.Table:
    """``table`` with each DATE column as TIMESTAMP WITH TIME ZONE: the date at 02:00 UTC in
    even rows and at 22:00 UTC in odd rows, so that a date taken in New York's time zone is a
    day early in the first and one taken in Tokyo's a day late in the second."""
    hours = pd.to_timedelta([2 if k % 2 == 0 else 22 for k in range(table.num_rows)], unit="h")
    columns = []
    for column in table.columns:
        if pa.types.is_date(column.type):
            stamps = pd.to_datetime(column.to_pandas()) + hours
            column = pa.array(stamps.dt.tz_localize("UTC"), type=pa.timestamp("us", tz="UTC"))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


@pytest.fixture(scope="module")
def zoned(folder, tmp_path_factory):
    """The CDM's tables as Parquet files, their dates TIMESTAMP WITH TIME ZONE."""
    out = tmp_path_factory.mktemp("omop-timestamptz")
    for name, table in cdm_arrow(folder).items():
        pq.write_table(_with_time_zone(table), out / f"{name}.parquet")
    return out


@pytest.fixture(scope="module")
def zoned_file(zoned, tmp_path_factory):
    """The same tables in a DuckDB file (schema main), as DuckDB reads them."""
    path = tmp_path_factory.mktemp("omop-duckdb") / "cdm.duckdb"
    con = duckdb.connect(str(path))
    for file in sorted(zoned.glob("*.parquet")):
        con.execute(f"CREATE TABLE {file.stem} AS SELECT * FROM read_parquet('{file}')")
    kinds = con.execute(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'observation_period' AND column_name LIKE '%date'"
    ).fetchall()
    con.close()
    assert kinds == [("TIMESTAMP WITH TIME ZONE",)] * 2  # what this test is about
    return path


def _import_in_zone(zone: str, jobs: list[tuple]) -> None:
    """Run the imports ``jobs`` (store, where, options) in a process whose time zone is
    ``zone``."""
    env = {**os.environ, "TZ": zone, "PGTZ": zone}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT, json.dumps(jobs)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("zone", ZONES)
def test_duckdb_timestamptz_dates_are_utc_dates_in_any_time_zone(
    zone, zoned, zoned_file, want, tmp_path
):
    parquet, file = tmp_path / "parquet.duckdb", tmp_path / "file.duckdb"
    _import_in_zone(zone, [(str(parquet), str(zoned), {}), (str(file), str(zoned_file), {})])
    assert _canonical(CohortStore(parquet)) == want
    assert _canonical(CohortStore(file)) == want


@pytest.mark.parametrize("zone", ZONES)
def test_postgres_timestamptz_dates_are_utc_dates_in_any_time_zone(
    zone, postgres, zoned, want, tmp_path
):
    postgres.execute("DROP SCHEMA IF EXISTS zoned CASCADE", "CREATE SCHEMA zoned")
    with postgres.connect() as con:
        with con.cursor() as cur:
            for file in sorted(zoned.glob("*.parquet")):
                cur.adbc_ingest(file.stem, pq.read_table(file), db_schema_name="zoned")
        con.commit()
    kinds = postgres.query(
        "SELECT DISTINCT data_type FROM information_schema.columns "
        "WHERE table_schema = 'zoned' AND column_name LIKE '%date'"
    )
    assert list(kinds["data_type"]) == ["timestamp with time zone"]
    db = tmp_path / "pg.duckdb"
    _import_in_zone(zone, [(str(db), postgres.url, {"engine": "postgres", "cdm_schema": "zoned"})])
    assert _canonical(CohortStore(db)) == want


@pytest.mark.slow  # a Spark session starts in about 15 s on two cores
@pytest.mark.filterwarnings("ignore::FutureWarning")  # pyspark on pandas 3
def test_spark_reads_a_catalog_qualified_schema_and_utc_dates(spark, zoned, want, tmp_path, capsys):
    spark.sql("CREATE DATABASE IF NOT EXISTS spark_catalog.zoned")
    for file in sorted(zoned.glob("*.parquet")):
        spark.sql(f"CREATE TABLE spark_catalog.zoned.{file.stem} USING parquet LOCATION '{file}'")
    start = spark.table("spark_catalog.zoned.observation_period").schema
    assert str(start["observation_period_start_date"].dataType) == "TimestampType()"
    key = "spark.sql.session.timeZone"
    before = spark.conf.get(key)
    spark.conf.set(key, "America/New_York")
    try:
        db = tmp_path / "spark.duckdb"
        argv = ["cohort", "import", "--source", "omop", "local", "--engine", "spark"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            done = main([*argv, "--cdm-schema", "spark_catalog.zoned", "--db", str(db)])
        assert done == 0, capsys.readouterr().err
        assert spark.conf.get(key) == "America/New_York"  # the session is left as it was
    finally:
        spark.conf.set(key, before)
    store = CohortStore(db)
    assert _canonical(store) == want
    assert store.imports()["path"].iloc[0] == "spark local schema spark_catalog.zoned"


# ----- schema names --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "engine", "schema", "says"),
    [
        ("local", "spark", "main.cdm.x", "not a schema name"),
        ("local", "spark", "main.", "not a schema name"),
        ("local", "spark", 'cdm"; DROP TABLE person; --', "not a schema name"),
        ("postgresql://reader@localhost:5432/cdm", "postgres", "main.cdm", "only Spark"),
        ("cdm.duckdb", "duckdb", "main.cdm", "only Spark"),
    ],
)
def test_a_malformed_schema_is_refused_before_connecting(where, engine, schema, says):
    with pytest.raises(InputError, match=says) as err:
        engines.connect(where, omop.CDM_TABLES, engine=engine, schema=schema)
    assert str(err.value).startswith(f"the CDM schema {schema!r}")
    assert "\n" not in str(err.value) and "--" not in str(err.value).replace(schema, "")


@pytest.mark.parametrize("schema", ["main.cdm.x", ".cdm", "cdm; drop", "main-cdm"])
def test_the_command_line_refuses_a_malformed_schema(schema, tmp_path, capsys):
    argv = ["cohort", "import", "--source", "omop", "local", "--engine", "spark"]
    assert main([*argv, "--cdm-schema", schema, "--db", str(tmp_path / "c.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "--cdm-schema" in err and "catalog.schema" in err
    assert not (tmp_path / "c.duckdb").exists()


# ----- a DuckDB file with several schemas ----------------------------------------------------
def _two_schemas(path, folder) -> None:
    """The CDM in schema cdm of a DuckDB file, and an older copy of person (10 rows) in
    schema archive."""
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA cdm")
    con.execute("CREATE SCHEMA archive")
    for file in sorted(folder.glob("*.csv")):
        con.execute(f"CREATE TABLE cdm.{file.stem} AS SELECT * FROM read_csv_auto('{file}')")
    con.execute("CREATE TABLE archive.person AS SELECT * FROM cdm.person LIMIT 10")
    con.close()


def test_a_table_in_two_schemas_of_a_duckdb_file_is_refused(folder, want, tmp_path):
    cdm = tmp_path / "omop.duckdb"  # not cdm.duckdb: its catalog would share the schema's name
    _two_schemas(cdm, folder)
    store = tmp_path / "c.duckdb"
    with pytest.raises(InputError) as err:
        CohortStore(store).import_source("omop", cdm)
    assert err.value.reason == (
        "table person is in more than one schema (archive, cdm): choose one as the CDM schema"
    )
    assert err.value.file == str(cdm)
    assert not store.exists()
    CohortStore(store).import_source("omop", cdm, cdm_schema="cdm")
    assert _canonical(CohortStore(store)) == want


@pytest.mark.parametrize(("schema", "label"), [("cdm", "cdm.person"), ("main", "person")])
def test_a_duckdb_files_table_is_named_with_its_schema(folder, tmp_path, schema, label):
    cdm = tmp_path / "omop.duckdb"
    con = duckdb.connect(str(cdm))
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for file in sorted(folder.glob("*.csv")):
        con.execute(f"CREATE TABLE {schema}.{file.stem} AS SELECT * FROM read_csv_auto('{file}')")
    con.execute(f"ALTER TABLE {schema}.person DROP COLUMN year_of_birth")
    con.close()
    with pytest.raises(InputError) as err:
        CohortStore(tmp_path / "c.duckdb").import_source("omop", cdm)
    assert err.value.file == f"{cdm}:{label}"
    assert err.value.column == "year_of_birth"


# ----- Athena's vocabulary files ------------------------------------------------------------
#: Concepts as OHDSI Athena lists them (CONCEPT.csv: tab-separated, names holding commas).
ATHENA = pd.DataFrame(
    {
        "concept_id": ["724907", "40213152", "4112853", "9201"],
        "concept_name": [
            "COVID-19, mRNA, LNP-S, PF, 100 mcg/0.5 mL dose",
            "influenza, injectable, quadrivalent",
            "Malignant tumor of breast",
            "Inpatient Visit",
        ],
        "domain_id": ["Drug", "Drug", "Condition", "Visit"],
        "vocabulary_id": ["CVX", "CVX", "SNOMED", "Visit"],
        "concept_class_id": ["CVX", "CVX", "Clinical Finding", "Visit"],
        "standard_concept": ["S", "S", "S", "S"],
        "concept_code": ["207", "150", "254837009", "IP"],
        "valid_start_date": ["20201210", "20020131", "20020131", "19700101"],
        "valid_end_date": ["20991231"] * 4,
        "invalid_reason": [""] * 4,
    }
)


@pytest.mark.parametrize("concepts", [1, 4], ids=["one concept", "four concepts"])
def test_athenas_tab_separated_concept_csv_is_read(concepts, folder, want, tmp_path):
    """Vaccinations coded by concept (CVX 207), their source value a plain text: found
    through CONCEPT.csv alone, the same whether it is tab- or comma-separated."""
    found = {}
    for sep in (",", "\t"):
        cdm = tmp_path / ("tab" if sep == "\t" else "comma")
        cdm.mkdir()
        for file in folder.glob("*.csv"):
            frame = pd.read_csv(file, dtype=str, keep_default_na=False)
            if file.stem == "drug_exposure":
                frame["drug_concept_id"] = "724907"
                frame["drug_source_value"] = "COVID vaccine"
            frame.to_csv(cdm / file.name, index=False)
        ATHENA.head(concepts).to_csv(cdm / "CONCEPT.csv", sep=sep, index=False)
        store = CohortStore(tmp_path / f"{cdm.name}.duckdb")
        store.import_source("omop", cdm)
        found[sep] = store.table("vaccination")
    assert rows(found["\t"]) == rows(found[","])
    vaccinations = found["\t"]
    assert len(vaccinations) == len(want["vaccination"]) > 0  # every drug exposure, as CVX 207
    assert set(vaccinations["vaccine"]) == {"sars-cov-2"}
