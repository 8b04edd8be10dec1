"""SCCS with event-dependent observation periods against R's SCCS::eventdepenobs.

Reference: tests/data/sccs_eventdep/ (censoring_models.csv, estimates.csv and nlm_reference.csv,
made by make_eventdep_reference.R there with R's SCCS 1.7 on the help page's calls)::

    eventdepenobs(event ~ nrt, indiv = case, astart = nrt, aend = act, aevent = mi,
                  adrug = nrt, aedrug = nrt + 28, censor = cen, expogrp = c(0, 8, 15, 22),
                  agegrp = NULL, data = nrtdat)
    eventdepenobs(event ~ rti + age, indiv = case, astart = sta, aend = end, aevent = mi,
                  adrug = rti, aedrug = rti + 14, expogrp = c(0, 8), agegrp = ageq,
                  censor = cen, data = midat, initval = rep(1.1, 4))

Each censoring model's log-likelihood and AIC and the chosen model's estimates are compared to
1e-4; the recovery check plants a relative incidence where observation ends soon after the event.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from reawaken.epi._censoring import MODELS, interval_weights
from reawaken.epi._nlm import nlm
from reawaken.epi.sccs import fit_sccs
from reawaken.epi.sccs_eventdep import EventDependentFit, fit_event_dependent
from reawaken.errors import InputError

DATA = Path(__file__).parents[1] / "data"
REF = DATA / "sccs_eventdep"
# floor(quantile(midat$mi[first row of each case], seq(0.1, 0.9, 0.1))), printed by the script
MI_DECILES = [24593, 25256, 25754, 26309, 26786, 27290, 27713, 28239, 28776]
CALLS = {
    "nrtdat": (
        REF / "nrtdat.txt.gz",
        dict(
            case="case",
            start="nrt",
            end="act",
            event="mi",
            exposures=["nrt"],
            windows=[(0, 7), (8, 14), (15, 21), (22, 28)],
            censored="cen",
        ),
        702,  # R: clogit's n, the number of intervals
    ),
    "midat": (
        DATA / "sccs" / "midat.txt.gz",
        dict(
            case="case",
            start="sta",
            end="end",
            event="mi",
            exposures=["rti"],
            windows=[(0, 7), (8, 14)],
            age_groups=MI_DECILES,
            censored="cen",
            initial=(1.1, 1.1, 1.1, 1.1),
        ),
        10488,
    ),
}
# R's nlm stops this fit on a likelihood made of underflowing gamma tails (README.md there)
NOT_REPRODUCIBLE = {("midat", "EGA")}


@cache
def fitted(name: str) -> EventDependentFit:
    path, options, _ = CALLS[name]
    return fit_event_dependent(pd.read_csv(path, sep="\t"), **options)


@pytest.mark.parametrize("name", list(CALLS))
def test_censoring_models_equal_r(name: str) -> None:
    ref = pd.read_csv(REF / "censoring_models.csv")
    ref = ref[ref["data"] == name].set_index("model")
    fit = fitted(name)
    table = fit.censoring_table().set_index("model")
    assert list(table.index) == list(MODELS) == list(ref.index)
    for model in MODELS:
        if (name, model) in NOT_REPRODUCIBLE:
            assert not table.loc[model, "converged"]
            assert any(model in note for note in fit.notes)
            # far from the chosen model in R and here
            assert ref.loc[model, "aic"] > ref["aic"].min() + 40
            assert table.loc[model, "aic"] > table["aic"].min() + 40
            continue
        assert table.loc[model, "converged"], model
        assert table.loc[model, "loglik"] == pytest.approx(ref.loc[model, "loglik"], abs=1e-4)
        assert table.loc[model, "aic"] == pytest.approx(ref.loc[model, "aic"], abs=1e-4)
    assert fit.chosen == ref["aic"].idxmin()
    assert table["chosen"].sum() == 1 and table.loc[fit.chosen, "chosen"]


@pytest.mark.parametrize("name", list(CALLS))
def test_estimates_equal_r(name: str) -> None:
    ref = pd.read_csv(REF / "estimates.csv")
    ref = ref[ref["data"] == name]
    fit = fitted(name)
    assert fit.converged
    assert fit.intervals == CALLS[name][2]
    assert fit.events == fit.cases
    table = fit.estimates()
    assert list(table.columns) == [
        "term",
        "coef",
        "se",
        "ratio",
        "ci_lower",
        "ci_upper",
        "p_value",
    ]
    assert len(table) == len(ref)
    np.testing.assert_allclose(table["coef"], ref["coef"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(table["se"], ref["se"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(table["ratio"], np.exp(ref["coef"]), rtol=1e-4)


def test_differs_from_the_standard_fit() -> None:
    # same windows and age groups without the weights: the rti estimates move by more than 1e-4
    path, options, _ = CALLS["midat"]
    options = {k: v for k, v in options.items() if k not in ("censored", "initial")}
    standard = fit_sccs(pd.read_csv(path, sep="\t"), **options, check_observation=False)
    assert np.abs(standard.coef[:2] - fitted("midat").coef[:2]).max() > 0.01


def test_summary_lists_each_censoring_model() -> None:
    fit = fitted("nrtdat")
    summary = json.loads(json.dumps(fit.summary()))
    assert summary["model"] == "sccs_event_dependent"
    assert summary["censoring_model_chosen"] == "EWI"
    assert [m["model"] for m in summary["censoring_models"]] == list(MODELS)
    ref = pd.read_csv(REF / "censoring_models.csv")
    ref = ref[ref["data"] == "nrtdat"]
    for entry, aic in zip(summary["censoring_models"], ref["aic"], strict=True):
        assert entry["aic"] == pytest.approx(aic, abs=1e-4)
        assert entry["aic"] == pytest.approx(8 - 2 * entry["loglik"], abs=1e-9)
        assert set(entry["parameters"]) == {"log_rho", "log_mu", "logit_pi", "log_nu"}
    assert summary["censored_cases"] == int(
        pd.read_csv(REF / "nrtdat.txt.gz", sep="\t")["cen"].sum()
    )


def test_nlm_port_stops_where_r_stops() -> None:
    def rosenbrock(x):
        return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    def wood(x):
        return (
            100 * (x[1] - x[0] ** 2) ** 2
            + (1 - x[0]) ** 2
            + 90 * (x[3] - x[2] ** 2) ** 2
            + (1 - x[2]) ** 2
            + 10.1 * ((x[1] - 1) ** 2 + (x[3] - 1) ** 2)
            + 19.8 * (x[1] - 1) * (x[3] - 1)
        )

    ref = pd.read_csv(REF / "nlm_reference.csv").set_index("name")
    for name, fn, start in (
        ("rosenbrock", rosenbrock, [-1.2, 1]),
        ("wood", wood, [-3, -1, -3, -1]),
    ):
        result = nlm(fn, np.array(start, dtype=float))
        assert result.code == ref.loc[name, "code"]
        assert result.iterations == ref.loc[name, "iterations"]
        estimate = [float(v) for v in ref.loc[name, "estimate"].split(";")]
        np.testing.assert_allclose(result.estimate, estimate, atol=1e-10)
        assert result.minimum == pytest.approx(ref.loc[name, "minimum"], abs=1e-12)


def _r_integrand(model: str, p, s: float, end: float, censored: bool) -> float:
    """R's wsmall_* functions: the density or survival of the end given the event at s."""
    lam_a, lam_b = math.exp(-p[0]), math.exp(-p[1])
    pi, nu = math.exp(p[2]) / (1 + math.exp(p[2])), math.exp(p[3])
    expo = pi * (lam_a if censored else 1.0) * math.exp(-lam_a * (end - s))
    if model == "EWA":
        surv = math.exp(-((end * lam_b) ** nu - (s * lam_b) ** nu))
        other = nu * lam_b * (end * lam_b) ** (nu - 1) * surv if censored else surv
    elif model == "EWI":
        gap = end - s
        surv = math.exp(-((gap * lam_b) ** nu))
        other = nu * lam_b * (gap * lam_b) ** (nu - 1) * surv if censored else surv
    else:
        dist = stats.gamma(nu, scale=1 / (nu * lam_b))
        if model == "EGA":
            other = (dist.pdf(end) if censored else dist.sf(end)) / dist.sf(s)
        else:
            other = dist.pdf(end - s) if censored else dist.sf(end - s)
    return expo + (1 - pi) * other


