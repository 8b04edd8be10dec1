"""Cox model invariants and exact answers that do not need R."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from test_cox_reference import heart, rel

from reawaken.epi._cox_core import RiskSets
from reawaken.epi._estimable import INFINITE
from reawaken.epi.cox import fit_cox
from reawaken.errors import ConvergenceWarning

COLS = dict(start="start", stop="stop", event="event")
HEART = ["age", "year", "surgery", "transplant"]


def _random_cohort(n: int, seed: int, *, ties: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n).astype(float)
    t = rng.exponential(100.0 / np.exp(0.5 * x1 - 0.7 * x2))
    c = rng.exponential(150.0, size=n)
    stop = np.minimum(t, c)
    if ties:
        stop = np.ceil(stop)
    return pd.DataFrame(
        {
            "start": 0.0,
            "stop": stop,
            "event": (t <= c).astype(int),
            "x1": x1,
            "x2": x2,
            "id": np.arange(n),
        }
    )


def test_null_loglik_without_ties_is_minus_sum_log_risk_set_sizes():
    frame = _random_cohort(200, 1, ties=False)
    result = fit_cox(frame, covariates=["x1", "x2"], **COLS)
    stop = frame["stop"].to_numpy()
    at_risk = [(stop >= t).sum() for t in stop[frame["event"] == 1]]
    assert result.loglik_null == pytest.approx(-sum(math.log(k) for k in at_risk), rel=1e-12)


def test_efron_equals_breslow_without_ties():
    frame = _random_cohort(300, 2, ties=False)
    efron = fit_cox(frame, covariates=["x1", "x2"], ties="efron", **COLS)
    breslow = fit_cox(frame, covariates=["x1", "x2"], ties="breslow", **COLS)
    assert rel(efron.coef, breslow.coef) < 1e-10
    assert rel(efron.se, breslow.se) < 1e-10


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_splitting_follow_up_does_not_change_the_fit(ties):
    """survSplit invariance: cutting (start, stop] at any times leaves the likelihood alone."""
    frame = _random_cohort(300, 3, ties=True)
    whole = fit_cox(frame, covariates=["x1", "x2"], ties=ties, cluster="id", **COLS)
    cuts = [0.0, 10.0, 35.5, 80.0, np.inf]
    rows = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        part = frame[frame["stop"] > lo].copy()
        part["start"] = lo
        part["event"] = np.where(part["stop"] <= hi, part["event"], 0)
        part["stop"] = np.minimum(part["stop"], hi)
        rows.append(part)
    split = pd.concat(rows, ignore_index=True)
    assert len(split) > len(frame)
    result = fit_cox(split, covariates=["x1", "x2"], ties=ties, cluster="id", **COLS)
    assert rel(result.coef, whole.coef) < 1e-9
    assert rel(result.naive_se, whole.naive_se) < 1e-9
    assert rel(result.se, whole.se) < 1e-9  # robust se with person clusters, too
    assert result.loglik == pytest.approx(whole.loglik, rel=1e-12)


def test_integer_weights_equal_duplicated_rows_with_breslow_ties():
    """(Efron treats copies as tied events, weights not: only Breslow must agree.)"""
    frame = heart()
    doubled = pd.concat([frame, frame[frame["wi"] >= 2], frame[frame["wi"] >= 3]])
    weighted = fit_cox(frame, covariates=HEART, weights="wi", ties="breslow", **COLS)
    copies = fit_cox(doubled, covariates=HEART, ties="breslow", **COLS)
    assert rel(weighted.coef, copies.coef) < 1e-9
    assert rel(weighted.se, copies.se) < 1e-9
    assert weighted.loglik == pytest.approx(copies.loglik, rel=1e-12)


def test_stratified_null_loglik_is_sum_over_strata():
    frame = heart()
    both = fit_cox(frame, covariates=["age"], strata="surgery", **COLS)
    parts = [
        fit_cox(frame[frame["surgery"] == s], covariates=["age"], **COLS).loglik_null
        for s in (0, 1)
    ]
    assert both.loglik_null == pytest.approx(sum(parts), rel=1e-12)


def test_score_residuals_sum_to_the_score():
    frame = heart()
    x = frame[HEART].to_numpy(float)
    rs = RiskSets(
        frame["start"].to_numpy(float),
        frame["stop"].to_numpy(float),
        frame["event"].to_numpy() == 1,
        x,
        np.ones(len(frame)),
        np.zeros(len(frame), dtype=np.int64),
        efron=True,
    )
    beta = np.array([0.02, -0.1, -0.5, 0.1])
    np.testing.assert_allclose(
        rs.score_residuals(beta).sum(axis=0), rs.derivatives(beta).score, rtol=1e-10, atol=1e-12
    )


def test_robust_without_cluster_uses_rows_as_clusters():
    frame = heart()
    implicit = fit_cox(frame, covariates=HEART, robust=True, **COLS)
    explicit = fit_cox(
        frame.assign(row=np.arange(len(frame))), covariates=HEART, cluster="row", **COLS
    )
    assert rel(implicit.se, explicit.se) < 1e-12


def test_non_convergence_is_reported():
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 iterations"):
        result = fit_cox(heart(), covariates=HEART, max_iter=1, **COLS)
    assert not result.converged and result.iterations == 1
    summary = result.summary()
    assert summary["converged"] is False and "did not converge" in summary["notes"][0]
    assert summary["proportional_hazards"] is None
    table = result.estimates()
    assert (table.status == "not converged").all()


def test_no_events_in_a_group_is_reported_as_na_not_as_ratio_zero():
    """A window with no events gave ratio ~0 with an interval 0 to inf as ordinary numbers."""
    frame = _random_cohort(60, 4, ties=False)
    frame["window"] = ((frame["event"] == 0) & (frame["x1"] > 0)).astype(float)
    with pytest.warns(ConvergenceWarning, match="window"):
        result = fit_cox(frame, covariates=["x1", "window"], **COLS)
    assert result.converged and result.not_estimable == {"window": INFINITE}
    table = result.estimates()
    assert list(table.status) == ["estimated", "not estimable"]
    assert table.loc[1, ["ratio", "ci_lower", "ci_upper", "p_value"]].isna().all()
    assert np.isfinite(table.loc[0, "ratio"])


def test_monotone_likelihood_names_the_infinite_term():
    frame = _random_cohort(60, 4, ties=False)
    frame["x2"] = frame["event"].astype(float)  # every event has x2 = 1: coefficient -> inf
    with pytest.warns(ConvergenceWarning, match="x2"):
        result = fit_cox(frame, covariates=["x1", "x2"], **COLS)
    assert result.infinite_terms == ["x2"]
    assert result.summary()["infinite_terms"] == ["x2"]
    assert result.summary()["not_estimable"] == {"x2": INFINITE}
    assert np.isnan(result.estimates().loc[1, "ratio"])
