"""The concept-set SQL (descendants through ``concept_ancestor``, the ICD-10 shape of source
values, test results in words, inpatient visit concepts) gives in PostgreSQL and Spark the
canonical tables it gives in DuckDB, on a CDM that exercises each part."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest
from db_helpers import canonical, load_postgres, load_spark, rows

from omop_records import OMOP_SMALL, condition
from reawaken.cohort.schema import TABLES


@pytest.fixture(scope="module")
def coded_cdm(tmp_path_factory) -> Path:
    """The hand-written CDM recoded: made-up descendants of the sets' concepts with a
    ``concept_ancestor`` table, Read and ICD-10 source values, worded test results, and
    inpatient visits of each concept."""
    folder = tmp_path_factory.mktemp("coded") / "cdm"
    shutil.copytree(OMOP_SMALL, folder)
    for name in ("condition_occurrence", "measurement", "visit_occurrence"):
        (folder / f"{name}.csv").unlink()
    visits = {10: 8717, 11: 32037, 12: 9202}
    pd.DataFrame(
        [
            {
                "visit_occurrence_id": v,
                "person_id": 1,
                "visit_concept_id": c,
                "visit_start_date": "2018-01-20",
                "visit_end_date": "2018-01-25",
            }
            for v, c in visits.items()
        ]
    ).to_csv(folder / "visit_occurrence.csv", index=False)
    pd.DataFrame(
        [
            condition(1, 1, 9990001, "2011-03-04", "254837009"),
            condition(2, 1, 9990002, "2019-05-05"),
            condition(3, 1, 9990003, "2020-01-10"),
            condition(4, 1, 0, "2012-03-04", "C34..00"),
            condition(5, 1, 0, "2013-03-04", "C50.9 Malignant neoplasm of breast"),
            condition(6, 3, 0, "2019-02-02", "J11..00"),
            condition(7, 3, 0, "2019-03-02", "j11.1"),
        ]
        + [condition(10 + v, 1, 4266367, f"201{v - 10}-06-01", visit=v) for v in visits]
    ).to_csv(folder / "condition_occurrence.csv", index=False)
    said = ["Detected - novel coronavirus", "Not detected", "Pos", "negative"]
    days = ["2020-01-19", "2020-05-19", "2020-09-19", "2021-01-19"]  # apart: one episode each
    pd.DataFrame(
        [
            {
                "measurement_id": k + 1,
                "person_id": 2,
                "measurement_concept_id": 9990006 if k == 0 else 706158,
                "measurement_date": day,
                "value_as_concept_id": 0,
                "value_source_value": text,
            }
            for k, (text, day) in enumerate(zip(said, days, strict=True))
        ]
    ).to_csv(folder / "measurement.csv", index=False)
    ancestry = [
        (4112853, 9990001, 1),
        (254591, 9990002, 2),
        (4112853, 9990003, 3),
        (254591, 9990003, 1),
        (706158, 9990006, 1),
    ]
    pd.DataFrame(
        [
            {
                "ancestor_concept_id": a,
                "descendant_concept_id": d,
                "min_levels_of_separation": n,
                "max_levels_of_separation": n,
            }
            for a, d, n in ancestry
        ]
    ).to_csv(folder / "concept_ancestor.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def in_duckdb(coded_cdm) -> dict[str, pd.DataFrame]:
    tables = canonical(coded_cdm)
    # the CDM exercises every part (the values themselves: tests/cohort/test_omop_concepts.py)
    assert rows(tables["cancer_diagnosis"])[0][2] == "breast"
    assert sum(r[2] == "distant_metastasis" for r in rows(tables["outcome"])) == 2
    assert [r[4] for r in rows(tables["infection"]) if r[2] == "influenza"] == [
        True,
        True,
        False,
        False,
    ]
    assert sum(r[3] == "test" for r in rows(tables["infection"])) == 2
    return tables


def _same(got: dict, want: dict) -> None:
    for name in TABLES:
        assert rows(got[name]) == rows(want[name]), name


def test_postgres_gives_the_duckdb_concept_sets(postgres, coded_cdm, in_duckdb):
    load_postgres(postgres, coded_cdm, "coded")
    _same(canonical(postgres.url, schema="coded"), in_duckdb)


@pytest.mark.slow
def test_spark_gives_the_duckdb_concept_sets(spark, coded_cdm, in_duckdb, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark on pandas 3
        load_spark(spark, coded_cdm, "coded", tmp_path)
    _same(canonical("local", engine="spark", schema="coded"), in_duckdb)
