"""UK Biobank importer on a small handwritten extract: every field checked."""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
from cohort_helpers import rows

from reawaken.cohort.store import CohortStore


def _py(*spans: tuple[str, str]) -> float:
    days = sum((date.fromisoformat(b) - date.fromisoformat(a)).days + 1 for a, b in spans)
    return round(days / 365.25, 2)


def test_every_field(tmp_path, ukb_small):
    store = CohortStore(tmp_path / "c.duckdb")
    result = store.import_source("ukb", ukb_small)
    # default censor date: the latest date the extract holds (1004's test on 2022-04-08)
    assert result.censor_date == pd.Timestamp("2022-04-08")
    assert rows(store.person()) == [
        ("1001", 1950, "female"),
        ("1002", 1945, "male"),
        ("1003", 1960, "female"),
        ("1004", 1955, "female"),
    ]
    assert rows(store.cancer_diagnosis()) == [
        ("1001", "2005-03-10", "breast", "C509", None, None, None, None),
        ("1002", "2001-11-11", "prostate", "C61", None, None, None, None),
        ("1002", "2003-02-02", "other", "C795", "IV", None, None, None),  # prevalent metastasis
        ("1003", "2010-02-02", "breast", "C504", None, None, None, None),
    ]
    assert rows(store.follow_up()) == [
        ("1001", "2008-05-01", "2022-03-15", "death"),
        ("1002", "2007-01-20", "2021-01-20", "death"),
        ("1003", "2009-09-09", "2020-06-30", "lost"),
        ("1004", "2010-01-05", "2022-04-08", "end_of_data"),
    ]
    # 1001: 2020-11-02 and 05/11/2020 (inpatient) are one episode; 2021-03-01 is 119 days later
    # 1004: 2022-04-08 is 88 days after 2022-01-10, so the same episode
    assert rows(store.infection()) == [
        ("1001", "2020-11-02", "sars-cov-2", "test", True),
        ("1001", "2021-03-01", "sars-cov-2", "test", False),
        ("1002", "2021-01-05", "sars-cov-2", "test", True),
        ("1004", "2022-01-10", "sars-cov-2", "test", False),
    ]
    assert store.vaccination().empty
    assert rows(store.outcome()) == [
        ("1001", "2021-06-01", "distant_metastasis", "lung", None),
        ("1001", "2022-03-15", "death", None, "cancer"),
        ("1002", "2021-01-20", "death", None, "covid"),
    ]
    s = store.summary(min_cell=0)
    assert s["persons"] == 4
    assert s["person_years"] == _py(
        ("2008-05-01", "2022-03-15"),
        ("2007-01-20", "2021-01-20"),
        ("2009-09-09", "2020-06-30"),
        ("2010-01-05", "2022-04-08"),
    )
    assert s["outcomes"] == {
        "lung_metastasis": 1,
        "distant_metastasis": 1,
        "cancer_death": 1,
        "covid_death": 1,
        "other_death": 0,
        "unknown_cause_death": 0,
        "death": 2,
    }
    assert s["infections"] == {"influenza": 0, "sars-cov-2": 4, "rsv": 0, "other-respiratory": 0}
    assert s["infections_by_month"] == {
        "2020-11": {"sars-cov-2": 1},
        "2021-01": {"sars-cov-2": 1},
        "2021-03": {"sars-cov-2": 1},
        "2022-01": {"sars-cov-2": 1},
    }


def test_old_column_style_gives_the_same_cohort(tmp_path, ukb_small):
    folder = tmp_path / "old"
    folder.mkdir()
    part = pd.read_csv(ukb_small / "participant.csv", dtype=str)
    rename = {
        "p31": "31-0.0",
        "p34": "34-0.0",
        "p53_i0": "53-0.0",
        "p190": "190-0.0",
        "p191": "191-0.0",
        "p40002_i0_a0": "40002-0.0",
    }
    for col in part.columns:
        if col.startswith("p400") and col not in rename:
            field, inst = col[1:].split("_i")
            rename[col] = f"{field}-{inst}.0"
    part.rename(columns=rename).to_csv(folder / "participant.csv", index=False)
    shutil.copy(ukb_small / "covid19_result.tsv", folder / "covid19_result.tsv")
    new, old = CohortStore(tmp_path / "new.duckdb"), CohortStore(tmp_path / "old.duckdb")
    new.import_source("ukb", ukb_small)
    old.import_source("ukb", folder)
    for table in ("person", "cancer_diagnosis", "follow_up", "infection", "outcome"):
        assert rows(old.table(table)) == rows(new.table(table))


def test_censor_date_cuts_follow_up(tmp_path, ukb_small):
    store = CohortStore(tmp_path / "c.duckdb")
    result = store.import_source("ukb", ukb_small, censor_date="2021-02-01")
    # left out: 1001's metastasis, death and 2021-03-01 test; 1004's two tests
    assert result.n_after_censor == 5
    assert rows(store.follow_up()) == [
        ("1001", "2008-05-01", "2021-02-01", "censor_date"),
        ("1002", "2007-01-20", "2021-01-20", "death"),
        ("1003", "2009-09-09", "2020-06-30", "lost"),
        ("1004", "2010-01-05", "2021-02-01", "censor_date"),
    ]
    assert rows(store.outcome()) == [("1002", "2021-01-20", "death", None, "covid")]
    assert store.imports()["censor_date"].astype(str).tolist() == ["2021-02-01"]
