"""OMOP importer on the Synthea27Nj CDM v5.4 extract, checked against plain pandas queries."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
from cohort_helpers import DATA, rows

from reawaken.cohort.store import CohortStore

# Counts of the Synthea27Nj import (recorded from reawaken and checked by the queries below):
# 28 persons, 804.84 person-years, 3 deaths (other causes), no cancer, 3 SARS-CoV-2 episodes.
EXPECTED = {"persons": 28, "person_years": 804.84, "deaths": 3, "sars-cov-2": 3}


def _independent_counts(synthea: Path) -> dict:
    person = pd.read_csv(synthea / "PERSON.csv")
    obs = pd.read_csv(synthea / "OBSERVATION_PERIOD.csv", parse_dates=[2, 3])
    death = pd.read_csv(synthea / "DEATH.csv", parse_dates=["death_date"])
    span = obs.groupby("person_id").agg(
        s=("observation_period_start_date", "min"), e=("observation_period_end_date", "max")
    )
    span["e"] = death.set_index("person_id")["death_date"].reindex(span.index).fillna(span["e"])
    cond = pd.read_csv(synthea / "CONDITION_OCCURRENCE.csv", parse_dates=["condition_start_date"])
    meas = pd.read_csv(synthea / "MEASUREMENT.csv", parse_dates=["measurement_date"])
    covid = pd.concat(
        [
            cond.loc[
                cond.condition_concept_id == 37311061, ["person_id", "condition_start_date"]
            ].set_axis(["person_id", "d"], axis=1),
            meas.loc[
                (meas.measurement_concept_id == 706158)
                & meas.value_source_value.str.startswith("Detected"),
                ["person_id", "measurement_date"],
            ].set_axis(["person_id", "d"], axis=1),
        ]
    ).sort_values(["person_id", "d"])
    # one episode per person unless records are more than 90 days apart
    episodes = (covid.groupby("person_id")["d"].diff().dt.days.fillna(999) > 90).sum()
    return {
        "persons": len(person),
        "person_years": round(((span.e - span.s).dt.days + 1).sum() / 365.25, 2),
        "deaths": len(death),
        "sars-cov-2": int(episodes),
    }


def test_synthea_counts(tmp_path, synthea):
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source("omop", synthea)
    s = store.summary(min_cell=0)
    got = {
        "persons": s["persons"],
        "person_years": s["person_years"],
        "deaths": s["outcomes"]["death"],
        "sars-cov-2": s["infections"]["sars-cov-2"],
    }
    assert got == EXPECTED == _independent_counts(synthea)
    assert s["tables"]["cancer_diagnosis"] == 0
    assert s["infections"] == {"influenza": 0, "sars-cov-2": 3, "rsv": 0, "other-respiratory": 0}
    assert s["outcomes"]["other_death"] == 3
    # test (measurement) and diagnosis a day apart merge into one episode dated at the first
    assert rows(store.infection()) == [
        ("19", "2021-04-03", "sars-cov-2", "test", False),
        ("21", "2020-12-25", "sars-cov-2", "test", False),
        ("25", "2021-03-03", "sars-cov-2", "test", False),
    ]
    # the default summary suppresses counts under 10
    hidden = store.summary()
    assert hidden["persons"] == 28 and hidden["infections"]["sars-cov-2"] is None


def test_duckdb_database_gives_the_same_cohort(tmp_path, synthea):
    db = tmp_path / "cdm.duckdb"
    con = duckdb.connect(str(db))
    for name in ("PERSON", "OBSERVATION_PERIOD", "DEATH", "CONDITION_OCCURRENCE", "MEASUREMENT"):
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv_auto('{synthea / (name + '.csv')}')"
        )
    con.close()
    a, b = CohortStore(tmp_path / "a.duckdb"), CohortStore(tmp_path / "b.duckdb")
    a.import_source("omop", synthea)
    b.import_source("omop", db)
    for table in ("person", "follow_up", "infection", "outcome"):
        assert rows(b.table(table)) == rows(a.table(table))


def test_handwritten_extract_every_field(tmp_path):
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source("omop", DATA / "omop_small")
    assert rows(store.person()) == [
        ("1", 1950, "female"),
        ("2", 1960, "male"),
        ("3", 1970, "unknown"),
    ]
    assert rows(store.cancer_diagnosis()) == [
        ("1", "2011-03-04", "breast", "C504", None, None, None, None),
        ("3", "2016-05-05", "breast", None, None, None, None, None),  # oncology episode
    ]
    assert rows(store.follow_up()) == [
        ("1", "2010-01-01", "2022-12-31", "end_of_data"),  # two observation periods
        ("2", "2012-06-01", "2021-11-02", "death"),
        ("3", "2015-01-01", "2021-12-31", "death"),
    ]
    assert rows(store.infection()) == [
        ("1", "2018-01-20", "influenza", "diagnosis", True),  # inpatient visit
        ("2", "2021-10-19", "sars-cov-2", "test", False),  # test + two diagnoses: one episode
        ("3", "2019-02-02", "other-respiratory", "diagnosis", False),  # ICD-10 fallback J06.9
        ("3", "2020-11-11", "rsv", "test", False),  # the 'Not detected' test is not an infection
    ]
    assert rows(store.vaccination()) == [
        ("1", "2020-10-15", "influenza"),
        ("2", "2021-03-01", "sars-cov-2"),
        ("3", "2021-04-04", "sars-cov-2"),  # procedure_occurrence
    ]
    assert rows(store.outcome()) == [
        ("1", "2019-05-05", "distant_metastasis", "lung", None),  # concept 254591
        ("1", "2020-01-10", "distant_metastasis", "bone", None),  # ICD-10 fallback C79.51
        ("2", "2021-11-02", "death", None, "covid"),
        ("3", "2021-12-31", "death", None, "cancer"),
    ]