@pytest.mark.parametrize("model", MODELS)
def test_weights_are_the_integrals_of_r_integrands(model: str) -> None:
    p = np.array([-2.5, 0.5 if model in ("EWI", "EGI") else 4.3, -0.4, 0.3])
    lower = np.array([60.0, 61.2, 70.0, 75.5, 79.99, 64.0])
    upper = np.array([61.1, 61.2, 72.5, 76.0, 80.0, 64.0 + 1 / 365.25])
    end = np.array([61.5, 62.0, 80.0, 76.0, 80.0, 70.0])
    for censored in (False, True):
        flags = np.full(lower.size, censored)
        weights = interval_weights(model, p, lower, upper, end, flags)
        for i in range(lower.size):
            if lower[i] == upper[i]:
                assert weights[i] == 1e-15  # R's weight of a one-day interval
                continue
            expected = integrate.quad(
                lambda s, i=i, c=censored: _r_integrand(model, p, s, end[i], c),
                lower[i],
                upper[i],
                epsabs=1e-13,
                epsrel=1e-11,
                limit=200,
            )[0]
            assert weights[i] == pytest.approx(expected, rel=1e-8), (censored, i)


def _base_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case": [1, 1, 2, 3, 4],
            "sta": [100, 100, 100, 100, 100],
            "end": [500, 500, 300, 450, 480],
            "ev": [200, 200, 250, 400, 150],
            "x": [150, 190, 240, 300, 130],
            "dead": [1, 1, 1, 0, 0],
        }
    )


