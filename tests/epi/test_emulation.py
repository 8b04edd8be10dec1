"""Target-trial emulation on simulated cohorts whose risks are known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reawaken.epi.emulation import (
    _censoring_rows,
    _curves,
    emulate,
    fit_logistic,
    match_trials,
)
from reawaken.errors import InputError

BASE_HAZARD = 0.0004  # outcome per day when x = 0 (x = 1: five times higher)
INFECTION_HAZARD = 0.0006  # per day when x = 0 (x = 1: five times higher)
DEATH_HAZARD = 0.0003  # competing death per day
HR = 2.0  # hazard ratio of the outcome after infection, constant


def simulate(n: int, seed: int, hr: float = HR) -> pd.DataFrame:
    """Constant hazards, no unmeasured confounding: x raises both infection and outcome.

    Continuous times from the start of the entry day, reported as whole days (floor); the
    study ends at the start of day 19100 (administrative censoring: persons infected late,
    mostly x = 0, are followed for less than a year). Infections happen at the start of a day,
    so that a case's follow-up from the start of its infection day is exactly its time since
    infection and the risks by day ``t`` equal :func:`true_risk` at ``t``.
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    entry = rng.integers(18000, 18200, n).astype(float)
    end = 19100.0
    h0 = BASE_HAZARD * (1 + 4 * x)
    t_inf = entry + np.ceil(rng.exponential(1.0 / (INFECTION_HAZARD * (1 + 4 * x))))
    e = rng.exponential(1.0, n)
    before = entry + e / h0
    after = t_inf + (e - h0 * (t_inf - entry)) / (hr * h0)
    t_out = np.where(before < t_inf, before, after)
    t_death = entry + rng.exponential(1.0 / DEATH_HAZARD, n)
    first = np.minimum(t_out, t_death)
    exit_ = np.where(first < end, np.floor(first), end - 1)
    event = np.where(first >= end, 0, np.where(t_out <= t_death, 1, 2))
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "entry": entry,
            "exit": exit_,
            "event": event,
            "infection": np.where(t_inf <= exit_, t_inf, np.nan),
            "x": x,
        }
    )


def true_risk(t: np.ndarray, hazard: np.ndarray) -> np.ndarray:
    """Cumulative incidence of the outcome at ``t`` days with constant hazards (competing death)."""
    total = hazard + DEATH_HAZARD
    return hazard / total * (1.0 - np.exp(-total * t))


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return simulate(6000, seed=11)


@pytest.fixture(scope="module")
def result(cohort):
    return emulate(cohort, match_on=["x"], controls_per_case=4, bootstrap=40, seed=5)


def _truth(result, days) -> tuple[np.ndarray, np.ndarray]:
    cases = result.matched[result.matched["arm"] == 1]
    share = cases["x"].value_counts(normalize=True).reindex([0, 1], fill_value=0.0).to_numpy()
    days = np.asarray(days, dtype=float)
    r1 = sum(share[x] * true_risk(days, HR * BASE_HAZARD * (1 + 4 * x)) for x in (0, 1))
    r0 = sum(share[x] * true_risk(days, BASE_HAZARD * (1 + 4 * x)) for x in (0, 1))
    return r1, r0


