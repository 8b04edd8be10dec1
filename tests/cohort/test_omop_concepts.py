"""OMOP concept sets on CDMs coded as real ones are: descendants of the sets' concepts through
``concept_ancestor``, source values of other coding systems (Read codes) not read as ICD-10,
free-text test results, and the visit concepts of a stay in hospital."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from cohort_helpers import rows

from omop_records import OMOP_SMALL, condition
from reawaken.cohort.store import CohortStore

BREAST, LUNG_METASTASIS, INFLUENZA, COVID = 4112853, 254591, 4266367, 37311061
SARS_COV_2_TEST, DETECTED = 706158, 4126681


def _cdm(tmp_path: Path, **tables: list[dict]) -> Path:
    """The hand-written CDM with some tables replaced (rows as dicts)."""
    folder = tmp_path / "cdm"
    shutil.copytree(OMOP_SMALL, folder)
    for name, records in tables.items():
        for old in folder.glob(f"{name}.csv"):
            old.unlink()
        for old in folder.glob(f"{name.upper()}.csv"):
            old.unlink()
        pd.DataFrame(records).to_csv(folder / f"{name}.csv", index=False)
    return folder


def _imported(folder: Path, tmp_path: Path) -> CohortStore:
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source("omop", folder)
    return store


# descendants (made-up concept ids, as a local vocabulary would add them) and their ancestors
ANCESTRY = [
    (BREAST, 9990001, 1),  # a breast cancer subtype
    (LUNG_METASTASIS, 9990002, 2),
    (BREAST, 9990003, 3),  # under both: the metastasis is nearer
    (LUNG_METASTASIS, 9990003, 1),
    (INFLUENZA, 9990004, 2),
    (COVID, 9990005, 1),
    (SARS_COV_2_TEST, 9990006, 1),
    (DETECTED, 9990007, 1),
]


def _coded_below_the_sets(tmp_path: Path, with_ancestors: bool) -> CohortStore:
    tables = {
        "condition_occurrence": [
            condition(1, 1, 9990001, "2011-03-04", "254837009"),  # SNOMED code: no fallback
            condition(2, 1, 9990002, "2019-05-05"),
            condition(3, 1, 9990003, "2020-01-10"),
            condition(4, 1, 9990004, "2018-01-20"),
        ],
        "death": [
            {"person_id": 2, "death_date": "2021-11-02", "cause_concept_id": 9990005},
        ],
        "measurement": [
            {
                "measurement_id": 1,
                "person_id": 2,
                "measurement_concept_id": 9990006,
                "measurement_date": "2021-10-19",
                "value_as_concept_id": 9990007,
                "value_source_value": "",
            }
        ],
        "episode": [
            {
                "episode_id": 1,
                "person_id": 3,
                "episode_concept_id": 32528,
                "episode_start_date": "2016-05-05",
                "episode_object_concept_id": 9990001,
            }
        ],
    }
    if with_ancestors:
        tables["concept_ancestor"] = [
            {
                "ancestor_concept_id": a,
                "descendant_concept_id": d,
                "min_levels_of_separation": level,
                "max_levels_of_separation": level,
            }
            for a, d, level in ANCESTRY
        ]
    return _imported(_cdm(tmp_path, **tables), tmp_path)


def test_descendants_of_the_concept_sets_count_with_concept_ancestor(tmp_path):
    store = _coded_below_the_sets(tmp_path, with_ancestors=True)
    assert rows(store.cancer_diagnosis()) == [
        ("1", "2011-03-04", "breast", None, None, None, None, None),
        ("3", "2016-05-05", "breast", None, None, None, None, None),  # episode site
    ]
    assert rows(store.outcome()) == [
        ("1", "2019-05-05", "distant_metastasis", "lung", None),
        ("1", "2020-01-10", "distant_metastasis", "lung", None),  # nearest ancestor
        ("2", "2021-11-02", "death", None, "covid"),
    ]
    assert rows(store.infection()) == [
        ("1", "2018-01-20", "influenza", "diagnosis", False),
        ("2", "2021-10-19", "sars-cov-2", "test", False),
    ]


def test_without_concept_ancestor_only_the_sets_own_concepts_count(tmp_path):
    store = _coded_below_the_sets(tmp_path, with_ancestors=False)
    assert rows(store.cancer_diagnosis()) == [
        ("3", "2016-05-05", "other", None, None, None, None, None),  # not a cancer concept
    ]
    assert rows(store.outcome()) == [("2", "2021-11-02", "death", None, "other")]
    assert rows(store.infection()) == []


def test_read_codes_are_not_read_as_icd10(tmp_path):
    folder = _cdm(
        tmp_path,
        condition_occurrence=[
            condition(1, 1, 0, "2011-03-04", "C10E.00"),  # Read: type 1 diabetes
            condition(2, 1, 0, "2012-03-04", "C34..00"),  # Read: gout (ICD-10 C34: lung)
            condition(3, 1, 0, "2013-03-04", "J11..00"),  # Read: gastric ulcer (J11: flu)
            condition(4, 1, 0, "2014-03-04", "B34.."),  # Read: breast cancer
            condition(5, 1, 0, "2015-03-04", "C50.9 Malignant neoplasm of breast"),
            condition(6, 1, 0, "2019-05-05", "c78.0"),
            condition(7, 3, 0, "2019-02-02", "J11"),
        ],
    )
    store = _imported(folder, tmp_path)
    assert rows(store.cancer_diagnosis()) == [
        ("1", "2015-03-04", "breast", "C509MALIGNANTNEOPLASMOFBREAST", None, None, None, None),
        ("3", "2016-05-05", "breast", None, None, None, None, None),  # oncology episode
    ]
    assert [r for r in rows(store.outcome()) if r[2] == "distant_metastasis"] == [
        ("1", "2019-05-05", "distant_metastasis", "lung", None),
    ]
    assert rows(store.infection()) == [
        ("2", "2021-10-19", "sars-cov-2", "test", False),
        ("3", "2019-02-02", "influenza", "diagnosis", False),
        ("3", "2020-11-11", "rsv", "test", False),
    ]


@pytest.mark.parametrize(
    ("said", "positive"),
    [
        ("Detected", True),
        ("POSITIVE", True),
        ("Pos", True),
        ("Presumptive positive", True),
        ("Detected - novel coronavirus", True),
        ("Positive, notified provider", True),
        ("Not detected", False),
        ("None detected", False),
        ("Negative", False),
        ("neg", False),
        ("no virus detected", False),
        ("Undetected", False),
        ("Possible", False),
    ],
)
def test_a_test_result_in_words(tmp_path, said, positive):
    folder = _cdm(
        tmp_path,
        measurement=[
            {
                "measurement_id": 1,
                "person_id": 2,
                "measurement_concept_id": SARS_COV_2_TEST,
                "measurement_date": "2021-10-19",
                "value_as_concept_id": 0,
                "value_source_value": said,
            }
        ],
    )
    tests = [r for r in rows(_imported(folder, tmp_path).infection()) if r[3] == "test"]
    assert tests == ([("2", "2021-10-19", "sars-cov-2", "test", False)] if positive else [])


def test_a_stay_in_hospital_by_any_inpatient_visit_concept(tmp_path):
    visits = {10: 8717, 11: 32037, 12: 262, 13: 9201, 14: 9202, 15: 9203}
    folder = _cdm(
        tmp_path,
        visit_occurrence=[
            {
                "visit_occurrence_id": v,
                "person_id": 1,
                "visit_concept_id": concept,
                "visit_start_date": f"2018-0{v - 9}-20",
                "visit_end_date": f"2018-0{v - 9}-25",
            }
            for v, concept in visits.items()
        ],
        condition_occurrence=[
            condition(v, 1, INFLUENZA, f"201{v - 10}-01-20", visit=v) for v in visits
        ],
    )
    flu = [r for r in rows(_imported(folder, tmp_path).infection()) if r[2] == "influenza"]
    assert [(r[1], r[4]) for r in flu] == [
        ("2010-01-20", True),  # 8717 Inpatient Hospital
        ("2011-01-20", True),  # 32037 Intensive Care
        ("2012-01-20", True),  # 262 Emergency Room and Inpatient Visit
        ("2013-01-20", True),  # 9201 Inpatient Visit
        ("2014-01-20", False),  # 9202 Outpatient Visit
        ("2015-01-20", False),  # 9203 Emergency Room Visit
    ]
