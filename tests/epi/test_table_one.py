"""Table 1: the persons at risk by exposure status, standardized differences computed by hand,
and small counts that cannot be read back from the groups' sizes."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reawaken.epi.table_one as table_one_module
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_layouts import generate
from reawaken.epi import cohort_designs as designs
from reawaken.epi.table_one import TABLE_ONE_COLUMNS, table_one
from reawaken.errors import InputError


class TinyStore:
    """A cohort store of a few hand-made persons: the canonical tables person_table reads."""

    path = Path("tiny.duckdb")

    def __init__(self, rows: list[dict], infections: list[tuple[str, str, str]]) -> None:
        frame = pd.DataFrame(rows).assign(source="registry")
        self.tables = {
            "person": frame[["source", "person_id", "birth_year", "sex"]],
            "cancer_diagnosis": frame.assign(
                site="breast", code="C50", diagnosis_date=pd.to_datetime(frame["diagnosis"])
            )[
                [
                    "source",
                    "person_id",
                    "diagnosis_date",
                    "site",
                    "code",
                    "stage",
                    "er",
                    "pr",
                    "her2",
                ]
            ],
            "follow_up": frame.assign(
                start_date=pd.to_datetime(frame["start"]),
                end_date=pd.to_datetime(frame["end"]),
                end_reason="end_of_data",
            )[["source", "person_id", "start_date", "end_date", "end_reason"]],
            "outcome": pd.DataFrame(
                {
                    "source": pd.Series(dtype=str),
                    "person_id": pd.Series(dtype=str),
                    "outcome_date": pd.Series(dtype="datetime64[ns]"),
                    "outcome_type": pd.Series(dtype=str),
                    "site": pd.Series(dtype=object),
                    "cause": pd.Series(dtype=object),
                }
            ),
            "infection": pd.DataFrame(
                {
                    "source": "registry",
                    "person_id": [i for i, _, _ in infections],
                    "infection_date": pd.to_datetime([d for _, d, _ in infections]),
                    "pathogen": [p for _, _, p in infections],
                }
            ),
            "imports": pd.DataFrame({"source": ["registry"], "kind": ["omop"]}),
        }

    def __getattr__(self, name):
        if name in ("tables",):
            raise AttributeError(name)
        return lambda source=None: self.tables[name].copy()


def _tiny(n_exposed: int = 12) -> TinyStore:
    """24 persons diagnosed on 2019-01-01: exposed ages 50, 52, ..., stage II for half of them;
    unexposed ages 45, 50, ..., stage II for a quarter. Two more are not exposed although they
    have records: one infected before the at-risk start, one with RSV only."""
    rows, infections = [], []
    for k in range(24):
        exposed = k < n_exposed
        age = 50 + 2 * k if exposed else 45 + 5 * (k - 12) % 40
        stage = ("II" if k % 2 else "I") if exposed else ("II" if k % 4 == 0 else "I")
        rows.append(
            {
                "person_id": f"p{k:02d}",
                "birth_year": 2019 - age,
                "sex": "female",
                "diagnosis": "2019-01-01",
                "stage": stage,
                "er": "positive" if k % 3 else None,
                "pr": None,
                "her2": None,
                "start": "2018-06-01" if k == 23 else "2019-01-01",
                "end": f"{2020 + k % 3}-12-31",
            }
        )
        if exposed:
            infections.append((f"p{k:02d}", "2020-03-15", "sars-cov-2"))
    infections.append(("p23", "2018-10-01", "sars-cov-2"))  # before the at-risk start
    infections.append(("p22", "2020-02-01", "rsv"))  # not an exposure
    return TinyStore(rows, infections)


def test_standardized_differences_equal_a_hand_computation():
    store = _tiny()
    table = table_one(store, "sars-cov-2", "distant_metastasis", min_cell=0)
    assert table.columns.tolist() == TABLE_ONE_COLUMNS
    row = table.set_index(["variable", "level"])
    assert (row.loc[("persons", ""), "n_exposed"], row.loc[("persons", ""), "n_unexposed"]) == (
        12,
        12,
    )
    # age: sample means and sds of the ages written above, Austin's pooled sd
    a1 = np.array([50 + 2 * k for k in range(12)], float)
    a0 = np.array([45 + 5 * (k - 12) % 40 for k in range(12, 24)], float)
    s1, s0 = a1.std(ddof=1), a0.std(ddof=1)
    age = row.loc[("age at diagnosis, years", "")]
    assert age["mean_exposed"] == pytest.approx(a1.mean())
    assert age["sd_unexposed"] == pytest.approx(s0)
    assert age["smd"] == pytest.approx((a1.mean() - a0.mean()) / math.sqrt((s1**2 + s0**2) / 2))
    assert age["exposed"] == f"{a1.mean():.1f} ({s1:.1f})"
    # stage II: 6 of 12 exposed, 3 of 12 unexposed
    p1, p0 = 0.5, 0.25
    stage = row.loc[("stage", "II")]
    assert stage["smd"] == pytest.approx((p1 - p0) / math.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2))
    assert stage["smd"] == pytest.approx(0.5345225)
    assert (stage["exposed"], stage["unexposed"]) == ("6 (50.0%)", "3 (25.0%)")
    assert row.loc[("stage", "I"), "smd"] == pytest.approx(-stage["smd"])
    assert row.loc[("stage", "unknown"), "exposed"] == "0 (0.0%)"
    assert row.loc[("stage", "unknown"), "smd"] == 0.0
    # ER recorded for two thirds, unknown the rest; PR and HER2 never recorded: not shown
    er = row.loc["ER status"]
    assert er.loc["positive", "n_exposed"] + er.loc["unknown", "n_exposed"] == 12
    assert "PR status" not in set(table["variable"]) and "HER2 status" not in set(table["variable"])
    assert row.loc[("source", "omop"), "pct_exposed"] == 100.0
    # follow-up: from the at-risk start (diagnosis, also for p23 whose follow-up began before)
    years = (
        np.array(
            [
                (pd.Timestamp(f"{2020 + k % 3}-12-31") - pd.Timestamp("2019-01-01")).days + 1
                for k in range(24)
            ]
        )
        / 365.25
    )
    follow = row.loc[("follow-up, years", "")]
    assert follow["mean_exposed"] == pytest.approx(years[:12].mean())
    assert follow["mean_unexposed"] == pytest.approx(years[12:].mean())


def test_exposed_means_infected_during_follow_up_at_risk():
    store = _tiny()
    frame = table_one_module.baseline(store, "sars-cov-2", "distant_metastasis")
    exposed = set(frame.loc[frame["exposed"], "id"].str.split("/").str[1])
    assert exposed == {f"p{k:02d}" for k in range(12)}  # not p23 (before), not p22 (RSV)
    assert table_one(store, "influenza", "distant_metastasis", min_cell=0).iloc[0][
        ["n_exposed", "n_unexposed"]
    ].tolist() == [0, 24]


def test_a_small_exposed_group_empties_the_table():
    table = table_one(_tiny(n_exposed=3), "sars-cov-2", "distant_metastasis", min_cell=10)
    numbers = [
        c for c in TABLE_ONE_COLUMNS if c not in ("variable", "level", "exposed", "unexposed")
    ]
    assert table[numbers].isna().all().all()
    assert (table["exposed"] == "").all() and (table["unexposed"] == "").all()
    assert len(table) > 10  # the labels stay


@pytest.fixture(scope="module")
def flatiron(tmp_path_factory) -> CohortStore:
    # as `reawaken cohort synth --like flatiron --n 3000 --seed 1` then `cohort import`
    tmp = tmp_path_factory.mktemp("flatiron")
    truth = generate("flatiron", 3000, 1, tmp / "files")
    store = CohortStore(tmp / "c.duckdb")
    store.import_source("flatiron", tmp / "files", **truth["import_options"])
    return store


@pytest.mark.parametrize("exposure", ["sars-cov-2", "influenza", "any"])
@pytest.mark.parametrize("min_cell", [10, 40])
def test_hidden_counts_cannot_be_derived_from_the_group_sizes(flatiron, exposure, min_cell):
    full = table_one(flatiron, exposure, "lung_metastasis", min_cell=0)
    shown = table_one(flatiron, exposure, "lung_metastasis", min_cell=min_cell)
    persons = designs.person_table(flatiron, "lung_metastasis").frame
    assert full["n_exposed"].iloc[0] + full["n_unexposed"].iloc[0] == len(persons)
    levels = shown[shown["level"] != ""]
    assert len(levels) > 10
    hidden_any = False
    for group in ("exposed", "unexposed"):
        size = int(shown[f"n_{group}"].iloc[0])
        truth = full.loc[levels.index, f"n_{group}"]
        seen = levels[f"n_{group}"]
        # every shown count is true, every small count is hidden, with its percentage
        assert (seen.dropna() == truth[seen.notna()]).all()
        assert not ((truth > 0) & (truth < min_cell) & seen.notna()).any()
        assert levels.loc[seen.isna(), f"pct_{group}"].isna().all()
        assert (levels.loc[seen.isna(), group] == "").all()
        # the attack: the group's size minus the levels shown gives what is hidden
        for _, variable in levels.groupby("variable"):
            rest = size - int(variable[f"n_{group}"].sum())  # NA counts as 0
            assert rest == 0 or rest >= min_cell, (variable, rest)
            hidden_any |= bool(variable[f"n_{group}"].isna().any())
    # a level's smd with one of its proportions hidden would give the count back
    either = levels["n_exposed"].isna() | levels["n_unexposed"].isna()
    assert levels.loc[either, "smd"].isna().all()
    assert (levels.loc[~either, "smd"] == full.loc[levels.index[~either], "smd"]).all()
    if min_cell == 40:
        assert hidden_any  # the check above did bite


def test_bad_input_is_named(flatiron):
    with pytest.raises(InputError, match="unknown exposure 'rsv'"):
        table_one(flatiron, "rsv", "lung_metastasis")
    with pytest.raises(InputError, match="unknown outcome"):
        table_one(flatiron, "any", "relapse")
    with pytest.raises(InputError, match="min_cell 2.5: not accepted"):
        table_one(flatiron, "any", "lung_metastasis", min_cell=2.5)


def test_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report: list[str] = []
    tests = doctest.DocTestFinder().find(table_one_module.table_one, "table_one", globs={})
    assert sum(len(t.examples) for t in tests) >= 6
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