def _errors(seeds, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Errors of the risks at 91, 183 and 365 days against the truth, per seed (rows), in the
    infected arm and in the other; and the same of one curve per arm over all strata, the
    estimate without standardisation, whose late follow-up is that of the early-infected."""
    errors, pooled = [], []
    for seed in seeds:
        res = emulate(
            simulate(n, seed=seed), match_on=["x"], controls_per_case=4, bootstrap=0, seed=seed
        )
        r1, r0 = _truth(res, res.risks["day"])
        truth = np.stack([r1, r0])
        errors.append(res.risks[["risk_exposed", "risk_unexposed"]].to_numpy().T - truth)
        pooled.append(_one_curve_risks(res) - truth)
    return np.array(errors), np.array(pooled)


def _one_curve_risks(res) -> np.ndarray:
    """Risks (arm 1, arm 0 by day) of the same matched trials and weights, one stratum."""
    m = res.matched
    cr = _censoring_rows(m, 30, ["x"])
    one = np.zeros(len(m), dtype=np.int64)
    cif = _curves(m, cr, np.ones(len(m)), 30, 365, one)
    return cif[[1, 0], 0][:, res.risks["day"].to_numpy() - 1]


def test_risks_recover_closed_form_truth():
    """Mean error over 4 cohorts of 20,000 (Monte Carlo SD of one cohort, measured over 24: 0.003
    in the infected arm, up to 0.006 in the other): within 0.005 and 0.008 at 3, 6 and 12
    months. One curve over all strata is 0.012 too high at 12 months in the infected arm."""
    errors, pooled = _errors(range(1, 5), 20000)
    mean = errors.mean(axis=0)
    assert np.abs(mean[0]).max() < 0.005, mean
    assert np.abs(mean[1]).max() < 0.008, mean
    assert pooled.mean(axis=0)[0, -1] > 0.008  # the one-curve estimate fails the same check


@pytest.mark.slow
def test_risks_unbiased_within_monte_carlo_error():
    """Bias of each arm's risk at 91, 183 and 365 days over 16 cohorts of 20,000 within two
    Monte Carlo standard errors of the closed-form truth, with standard errors small enough
    that the one-curve estimate's bias (0.012 at 365 days, infected arm) is far outside."""
    errors, pooled = _errors(range(201, 217), 20000)
    bias = errors.mean(axis=0)
    mc_se = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
    assert (np.abs(bias) <= 2 * mc_se).all(), (bias, mc_se)
    assert mc_se.max() < 0.002
    pooled_bias = pooled.mean(axis=0)
    pooled_se = pooled.std(axis=0, ddof=1) / np.sqrt(len(pooled))
    assert pooled_bias[0, -1] > 5 * pooled_se[0, -1]


def test_intervals_bracket_the_estimates(result):
    risks = result.risks
    for name, lo, hi in (
        ("risk_exposed", "risk_exposed_lower", "risk_exposed_upper"),
        ("risk_unexposed", "risk_unexposed_lower", "risk_unexposed_upper"),
        ("risk_difference", "rd_lower", "rd_upper"),
        ("risk_ratio", "rr_lower", "rr_upper"),
    ):
        assert (risks[lo] <= risks[name]).all() and (risks[name] <= risks[hi]).all()
    assert (risks["rr_lower"] > 1.4).all()  # the planted ratio of hazards is 2


def test_censoring_weights_remove_informative_censoring_bias(result):
    """x drives both infection (censoring of controls) and the outcome: pooled over x, without
    weights the control arm loses its high-risk members first and its risk is underestimated;
    the weights (their model has x) put them back. Per stratum of x that censoring is not
    informative, and the weights leave the estimate as it is."""
    m = result.matched
    cr = _censoring_rows(m, 30, ["x"])
    ones, one = np.ones(len(m)), np.zeros(len(m), dtype=np.int64)
    weighted = _curves(m, cr, ones, 30, 365, one)[0, 0, 364]
    plain = _curves(m, None, ones, 30, 365, one)[0, 0, 364]
    _, r0 = _truth(result, [365])
    assert plain < r0[0] - 0.02
    assert abs(weighted - r0[0]) < abs(plain - r0[0]) / 3
    stratified_plain = _curves(m, None, ones, 30, 365, m["x"].to_numpy())[0, 0, 364]
    assert abs(stratified_plain - result.risks["risk_unexposed"].iloc[-1]) < 0.005
    assert result.weights["weighted"]
    assert result.weights["min"] > 0 and result.weights["max"] > 1.5


def test_curve_invariants(result):
    for _, arm in result.curves.groupby("arm"):
        cif = arm["cif"].to_numpy()
        total = cif + arm["competing_cif"].to_numpy()
        assert ((cif >= 0) & (cif <= 1)).all() and (np.diff(cif) >= -1e-12).all()
        assert (total <= 1 + 1e-12).all()
        assert (arm["ci_lower"] <= arm["cif"] + 1e-12).all()
        assert (arm["cif"] <= arm["ci_upper"] + 1e-12).all()
    assert set(result.curves["arm"]) == {"infected", "not infected"}


def test_matching_rules(cohort, result):
    m = result.matched
    person = cohort.set_index("id")
    cases = m[m["arm"] == 1]
    controls = m[m["arm"] == 0]
    # every case is infected on its time zero, every control at risk and not yet infected
    assert (person.loc[cases["id"], "infection"].to_numpy() == cases["time_zero"].to_numpy()).all()
    ctl = person.loc[controls["id"]]
    t0 = controls["time_zero"].to_numpy()
    assert (ctl["entry"].to_numpy() <= t0).all() and (ctl["exit"].to_numpy() >= t0).all()
    inf = ctl["infection"].to_numpy()
    assert (np.isnan(inf) | (inf > t0)).all()
    # exact match on x, at most k controls, no person twice in a set, matching weights sum to 1
    case_x = cases.set_index("set")["x"]
    assert (controls["x"].to_numpy() == case_x.loc[controls["set"]].to_numpy()).all()
    per_set = controls.groupby("set").size()
    assert per_set.max() <= 4
    assert not m.duplicated(["set", "id"]).any()
    np.testing.assert_allclose(controls.groupby("set")["mweight"].sum(), 1.0)
    # a control infected later is censored on its last uninfected day
    sw = controls[controls["switched"] == 1]
    expected = person.loc[sw["id"], "infection"].to_numpy() - sw["time_zero"].to_numpy()
    assert (sw["time"].to_numpy() == expected).all() and (sw["status"] == 0).all()
    assert (m["time"] >= 1).all() and (m["time"] <= 365).all()


def test_same_seed_same_result_other_seed_other_matching(cohort):
    small = cohort.iloc[:1500]
    a = emulate(small, match_on=["x"], bootstrap=3, seed=3)
    b = emulate(small, match_on=["x"], bootstrap=3, seed=3)
    c = emulate(small, match_on=["x"], bootstrap=3, seed=4)
    pd.testing.assert_frame_equal(a.matched, b.matched)
    pd.testing.assert_frame_equal(a.risks, b.risks)
    assert not a.matched["id"].equals(c.matched["id"])


def test_no_effect_gives_ratio_near_one():
    data = simulate(4000, seed=2, hr=1.0)
    res = emulate(data, match_on=["x"], bootstrap=30, seed=1)
    assert (res.risks["rr_lower"] < 1).all() and (res.risks["rr_upper"] > 1).all()


def test_calendar_month_trials_and_day_blocks():
    persons = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "entry": pd.to_datetime(["2021-01-01"] * 4),
            "exit": pd.to_datetime(["2021-12-31", "2021-12-31", "2021-03-10", "2021-12-31"]),
            "event": [0, 1, 2, 0],
            "infection": pd.to_datetime(["2021-02-27", "2021-03-05", None, None]),
        }
    )
    m = match_trials(persons, controls_per_case=3, seed=0)
    cases = m[m["arm"] == 1].set_index("id")
    assert cases.loc["a", "trial"] == "2021-02" and cases.loc["b", "trial"] == "2021-03"
    # a's controls: b (infected later, censored), c and d; b's controls: c and d
    ctrl_a = m[(m["set"] == cases.loc["a", "set"]) & (m["arm"] == 0)].set_index("id")
    assert set(ctrl_a.index) == {"b", "c", "d"}
    assert ctrl_a.loc["b", "switched"] == 1 and ctrl_a.loc["b", "time"] == 6  # Feb 27 .. Mar 4
    assert ctrl_a.loc["c", "status"] == 2 and ctrl_a.loc["c", "time"] == 12  # Feb 27 .. Mar 10
    assert cases.loc["b", "status"] == 1 and cases.loc["b", "time"] == 302  # Mar 5 .. Dec 31
    short = match_trials(persons, controls_per_case=3, horizon=100, seed=0)
    case_b = short[short["arm"] == 1].set_index("id").loc["b"]
    assert case_b["status"] == 0 and case_b["time"] == 100  # censored at the horizon
    blocks = match_trials(persons, controls_per_case=3, trial_days=7, seed=0)
    day = (pd.Timestamp("2021-02-27") - pd.Timestamp("1970-01-01")).days
    assert str(day // 7 * 7) in set(blocks["trial"])


def test_logistic_fit_matches_closed_form():
    # intercept + one binary factor: the fitted probabilities are the group proportions
    cols = np.array([[0, -1], [0, 1]])
    beta = fit_logistic(cols, 2, np.array([30.0, 10.0]), np.array([100.0, 200.0]), ridge=0.0)
    p = 1 / (1 + np.exp(-np.array([beta[0], beta[0] + beta[1]])))
    np.testing.assert_allclose(p, [0.3, 0.05], rtol=1e-8)
    # two additive factors on a 2 x 2 table with an exact additive logit fit
    logit = np.array([-2.0, -1.0, -0.5, 0.5])  # a: 0 0 1 1, b: 0 1 0 1 -> a + b effects
    trials = np.full(4, 1e6)
    events = trials / (1 + np.exp(-logit))
    cols = np.array([[0, -1, -1], [0, -1, 2], [0, 1, -1], [0, 1, 2]])
    beta = fit_logistic(cols, 3, events, trials, ridge=0.0)
    np.testing.assert_allclose(beta, [-2.0, 1.5, 1.0], atol=1e-8)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"exit": [10.0, 5.0]}, "exit before entry"),
        ({"event": [0, 3]}, "event must be 0"),
        ({"id": ["a", "a"]}, "person id repeated"),
    ],
)
def test_bad_input_names_row_and_column(change, message):
    persons = pd.DataFrame(
        {"id": ["a", "b"], "entry": [0.0, 8.0], "exit": [10.0, 20.0], "event": [0, 1]}
    ).assign(infection=[3.0, np.nan])
    with pytest.raises(InputError, match=message) as info:
        match_trials(persons.assign(**change), seed=0)
    assert info.value.row == 2


