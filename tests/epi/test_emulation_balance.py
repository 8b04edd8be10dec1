"""Covariate balance of the emulated trial's arms: standardized mean differences at time zero."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_emulation import simulate

from reawaken.epi.balance import imbalance_note, standardized_differences
from reawaken.epi.emulation import emulate
from reawaken.errors import InputError


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    data = simulate(3000, seed=21)
    rng = np.random.default_rng(4)
    data["age"] = 60 + 8 * data["x"] + rng.normal(0, 10, len(data))  # follows x
    data["sex"] = np.where(rng.random(len(data)) < 0.5, "f", "m")  # independent of all
    return data


def _smd_by_hand(x: np.ndarray, arm: np.ndarray, w: np.ndarray, binary: bool) -> float:
    """(m1 - m0) / sqrt((v1 + v0) / 2): proportions with p (1 - p), numbers with numpy's
    reliability-weighted variance."""
    means, variances = [], []
    for a in (1, 0):
        xa, wa = x[arm == a], w[arm == a]
        mean = np.average(xa, weights=wa)
        means.append(mean)
        variances.append(mean * (1 - mean) if binary else np.cov(xa, aweights=wa))
    return float((means[0] - means[1]) / np.sqrt(sum(variances) / 2))


def test_matched_covariates_balanced_and_others_measured(cohort):
    res = emulate(cohort, match_on=["x"], balance_on=["age", "sex"], bootstrap=0, seed=3)
    bal = res.balance.set_index(["covariate", "level"], drop=False)
    m = res.matched
    # exact matching with weights 1 / (controls of the set): the levels of x weigh the same
    assert (bal.loc["x", "smd"] == 0).all()
    np.testing.assert_allclose(bal.loc["x", "mean_1"], bal.loc["x", "mean_0"], rtol=1e-12)
    # the others against a computation by hand from the matched persons' values
    person = cohort.set_index("id").loc[m["id"]]
    arm, w = m["arm"].to_numpy(), m["mweight"].to_numpy()
    age = bal[bal["covariate"] == "age"].iloc[0]
    assert age["smd"] == pytest.approx(_smd_by_hand(person["age"].to_numpy(), arm, w, False))
    female = (person["sex"] == "f").to_numpy(dtype=float)
    assert bal.loc[("sex", "f"), "smd"] == pytest.approx(_smd_by_hand(female, arm, w, True))
    assert abs(bal.loc[("sex", "f"), "smd"]) < 0.1  # independent of infection and outcome
    # matched on x, age (which follows x) is balanced too; no note
    assert abs(age["smd"]) < 0.1
    assert not any("covariate balance" in n for n in res.notes)


def test_unmatched_confounder_is_reported_in_summary_and_notes(cohort):
    """x raises the chance of infection: without matching on it the arms differ in x, and in
    age, which follows x."""
    res = emulate(cohort, balance_on=["x", "age"], bootstrap=0, seed=3)
    m = res.matched
    person = cohort.set_index("id").loc[m["id"]]
    arm, w = m["arm"].to_numpy(), m["mweight"].to_numpy()
    expected_x = _smd_by_hand(person["x"].to_numpy(dtype=float), arm, w, False)
    summary = res.summary()
    smd = {row["covariate"]: row["smd"] for row in summary["balance"]}
    assert smd["x"] == pytest.approx(expected_x) and smd["x"] > 0.3
    assert smd["age"] > 0.1
    assert summary["max_abs_smd"] == pytest.approx(max(abs(v) for v in smd.values()))
    json.dumps(summary, allow_nan=False)  # fit.json stays valid JSON
    (note,) = [n for n in res.notes if n.startswith("covariate balance")]
    assert f"x ({smd['x']:.2f})" in note and "age (" in note


def test_standardized_differences_of_levels_and_weights():
    frame = pd.DataFrame({"stage": ["I", "II", "II", "I", "I", None], "y": [1.0, 2, 3, 4, 5, 6]})
    group = np.array([1, 1, 1, 0, 0, 0])
    w = np.array([1.0, 1.0, 1.0, 0.5, 0.5, 2.0])
    bal = standardized_differences(frame, ["stage", "y"], group=group, weights=w)
    by = bal.set_index(["covariate", "level"])
    # stage I: 1/3 against 1/3 (weights 0.5 + 0.5 of 3); missing: 0 against 2/3
    assert by.loc[("stage", "I"), "mean_0"] == pytest.approx(1 / 3)
    assert by.loc[("stage", "I"), "smd"] == 0.0
    p1, p0 = 0.0, 2 / 3
    expected = (p1 - p0) / np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    assert by.loc[("stage", "missing"), "smd"] == pytest.approx(expected)
    y = bal[bal["covariate"] == "y"].iloc[0]
    v1 = np.var([1.0, 2, 3], ddof=1)
    v0 = np.cov([4.0, 5, 6], aweights=[0.5, 0.5, 2.0])
    m0 = (0.5 * 4 + 0.5 * 5 + 2 * 6) / 3
    assert y["smd"] == pytest.approx((2 - m0) / np.sqrt((v1 + v0) / 2))
    # a level present in one arm only, with no spread in either: not computable, and said so
    alone = standardized_differences(
        pd.DataFrame({"s": ["a", "a", "b", "b"]}), ["s"], group=np.array([1, 1, 0, 0])
    )
    assert alone["smd"].isna().all()
    assert "s=a (not computable)" in imbalance_note(alone)


def test_balance_column_must_exist(cohort):
    with pytest.raises(InputError, match="no column 'weight'"):
        emulate(cohort, balance_on=["weight"], bootstrap=0, seed=1)


def test_a_level_everyone_has_gives_no_warning_and_zero_difference():
    """UK Biobank stores: stage unknown for everyone; weights summing with rounding error must
    not take the square root of a negative variance."""
    import warnings

    from reawaken.epi.balance import standardized_differences

    n = 2000
    frame = pd.DataFrame({"stage": ["unknown"] * n})
    group = np.arange(n) < 333
    weights = np.where(group, 1.0, 1.0 / 6.0)  # the controls' mean comes out 1 + 4e-16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = standardized_differences(
            frame, ["stage"], group=group, weights=weights, categorical=["stage"]
        )
    assert table["smd"].tolist() == [0.0]
