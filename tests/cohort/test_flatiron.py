"""Flatiron importer on a small handwritten extract: every field checked."""

from __future__ import annotations

import pandas as pd
from cohort_helpers import rows

from reawaken.cohort.sources.flatiron import impute_death_date
from reawaken.cohort.store import CohortStore


def test_every_field(tmp_path, flatiron_small):
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source("flatiron", flatiron_small)
    assert rows(store.person()) == [
        ("F1", 1950, "female"),
        ("F2", 1962, "female"),
        ("F3", 1948, "male"),
    ]
    assert rows(store.cancer_diagnosis()) == [
        # F1: earliest definite result per marker (ER positive, not the later negative;
        # HER2 equivocal skipped, then negative)
        ("F1", "2015-04-01", "breast", None, "II", "positive", "negative", "negative"),
        ("F2", "2018-02-15", "breast", None, "I", "positive", None, "positive"),
        ("F3", "2016-07-07", "breast", None, None, None, None, None),
    ]
    assert rows(store.follow_up()) == [
        ("F1", "2015-04-01", "2021-02-20", "death"),  # 2021-02: last activity after the 15th
        ("F2", "2018-02-15", "2022-06-30", "last_activity"),
        ("F3", "2016-07-07", "2020-07-01", "death"),  # year only: 1 July
    ]
    assert rows(store.infection()) == [
        ("F1", "2019-01-15", "influenza", "diagnosis", False),
        ("F1", "2020-03-20", "sars-cov-2", "diagnosis", False),
        ("F2", "2019-12-01", "influenza", "diagnosis", False),  # ICD-9 487.1
        ("F2", "2019-12-20", "other-respiratory", "diagnosis", False),
    ]
    assert rows(store.outcome()) == [
        ("F1", "2020-10-10", "distant_metastasis", "lung", None),  # MetDiagnosisDate same day
        ("F1", "2021-02-20", "death", None, None),
        ("F3", "2019-01-01", "distant_metastasis", None, None),
        ("F3", "2019-03-03", "distant_metastasis", "bone", None),
        ("F3", "2020-07-01", "death", None, None),
    ]
    s = store.summary(min_cell=0)
    assert s["outcomes"]["lung_metastasis"] == 1
    assert s["outcomes"]["distant_metastasis"] == 2
    assert s["outcomes"]["death"] == 2
    # Flatiron's tables hold no cause of death: unknown, not "nobody died of cancer"
    assert s["outcomes"]["unknown_cause_death"] == 2
    assert s["outcomes"]["cancer_death"] == "unknown"
    assert s["outcomes"]["other_death"] == "unknown"


def test_death_imputation_rule():
    text = pd.Series(["2021-02", "2021-02", "2020", "2020", "2021-02", "soon"])
    last = pd.Series(
        pd.to_datetime(
            ["2021-02-03", "2021-02-27", "2020-03-01", "2020-11-30", "2021-03-02", "2021-01-01"]
        )
    )
    imputed, bad = impute_death_date(text, last)
    assert imputed[:4].dt.strftime("%Y-%m-%d").tolist() == [
        "2021-02-15",
        "2021-02-27",
        "2020-07-01",
        "2020-11-30",
    ]
    assert bad.tolist() == [False, False, False, False, True, True]
