"""Target-trial emulation on simulated cohorts whose risks are known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reawaken.epi.emulation import emulate, fit_logistic, match_trials
from reawaken.errors import InputError

BASE_HAZARD = 0.0004  # outcome per day when x = 0 (x = 1: five times higher)
INFECTION_HAZARD = 0.0006  # per day when x = 0 (x = 1: five times higher)
DEATH_HAZARD = 0.0003  # competing death per day
HR = 2.0  # hazard ratio of the outcome after infection, constant


def simulate(n: int, seed: int, hr: float = HR) -> pd.DataFrame:
    """Constant hazards, no unmeasured confounding: x raises both infection and outcome.

    Continuous times from the start of the entry day, reported as whole days (floor).
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    entry = rng.integers(18000, 18200, n).astype(float)
    end = 19100.0
    h0 = BASE_HAZARD * (1 + 4 * x)
    t_inf = entry + rng.exponential(1.0 / (INFECTION_HAZARD * (1 + 4 * x)))
    e = rng.exponential(1.0, n)
    before = entry + e / h0
    after = t_inf + (e - h0 * (t_inf - entry)) / (hr * h0)
    t_out = np.where(before < t_inf, before, after)
    t_death = entry + rng.exponential(1.0 / DEATH_HAZARD, n)
    exit_ = np.floor(np.minimum(np.minimum(t_out, t_death), end))
    event = np.where(t_out <= np.minimum(t_death, end), 1, np.where(t_death <= end, 2, 0))
    inf_day = np.floor(t_inf)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "entry": entry,
            "exit": exit_,
            "event": event,
            "infection": np.where(inf_day <= exit_, inf_day, np.nan),
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


def test_risks_recover_closed_form_truth(result):
    r1, r0 = _truth(result, result.risks["day"])
    risks = result.risks
    np.testing.assert_allclose(risks["risk_exposed"], r1, atol=0.02)
    np.testing.assert_allclose(risks["risk_unexposed"], r0, atol=0.015)
    np.testing.assert_allclose(risks["risk_difference"], r1 - r0, atol=0.025)
    # the bootstrap intervals cover the truth at 3, 6 and 12 months
    assert (risks["rd_lower"] <= r1 - r0).all() and (r1 - r0 <= risks["rd_upper"]).all()
    assert (risks["rr_lower"] <= r1 / r0).all() and (r1 / r0 <= risks["rr_upper"]).all()
    assert (risks["risk_ratio"] > 1.4).all()


def test_censoring_weights_remove_informative_censoring_bias(cohort, result):
    """x drives both infection (censoring of controls) and the outcome: without weights the
    control arm loses its high-risk members first and its risk is underestimated."""
    plain = emulate(
        cohort, match_on=["x"], controls_per_case=4, bootstrap=0, weighted=False, seed=5
    )
    _, r0 = _truth(result, [365])
    err_weighted = abs(result.risks["risk_unexposed"].iloc[-1] - r0[0])
    err_plain = abs(plain.risks["risk_unexposed"].iloc[-1] - r0[0])
    assert plain.risks["risk_unexposed"].iloc[-1] < r0[0] - 0.02
    assert err_weighted < err_plain / 3
    assert result.weights["weighted"] and not plain.weights["weighted"]
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
    """Without censoring weights and with equal matched sets, each arm's curve is the plain
    Aalen-Johansen estimate, which reawaken.epi.competing reproduces from cmprsk::cuminc."""
    from reawaken.epi.competing import cif_curve

    res = emulate(
        cohort.iloc[:2000], match_on=["x"], controls_per_case=2, bootstrap=0, weighted=False, seed=9
    )
    m = res.matched
    assert m[m["arm"] == 0].groupby("set").size().eq(2).all()  # equal sets: weights cancel
    for arm, name in ((1, "infected"), (0, "not infected")):
        rows = m[m["arm"] == arm]
        curve = res.curves[res.curves["arm"] == name].set_index("day")
        for cause, column in ((1, "cif"), (2, "competing_cif")):
            ref = cif_curve(rows["time"].to_numpy(), rows["status"].to_numpy(), cause)
            np.testing.assert_allclose(
                curve.loc[ref["time"].astype(int), column], ref["cif"], rtol=1e-12, atol=1e-15
            )