def _fit(frame: pd.DataFrame, **extra) -> EventDependentFit:
    options = dict(
        case="case",
        start="sta",
        end="end",
        event="ev",
        exposures=["x"],
        windows=[(0, 30)],
        censored="dead",
    )
    return fit_event_dependent(frame, **(options | extra))


def test_missing_censoring_indicator_is_refused() -> None:
    frame = _base_frame()
    frame.loc[2, "dead"] = np.nan
    with pytest.raises(InputError, match=r"row 3, column 'dead'.*missing censoring indicator"):
        _fit(frame)


def test_censoring_indicator_not_zero_or_one_is_refused() -> None:
    frame = _base_frame()
    frame["dead"] = frame["dead"].astype(object)
    frame.loc[3, "dead"] = 2
    frame.loc[4, "dead"] = "yes"
    with pytest.raises(
        InputError, match=r"row 4, column 'dead': 2 is not a censoring indicator"
    ) as err:
        _fit(frame)
    assert "2 rows in all: 4, 5" in str(err.value)
    assert "--" not in str(err.value)


def test_censoring_column_not_found() -> None:
    with pytest.raises(InputError, match=r"column 'died'.*column not found"):
        _fit(_base_frame(), censored="died")


def test_several_events_per_case_are_refused() -> None:
    frame = _base_frame()
    # case 1's second event, listed with both of its exposures as the stacked layout does
    second = frame.iloc[[0, 1]].assign(ev=210)
    frame = pd.concat([frame, second], ignore_index=True)
    with pytest.raises(InputError, match=r"row 6, column 'ev'.*differs between rows of case 1"):
        _fit(frame)


def test_censoring_indicator_differing_within_a_case_is_refused() -> None:
    frame = _base_frame()
    frame.loc[1, "dead"] = 0
    with pytest.raises(InputError, match=r"row 2, column 'dead'.*differs between rows of case 1"):
        _fit(frame)


def test_starting_values_must_be_four() -> None:
    with pytest.raises(InputError, match="four finite starting values"):
        _fit(_base_frame(), initial=(0.1, 0.1))


def simulate(seed: int, n: int = 1000, ratio: float = 2.0) -> pd.DataFrame:
    """Cases whose observation mostly ends soon after the event (death after the event).

    Each case is observed for 730 days from an age between 18,000 and 22,000 days, exposed once
    on a uniform day, with the event's daily rate ``ratio`` times higher in days 0-90 after the
    exposure. After the event, with probability 0.9, observation ends an exponential time (mean
    60 days) later (censored = 1) unless the nominal end comes first; an exposure after the end
    of observation is not seen.
    """
    rng = np.random.default_rng(seed)
    start = rng.integers(18000, 22000, n)
    nominal_end = start + 729
    exposure = start + rng.integers(0, 730, n)
    days = np.arange(730)
    rows = []
    for i in range(n):
        day = start[i] + days
        rate = np.where((day >= exposure[i]) & (day <= exposure[i] + 90), ratio, 1.0)
        event = int(rng.choice(day, p=rate / rate.sum()))
        end, censored = int(nominal_end[i]), 0
        if rng.random() < 0.9:
            death = event + int(rng.exponential(60.0))
            if death < nominal_end[i]:
                end, censored = death, 1
        seen = exposure[i] if exposure[i] <= end else np.nan
        rows.append((i + 1, int(start[i]), end, event, seen, censored))
    return pd.DataFrame(rows, columns=["case", "sta", "end", "ev", "x", "dead"])


@pytest.mark.slow
def test_recovers_planted_relative_incidence_where_standard_sccs_is_biased() -> None:
    options = dict(case="case", start="sta", end="end", event="ev", exposures=["x"])
    planted = math.log(2.0)
    extended, standard = [], []
    for seed in range(8):
        frame = simulate(seed)
        fit = _fit(frame, windows=[(0, 90)])
        extended.append(fit.estimates().iloc[0])
        with pytest.raises(InputError, match="event may end or shorten observation"):
            fit_sccs(frame, windows=[(0, 90)], **options)  # the standard fit is refused...
        standard_fit = fit_sccs(frame, windows=[(0, 90)], **options, check_observation=False)
        standard.append(standard_fit.estimates().iloc[0])  # ...because it would be biased
    ext = np.array([row["coef"] for row in extended])
    std = np.array([row["coef"] for row in standard])
    mc_se = ext.std(ddof=1) / math.sqrt(ext.size)
    # the extension: unbiased within two Monte Carlo standard errors, every interval covers
    assert abs(ext.mean() - planted) < 2 * mc_se
    assert all(row["ci_lower"] < 2.0 < row["ci_upper"] for row in extended)
    # the standard SCCS on the same data: biased upwards by several Monte Carlo errors
    assert std.mean() - planted > 3 * std.std(ddof=1) / math.sqrt(std.size)
    assert std.mean() - planted > 3 * abs(ext.mean() - planted)
