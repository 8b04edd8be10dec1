"""The attrition table: its counts are those person_table keeps and leaves out, step by step,
and what it hides cannot be read back by subtraction."""

from __future__ import annotations

import doctest
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reawaken.epi.attrition as attrition_module
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_layouts import generate
from reawaken.epi import cohort_designs as designs
from reawaken.epi.attrition import attrition, attrition_suppressed, exclusion_counts
from reawaken.errors import InputError
from reference_data import shared_reference


@pytest.fixture(scope="module")
def flatiron(tmp_path_factory) -> CohortStore:
    # as `reawaken cohort synth --like flatiron --n 3000 --seed 1` then `cohort import`
    tmp = tmp_path_factory.mktemp("flatiron")
    truth = generate("flatiron", 3000, 1, tmp / "files")
    store = CohortStore(tmp / "c.duckdb")
    store.import_source("flatiron", tmp / "files", **truth["import_options"])
    return store


class Edited:
    """A cohort store whose tables are edited copies of another's (what person_table reads)."""

    def __init__(self, store: CohortStore, **tables: pd.DataFrame) -> None:
        self.path = store.path
        self._store = store
        self._tables = tables

    def __getattr__(self, name):
        if name in self._tables:
            return lambda source=None: self._tables[name].copy()
        return getattr(self._store, name)


def _edited(store: CohortStore) -> tuple[Edited, dict[str, set[str]]]:
    """37 persons without a breast cancer (their cancer recoded to the lung), 12 diagnosed after
    their follow-up ended, 15 diagnosed the day after their first metastasis (prevalent)."""
    dx, fu, out = store.cancer_diagnosis(), store.follow_up(), store.outcome()
    rng = np.random.default_rng(5)
    ids = dx["person_id"].to_numpy()
    met = out[out["outcome_type"] == "distant_metastasis"].groupby("person_id")["outcome_date"]
    first = met.min()
    end = fu.set_index("person_id")["end_date"]
    can_be_prevalent = [i for i in first.index if first[i] + pd.Timedelta(days=1) <= end[i]]
    prevalent = set(rng.choice(can_be_prevalent, 15, replace=False))
    rest = [i for i in ids if i not in prevalent]
    chosen = rng.choice(rest, 49, replace=False)
    no_cancer, late = set(chosen[:37]), set(chosen[37:])
    dx = dx.copy()
    dx.loc[dx["person_id"].isin(no_cancer), "site"] = "lung"
    is_late = dx["person_id"].isin(late)
    dx.loc[is_late, "diagnosis_date"] = dx.loc[is_late, "person_id"].map(end) + pd.Timedelta(days=3)
    is_prev = dx["person_id"].isin(prevalent)
    dx.loc[is_prev, "diagnosis_date"] = dx.loc[is_prev, "person_id"].map(first) + pd.Timedelta(
        days=1
    )
    sets = {"no_cancer": no_cancer, "late": late, "prevalent": prevalent}
    return Edited(store, cancer_diagnosis=dx), sets


def test_a_synthetic_store_keeps_everyone(flatiron):
    for outcome in ("lung_metastasis", "distant_metastasis", "other_site_metastasis"):
        table = attrition(flatiron, outcome)
        assert table.columns.tolist() == ["step", "excluded", "remaining", "reason"]
        assert table["excluded"].tolist()[1:4] == [0, 0, 0]
        kept = len(designs.person_table(flatiron, outcome).frame)
        assert table["remaining"].tolist() == [3000, 3000, 3000, 3000, kept] == [3000] * 5


def test_counts_agree_with_person_table_step_by_step(flatiron):
    store, sets = _edited(flatiron)
    for outcome in ("lung_metastasis", "distant_metastasis", "other_site_metastasis"):
        people = designs.person_table(store, outcome)
        counts = exclusion_counts(store, outcome)
        assert counts == [3000, 37, 12, 15, 3000 - 64]
        assert counts[-1] == len(people.frame)
        # the notes of person_table (fit.json's) say the same numbers
        noted = sorted(int(re.match(r"\d+", n).group()) for n in people.notes)
        assert noted == [12, 15, 37]
        # and the persons left out are exactly those edited
        kept = {i.split("/", 1)[1] for i in people.frame["id"]}
        assert kept.isdisjoint(set().union(*sets.values()))
        table = attrition(store, outcome, min_cell=10)
        assert table["excluded"].tolist()[1:4] == [37, 12, 15]
        assert table["remaining"].tolist() == [3000, 2963, 2951, 2936, 2936]


