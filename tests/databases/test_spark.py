"""OMOP CDMs in Spark (a local session) read in place: the canonical cohort equals the DuckDB
import of the same files row for row, with the same summary; a missing database or table is
one clear error."""

from __future__ import annotations

import inspect
import json

import pytest
from db_helpers import canonical, omop_read, rows, store_from

from reawaken.cli import main
from reawaken.cohort.schema import TABLES
from reawaken.cohort.store import CohortStore
from reawaken.errors import InputError

pytestmark = [
    pytest.mark.slow,  # a Spark session starts in about 15 s on two cores
    pytest.mark.filterwarnings("ignore::FutureWarning"),  # pyspark on pandas 3
]


def _summary_json(db, capsys) -> dict:
    capsys.readouterr()
    assert main(["cohort", "summary", "--db", str(db), "--json", "--min-cell", "0"]) == 0
    return json.loads(capsys.readouterr().out)


def test_synthea_in_spark_equals_the_duckdb_import(spark_synthea, synthea_folder, tmp_path):
    (tmp_path / "concepts").mkdir()
    (tmp_path / "concepts" / "icd10.csv").write_text(
        "prefix,role,value,label\nJ,infection,other-respiratory,any J code\n"
    )
    options = {"censor_date": "2020-06-30", "concepts": tmp_path / "concepts", "lenient": True}
    got = omop_read("local", engine="spark", schema="synthea", **options)
    want = omop_read(synthea_folder, **options)
    for name in TABLES:
        assert rows(got[0][name]) == rows(want[0][name]), name
    assert got[1] == want[1] > 0
    assert rows(got[2]) == rows(want[2]) and list(got[2]["person_id"]) == ["27"]
    assert len(got[0]["person"]) == 27  # 28 persons, one born after the censor date


def test_synthetic_in_spark_equals_the_duckdb_import(
    spark_synthetic, synthetic_folder, tmp_path, capsys
):
    want = CohortStore(tmp_path / "files.duckdb")
    want.import_source("omop", synthetic_folder)
    got = store_from(tmp_path / "spark.duckdb", "local", engine="spark", schema="synthetic")
    for name in TABLES:
        assert rows(got.table(name)) == rows(want.table(name)), name
    assert _summary_json(tmp_path / "spark.duckdb", capsys) == _summary_json(
        tmp_path / "files.duckdb", capsys
    )


def test_missing_database_and_table_are_named(spark_synthetic):
    spark = spark_synthetic
    with pytest.raises(InputError, match="schema nosuch not found in Spark local"):
        canonical("local", engine="spark", schema="nosuch")
    spark.sql("CREATE DATABASE IF NOT EXISTS partial")
    spark.table("synthetic.person").write.mode("overwrite").saveAsTable("partial.person")
    with pytest.raises(InputError) as err:
        canonical("local", engine="spark", schema="partial")
    assert err.value.reason == "table observation_period not found in schema partial of local"


@pytest.mark.skipif(
    "engine" not in inspect.signature(CohortStore.import_source).parameters,
    reason="the cohort store does not take database URLs yet",
)
def test_cli_imports_from_spark(spark_synthea, synthea_folder, tmp_path, capsys):
    files, spark = tmp_path / "files.duckdb", tmp_path / "spark.duckdb"
    assert (
        main(["cohort", "import", "--source", "omop", str(synthea_folder), "--db", str(files)]) == 0
    )
    argv = ["cohort", "import", "--source", "omop", "local", "--engine", "spark"]
    assert main([*argv, "--cdm-schema", "synthea", "--db", str(spark)]) == 0
    assert _summary_json(spark, capsys) == _summary_json(files, capsys)
    assert CohortStore(spark).imports()["path"].iloc[0] == "spark local schema synthea"


def test_cli_refuses_a_token_in_a_spark_connect_url(tmp_path, capsys):
    url = "sc://localhost:15002/;token=secret"
    db = tmp_path / "c.duckdb"
    assert main(["cohort", "import", "--source", "omop", url, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "holds a token" in err and "secret" not in err
    assert not db.exists()
