"""A survivor's lung-metastasis risk with and without an infection (reawaken.bridge.risk and
``reawaken risk``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.integrate import quad

from reawaken import __version__
from reawaken.bridge.baseline import (
    Profile,
    distant_hazard,
    lung_hazard,
    other_death_hazard,
)
from reawaken.bridge.kernel import LesionBiology
from reawaken.bridge.risk import (
    LABEL,
    YEAR_DAYS,
    cumulative_incidence,
    lung_metastasis_risk,
)
from reawaken.cli import main
from reawaken.errors import InputError

SURVIVOR = Profile(62, "II", "hr+her2-", 6)
DRAWS = 30
SEED = 1


@pytest.fixture(scope="module")
def sars():
    """SARS-CoV-2 risks for the same draws: plain, anti-IL-6, vaccinated, 400 days ago."""
    return {
        "plain": lung_metastasis_risk(SURVIVOR, "sars-cov-2", draws=DRAWS, seed=SEED),
        "anti_il6": lung_metastasis_risk(
            SURVIVOR, "sars-cov-2", draws=DRAWS, seed=SEED, anti_il6=True
        ),
        "vaccinated": lung_metastasis_risk(
            SURVIVOR, "sars-cov-2", draws=DRAWS, seed=SEED, vaccinated=True
        ),
        "day_400": lung_metastasis_risk(SURVIVOR, "sars-cov-2", 400, draws=DRAWS, seed=SEED),
    }


def _independent(profile: Profile, years: float) -> float:
    """Cumulative incidence by ``years`` from continuous hazards, by adaptive quadrature: the
    distant hazards are constant (after 5 years since diagnosis), other-cause death Gompertz
    (rate and slope read off other_death_hazard at two ages) with its closed-form integral."""
    assert profile.years_since_diagnosis >= 5
    h_l = float(lung_hazard(profile.stage, profile.subtype, 10.0))
    h_d = float(distant_hazard(profile.stage, profile.subtype, 10.0)) - h_l
    h0 = float(other_death_hazard(profile.age))
    slope = math.log(float(other_death_hazard(profile.age + 1.0)) / h0)

    def density(t: float) -> float:
        gompertz = h0 * math.expm1(slope * t) / slope
        return h_l * math.exp(-(h_l + h_d) * t - gompertz)

    value, _ = quad(density, 0.0, years, epsabs=0.0, epsrel=1e-12)
    return value


def test_cumulative_incidence_of_constant_hazards_is_the_closed_form():
    h_l, h_o = 0.01, 0.03
    widths = np.full(1000, 5.0 / 1000)
    f = cumulative_incidence(np.full(1000, h_l), np.full(1000, h_o), widths)
    exact = h_l / (h_l + h_o) * -math.expm1(-(h_l + h_o) * 5.0)
    assert f[-1] == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize(
    "profile",
    [SURVIVOR, Profile(80, "III", "triple-negative", 5), Profile(45, "I", "hr+her2+", 20)],
)
def test_risk_without_infection_matches_an_independent_calculation(profile):
    # The daily grid holds each hazard constant within a day (at its middle); the Gompertz
    # hazard changes by under 0.03% a day, so the two agree to far better than 1e-6 relative.
    r = lung_metastasis_risk(profile, "none")
    assert r.years == (1.0, 5.0)
    for k, years in enumerate(r.years):
        assert r.without[k] == pytest.approx(_independent(profile, years), rel=1e-6)


def test_risk_across_the_five_year_step_lies_between_the_early_and_late_hazards():
    early = lung_metastasis_risk(Profile(62, "II", "hr+her2-", 4.0), "none").without[0]
    across = lung_metastasis_risk(Profile(62, "II", "hr+her2-", 4.5), "none").without[0]
    late = lung_metastasis_risk(Profile(62, "II", "hr+her2-", 5.0), "none").without[0]
    assert late < across < early


def test_no_infection_gives_the_baseline_exactly():
    r = lung_metastasis_risk(SURVIVOR, "none")
    table = r.table()
    assert (table["with"] == table["without"]).all()
    assert (table["with_lower"] == table["without"]).all()
    assert (table["with_upper"] == table["without"]).all()
    assert (table["difference"] == 0.0).all()
    assert (table[["difference_lower", "difference_upper"]] == 0.0).all().all()


@pytest.mark.parametrize("pathogen", ["influenza", "sars-cov-2"])
def test_infection_raises_the_risk_with_the_lower_bound_at_or_above_baseline(pathogen, sars):
    r = (
        sars["plain"]
        if pathogen == "sars-cov-2"
        else lung_metastasis_risk(SURVIVOR, pathogen, draws=DRAWS, seed=SEED)
    )
    table = r.table()
    baseline = lung_metastasis_risk(SURVIVOR, "none").without
    np.testing.assert_array_equal(r.without, baseline)  # same baseline on both sides
    assert r.with_draws.shape == (DRAWS, 2)
    assert (table["with_lower"] >= table["without"]).all()
    assert (table["difference"] > 0).all()
    assert (table["with_lower"] <= table["with"]).all()
    assert (table["with"] <= table["with_upper"]).all()
    # the excess is strongest in the months after the infection: the relative increase by one
    # year is larger than by five
    relative = table["with"] / table["without"]
    assert relative[0] > relative[1] > 1.0


def test_anti_il6_and_vaccination_lower_the_infections_excess(sars):
    plain = sars["plain"].table()["difference"]
    for scenario in ("anti_il6", "vaccinated"):
        lowered = sars[scenario].table()["difference"]
        assert (lowered < plain).all(), scenario
        assert (lowered >= 0).all(), scenario


def test_an_infection_400_days_ago_adds_less_in_the_next_year(sars):
    now = sars["plain"].table()["difference"][0]
    then = sars["day_400"].table()["difference"][0]
    assert 0 < then < now


def test_the_same_seed_gives_the_same_risk(sars):
    again = lung_metastasis_risk(SURVIVOR, "sars-cov-2", draws=DRAWS, seed=SEED)
    np.testing.assert_array_equal(again.with_draws, sars["plain"].with_draws)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"infection": "rsv"}, "infection"),
        ({"infection": "sars-cov-2", "days_since": -1}, "days_since"),
        ({"infection": "sars-cov-2", "days_since": 3651}, "days_since"),
        ({"infection": "sars-cov-2", "draws": 0}, "draws"),
        ({"infection": "none", "vaccinated": True}, "infection"),
        ({"infection": "none", "years": (0.0,)}, "years"),
    ],
)
def test_the_library_refuses_bad_input_naming_it(kwargs, named):
    with pytest.raises(InputError, match=named):
        lung_metastasis_risk(SURVIVOR, **kwargs)


PROFILE_ARGS = [
    "risk",
    "--age",
    "62",
    "--stage",
    "II",
    "--subtype",
    "hr+her2-",
    "--years-since-diagnosis",
    "6",
]


@pytest.mark.parametrize(
    ("option", "bad"),
    [
        ("--age", "10"),
        ("--stage", "IV"),
        ("--subtype", "x"),
        ("--years-since-diagnosis", "40"),
        ("--days-since", "-1"),
        ("--days-since", "3651"),
    ],
)
def test_out_of_range_options_exit_2_with_one_line_naming_the_option(option, bad, capsys):
    argv = [*PROFILE_ARGS, "--infection", "sars-cov-2", "--draws", "2"]
    at = argv.index(option) if option in argv else None
    if at is None:
        argv += [option, bad]
    else:
        argv[at + 1] = bad
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and option in lines[0], err
    assert out == ""


def test_an_intervention_without_infection_is_refused(capsys):
    assert main([*PROFILE_ARGS, "--infection", "none", "--anti-il6"]) == 2
    err = capsys.readouterr().err
    assert "--anti-il6" in err and "--infection none" in err


def test_the_command_prints_and_writes_the_labelled_result(tmp_path, capsys):
    path = tmp_path / "risk.json"
    argv = [*PROFILE_ARGS, "--infection", "sars-cov-2", "--draws", "20", "--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "research model, not clinical advice" in out
    assert "1 year: without" in out and "5 years: without" in out
    assert "not estimation uncertainty" in out
    data = json.loads(path.read_text())
    assert data["label"] == LABEL == "research model, not clinical advice"
    assert data["profile"] == {
        "age": 62.0,
        "stage": "II",
        "subtype": "hr+her2-",
        "years_since_diagnosis": 6.0,
    }
    assert (data["infection"], data["days_since"], data["draws"], data["seed"]) == (
        "sars-cov-2",
        0,
        20,
        1,
    )
    assert data["lesion_response"] == LesionBiology().lesion_response  # the calibration in use
    assert data["version"] == __version__
    assert [row["years"] for row in data["risks"]] == [1.0, 5.0]
    expected = lung_metastasis_risk(SURVIVOR, "sars-cov-2", draws=20, seed=1).table()
    for row, (_, want) in zip(data["risks"], expected.iterrows(), strict=True):
        assert set(row) == set(expected.columns)
        for name in expected.columns:
            assert row[name] == pytest.approx(want[name], rel=1e-12)
        assert row["difference"] == pytest.approx(row["with"] - row["without"], rel=1e-9)
    assert [p.name for p in tmp_path.iterdir()] == ["risk.json"]  # no temporary file left


def test_the_grid_reaches_each_horizon_exactly():
    r = lung_metastasis_risk(SURVIVOR, "none", years=(0.5, 1.0, 5.0))
    assert r.years == (0.5, 1.0, 5.0)
    assert (np.diff(r.without) > 0).all()
    # one year is 365.25 days: the risk by 365 days is a little lower
    by_365 = lung_metastasis_risk(SURVIVOR, "none", years=(365 / YEAR_DAYS,)).without[0]
    assert by_365 < r.without[1]


def test_the_modules_examples_run():
    import doctest

    import reawaken.bridge.risk

    result = doctest.testmod(reawaken.bridge.risk, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 6 and result.failed == 0