def test_small_steps_are_hidden_with_what_gives_them_back(flatiron):
    store, _ = _edited(flatiron)
    table = attrition(store, "lung_metastasis", min_cell=20)  # 12 and 15 are small at 20
    assert table["excluded"].isna().tolist() == [True, False, True, True, True]
    assert table["remaining"].tolist()[:2] == [3000, 2963]
    # 2963 - 12 would give the 12 back, 2951 - 2936 the 15: the remaining between is hidden;
    # 12 + 15 hidden together are 27, not small at 20, so the persons at risk show
    assert table["remaining"].isna().tolist() == [False, False, True, False, False]
    assert table["remaining"].tolist()[3:] == [2936, 2936]


def test_cancer_death_leaves_out_no_prevalent_case_and_refuses_without_causes(flatiron, tmp_path):
    truth = generate("ukb", 1500, 2, tmp_path / "ukb")
    ukb = CohortStore(tmp_path / "u.duckdb")
    ukb.import_source("ukb", tmp_path / "ukb", **truth["import_options"])
    counts = exclusion_counts(ukb, "cancer_death")
    assert counts[3] == 0 and counts[-1] == len(designs.person_table(ukb, "cancer_death").frame)
    with pytest.raises(InputError, match="no cause of death") as caught:
        attrition(flatiron, "cancer_death")
    with pytest.raises(InputError) as same:
        designs.person_table(flatiron, "cancer_death")
    assert str(caught.value) == str(same.value)


def test_bad_input_is_named(flatiron):
    with pytest.raises(InputError, match="unknown outcome 'relapse'"):
        attrition(flatiron, "relapse")
    with pytest.raises(InputError, match="min_cell -1: not accepted"):
        attrition(flatiron, "lung_metastasis", min_cell=-1)


def test_synthea_has_no_breast_cancer_so_no_one_is_at_risk(tmp_path):
    synthea = shared_reference("Synthea27Nj_5.4")
    store = CohortStore(tmp_path / "s.duckdb")
    store.import_source("omop", synthea)
    assert exclusion_counts(store, "lung_metastasis") == [28, 28, 0, 0, 0]
    assert attrition(store, "lung_metastasis")["remaining"].tolist() == [28, 0, 0, 0, 0]
    with pytest.raises(InputError, match="no person at risk"):
        designs.person_table(store, "lung_metastasis")


def _revealed_gaps(total, excluded, at_risk, shown_parts, remaining) -> list[int]:
    """Every subtraction a reader can do: the hidden amounts between the points at which the
    running total of exclusions is known (the total, each remaining shown, each remaining that
    a shown exclusion next to a known point gives). Returns the hidden amount between each two
    consecutive known points."""
    m = len(excluded)
    parts = [*excluded, at_risk]
    known = [False] * (m + 2)  # point k: total - remaining after k parts (0: none, m+1: all)
    known[0] = remaining[0] is not None
    known[m + 1] = known[0]
    for k in range(1, m + 1):
        known[k] = remaining[k] is not None
    changed = True
    while changed:  # a shown part next to a known point makes the other side known
        changed = False
        for k in range(1, m + 2):
            if shown_parts[k - 1] is not None and known[k - 1] != known[k]:
                known[k - 1] = known[k] = True
                changed = True
    gaps, last, hidden = [], 0, 0
    for k in range(1, m + 2):
        hidden += parts[k - 1] if shown_parts[k - 1] is None else 0
        if known[k]:
            gaps.append(hidden - last)
            last = hidden
    return gaps


@pytest.mark.parametrize("min_cell", [5, 10])
def test_no_hidden_count_can_be_derived(min_cell):
    rng = np.random.default_rng(3)
    cases = [list(c) for c in itertools.product([0, 3, 9, 12, 40], repeat=3)]
    cases += [rng.integers(0, 25, 3).tolist() for _ in range(300)]
    for excluded in cases:
        for at_risk in (0, 4, 11, 500):
            total = sum(excluded) + at_risk
            parts, remaining = attrition_suppressed(total, excluded, at_risk, min_cell=min_cell)
            values = [*excluded, at_risk]
            shown_parts = [*parts, remaining[-1]]
            # what is shown is true, and every small count is hidden
            for shown, value in zip(shown_parts, values, strict=True):
                assert shown in (None, value)
                assert not (0 < value < min_cell) or shown is None
            left = total
            truth = [total]
            for e in excluded:
                left -= e
                truth.append(left)
            truth.append(at_risk)
            for shown, value in zip(remaining, truth, strict=True):
                assert shown in (None, value)
                assert not (0 < value < min_cell) or shown is None
            if 0 < total < min_cell:
                assert all(r is None for r in remaining)
                continue
            gaps = _revealed_gaps(total, excluded, at_risk, shown_parts, remaining)
            assert all(g == 0 or g >= min_cell for g in gaps), (excluded, at_risk, gaps)


def test_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report: list[str] = []
    tests = finder.find(attrition_module.attrition, "attrition", globs={})
    assert sum(len(t.examples) for t in tests) >= 5
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    assert Path("cohort.duckdb").is_file()