def test_nothing_to_emulate_is_an_error():
    persons = pd.DataFrame(
        {"id": [1, 2], "entry": [0, 0], "exit": [9, 9], "event": [0, 0], "infection": [3, 3]}
    )
    with pytest.raises(InputError, match="no infected person has an eligible control"):
        match_trials(persons, seed=0)


def test_unweighted_curves_equal_aalen_johansen_of_cmprsk(cohort):
    """Without censoring weights and with equal matched sets, each arm's curve in a stratum is
    the plain Aalen-Johansen estimate, which reawaken.epi.competing reproduces from
    cmprsk::cuminc: without matching covariates the arm's curve is that estimate, with them
    the average of the strata's estimates weighted by the infected arm's shares of them."""
    from reawaken.epi.competing import cif_curve

    def aalen_johansen(rows: pd.DataFrame, cause: int) -> pd.Series:
        ref = cif_curve(rows["time"].to_numpy(), rows["status"].to_numpy(), cause)
        steps = pd.Series(ref["cif"].to_numpy(), index=ref["time"].astype(int).to_numpy())
        return steps.reindex(range(1, 366)).ffill().fillna(0.0)

    for match_on in ([], ["x"]):
        res = emulate(
            cohort.iloc[:2000],
            match_on=match_on,
            controls_per_case=2,
            bootstrap=0,
            weighted=False,
            seed=9,
        )
        m = res.matched
        assert m[m["arm"] == 0].groupby("set").size().eq(2).all()  # equal sets: weights cancel
        strata = m["x"] if match_on else pd.Series(0, index=m.index)
        share = strata[m["arm"] == 1].value_counts(normalize=True)
        assert len(share) == (2 if match_on else 1)
        for arm, name in ((1, "infected"), (0, "not infected")):
            curve = res.curves[res.curves["arm"] == name].set_index("day")
            for cause, column in ((1, "cif"), (2, "competing_cif")):
                expected = sum(
                    p * aalen_johansen(m[(m["arm"] == arm) & (strata == s)], cause)
                    for s, p in share.items()
                )
                np.testing.assert_allclose(curve[column], expected, rtol=1e-12, atol=1e-15)


def test_stratum_followed_short_of_the_last_day_is_noted():
    """A stratum whose members are all infected 100 days before the data end cannot give its
    risk at 183 or 365 days: the standardised risks keep its 100-day risk there, and say so."""
    late = pd.DataFrame(
        {
            "id": np.arange(10_000, 10_030),
            "entry": 18000.0,
            "exit": 19099.0,
            "event": 0,
            "infection": np.where(np.arange(30) < 6, 19000.0, np.nan),
            "x": 2,
        }
    )
    res = emulate(pd.concat([simulate(3000, seed=4), late]), match_on=["x"], bootstrap=0, seed=1)
    notes = [n for n in res.notes if n.startswith("nobody of stratum")]
    share = 6 / (res.matched["arm"] == 1).sum()
    assert len(notes) == 2 and "infected arm" in notes[0] and "not infected arm" in notes[1]
    for note in notes:
        assert "stratum x=2 is followed beyond day 100" in note and f"share {share:.3f}" in note
    assert not any("x=0" in n or "x=1" in n for n in res.notes)
