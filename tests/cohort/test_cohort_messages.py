"""Cohort errors say the value, where it is and why: deaths before birth, unknown stored sources,
generator parameters out of range, a concepts folder that does not exist."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reawaken.cohort.codes import check_concepts
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth import check_params, load_params, simulate
from reawaken.cohort.synth_layouts import generate
from reawaken.errors import InputError


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "extract"
    shutil.copytree(src, dst)
    return dst


def _set(path: Path, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row - 1, column] = value
    frame.to_csv(path, index=False)


def _import_error(tmp_path: Path, kind: str, folder: Path) -> InputError:
    with pytest.raises(InputError) as info:
        CohortStore(tmp_path / "c.duckdb").import_source(kind, folder)
    assert not (tmp_path / "c.duckdb").exists()
    return info.value


# ----- 4. a death before birth is named as such on the death row ----------------------------


def test_flatiron_death_before_birth(tmp_path, flatiron_small):
    folder = _copy(flatiron_small, tmp_path)
    _set(folder / "Enhanced_Mortality_V2.csv", 1, "DateOfDeath", "1940-02")  # F1, born 1950
    err = _import_error(tmp_path, "flatiron", folder)
    assert err.reason == (
        "death date 1940-02 is before birth (BirthYear 1950 in Demographics.csv row 1)"
    )
    assert err.file.endswith("Enhanced_Mortality_V2.csv")
    assert (err.row, err.column) == (1, "DateOfDeath")


def test_flatiron_unreadable_death_and_death_before_last_activity_differ(tmp_path, flatiron_small):
    folder = _copy(flatiron_small, tmp_path)
    _set(folder / "Enhanced_Mortality_V2.csv", 2, "DateOfDeath", "last spring")
    err = _import_error(tmp_path, "flatiron", folder)
    assert err.reason == "death date last spring is not a date YYYY-MM (or YYYY)"
    assert (err.row, err.column) == (2, "DateOfDeath")
    _set(folder / "Enhanced_Mortality_V2.csv", 2, "DateOfDeath", "2017")  # F3 seen in 2020
    err = _import_error(tmp_path, "flatiron", folder)
    assert err.reason == (
        "death date 2017 is before last activity 2020-03-01 (a later record of the patient)"
    )
    assert (err.row, err.column) == (2, "DateOfDeath")


def test_omop_death_before_birth(tmp_path):
    from cohort_helpers import DATA

    folder = _copy(DATA / "omop_small", tmp_path)
    _set(folder / "DEATH.csv", 1, "death_date", "1950-11-02")  # person 2, born 1960
    err = _import_error(tmp_path, "omop", folder)
    assert err.reason == (
        "death date 1950-11-02 is before birth (year_of_birth 1960 in person.csv row 2)"
    )
    assert err.file.endswith("DEATH.csv")
    assert (err.row, err.column) == (1, "death_date")


def test_ukb_death_before_birth(tmp_path, ukb_small):
    folder = _copy(ukb_small, tmp_path)
    _set(folder / "participant.csv", 2, "p40000_i0", "1930-01-01")  # 1002, born 1945
    err = _import_error(tmp_path, "ukb", folder)
    assert err.reason == "death date 1930-01-01 is before birth (p34 1945 in the same row)"
    assert err.file.endswith("participant.csv")
    assert (err.row, err.column) == (2, "p40000_i0")


def test_lenient_import_quarantines_the_death_and_leaves_the_person_out(tmp_path, flatiron_small):
    folder = _copy(flatiron_small, tmp_path)
    _set(folder / "Enhanced_Mortality_V2.csv", 1, "DateOfDeath", "1940-02")
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source("flatiron", folder, lenient=True)
    q = store.quarantine()
    first = q.iloc[0]
    assert first["reason"].startswith("death date 1940-02 is before birth")
    assert "F1" not in set(store.person()["person_id"])


# ----- 7. unknown stored source, parameters out of range, missing concepts folder ------------


def test_unknown_source_names_the_stored_ones(tmp_path, ukb_small):
    db = tmp_path / "c.duckdb"
    store = CohortStore(db)
    store.import_source("ukb", ukb_small)
    message = f"file {db}: source 'nosuch' is not in the cohort store (stored sources: ukb)"
    for call in (
        lambda: store.summary(source="nosuch"),
        lambda: store.person("nosuch"),
        lambda: store.follow_up(source="nosuch"),
    ):
        with pytest.raises(InputError) as info:
            call()
        assert str(info.value) == message
    assert store.sources() == ["ukb"]
    assert store.summary(source="ukb", min_cell=0)["persons"] == len(store.person("ukb"))


def _params(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "params.json"
    path.write_text(json.dumps(content))
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            [1, 2],
            "the parameter file holds a list; it must hold a JSON object of the parameters to "
            'change, e.g. {"immunity_days": {"value": 90}}',
        ),
        (
            {"infection_effect": {"windows": [{"start_day": 0, "end_day": 91, "ratio": -2.0}]}},
            "parameter infection_effect.windows[0].ratio = -2.0 is out of range; accepted: a "
            "hazard ratio, a finite number >= 0",
        ),
        (
            {"infection_effect": {"ratio_after": -2.0}},
            "parameter infection_effect.ratio_after = -2.0 is out of range; accepted: a hazard "
            "ratio, a finite number >= 0",
        ),
        (
            {"repeat_test": {"probability": 1.5}},
            "parameter repeat_test.probability = 1.5 is out of range; accepted: a probability "
            "between 0 and 1",
        ),
        (
            {"seasonal": {"influenza": {"attack_rate": 1.5}}},
            "parameter seasonal.influenza.attack_rate = 1.5 is out of range; accepted: an "
            "attack rate from 0 to below 1",
        ),
        (
            {"loss_to_follow_up": {"ukb": 0}},
            "parameter loss_to_follow_up.ukb = 0 is out of range; accepted: a rate per year, a "
            "finite number > 0",
        ),
        (
            {"relapse": 3},
            "parameter relapse = 3 has the wrong type; accepted: a JSON object {...}",
        ),
        (
            {"data_end": {"value": "2022-13-01"}},
            'parameter data_end.value = "2022-13-01" is out of range; accepted: a date YYYY-MM-DD',
        ),
        (
            {"infection_effect": {"windows": [{"start_day": 0, "ratio": 2.0}]}},
            "parameter infection_effect.windows[0].end_day is missing",
        ),
        (
            {"infection_effect": {"windows": [{"start_day": 9, "end_day": 3, "ratio": 2.0}]}},
            "parameter infection_effect.windows[0]: end_day 3 must be after start_day 9",
        ),
    ],
)
def test_generator_parameters_are_checked(tmp_path, content, reason):
    path = _params(tmp_path, content)
    with pytest.raises(InputError) as info:
        load_params(path)
    assert info.value.reason == reason
    assert info.value.file == str(path)
    with pytest.raises(InputError) as info:
        generate("ukb", 50, 1, tmp_path / "out", path)
    assert info.value.reason == reason
    assert not (tmp_path / "out" / "truth.json").exists()


def test_parameters_given_as_a_dict_are_checked_too():
    params = load_params()
    assert check_params(params) is params
    params["stage_mix"]["I"] = 1.5
    with pytest.raises(InputError) as info:
        simulate(50, 1, "ukb", params)
    assert info.value.reason == (
        "parameter stage_mix.I = 1.5 is out of range; accepted: a probability between 0 and 1"
    )


def test_concepts_folder_must_exist(tmp_path, ukb_small):
    missing = tmp_path / "nope"
    with pytest.raises(InputError) as info:
        CohortStore(tmp_path / "c.duckdb").import_source("ukb", ukb_small, concepts=missing)
    assert str(info.value) == f"file {missing}: concepts folder not found"
    assert not (tmp_path / "c.duckdb").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError) as info:
        check_concepts(empty)
    assert info.value.reason == (
        "the concepts folder holds none of icd10.csv, icd9.csv, cvx.csv, omop.csv, so it "
        "would add no codes"
    )
    (empty / "icd10.csv").write_text("prefix,role,value,label\nJ12,infection,other-respiratory,x\n")
    assert check_concepts(empty) == empty
    assert check_concepts(None) is None
