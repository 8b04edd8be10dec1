"""The population's model: what a user is promised about its numbers.

No infection means no excess and prevents the whole excess of infections; a vaccine prevents
more as its coverage and efficacy rise; IL-6 blockade helps more when it starts earlier; the
simulated excess is the kernel's integral over the survivors' infections (Monte Carlo error);
the survivors follow their documented distributions; a run is a function of its seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reawaken.population import PopulationSettings, run_population
from reawaken.population.kernels import build_kernels
from reawaken.population.run import run_chunks
from reawaken.population.scenarios import Scenario, scenario_list
from reawaken.population.simulation import MEASURES, Plan, draw_chunk, simulate_chunk
from reawaken.population.survivors import SUBTYPE_MIX, draw_survivors, stage_mix

LUNG = MEASURES.index("lung_metastases")
YEARS, DRAWS, SEED = 3, 8, 11


@pytest.fixture(scope="module")
def kernels():
    """Every kernel the tests below need, computed once."""
    wanted = [
        "vaccine:coverage=0.5",
        "anti-il6:coverage=1,delay=0",
        "anti-il6:coverage=1,delay=14",
    ]
    return build_kernels(scenario_list(wanted), DRAWS, SEED, YEARS)


def _lung(plan: Plan, kernels) -> np.ndarray:
    """Lung metastases of each scenario of ``plan`` (whole population)."""
    return run_chunks(plan, kernels)[:, :, LUNG].sum(axis=(1, 2))


def test_no_infection_has_no_excess_and_prevents_all_of_it():
    result = run_population(PopulationSettings(20_000, 2, 4, 3), [])
    t = result.table().set_index(["scenario", "measure"])
    none = t.loc["no-infection"]
    assert none.loc["excess_lung_metastases", "value"] == 0.0
    assert none.loc["excess_cancer_deaths", "value"] == 0.0
    assert none.loc["infections", "value"] == 0.0
    assert (none.loc["prevented_fraction", ["value", "lower", "upper"]] == 1.0).all()
    base = t.loc["baseline"]
    # the infections' burden is real, and no-infection prevents exactly that
    assert base.loc["excess_lung_metastases", "value"] > 0
    assert (
        none.loc["prevented_lung_metastases", "value"]
        == base.loc["excess_lung_metastases", "value"]
    )
    assert base.loc["prevented_fraction", "value"] == 0.0


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    low=st.floats(0.0, 1.0),
    high=st.floats(0.0, 1.0),
    efficacy=st.floats(0.2, 1.0),
)
def test_excess_falls_as_vaccine_coverage_rises(kernels, low, high, efficacy):
    low, high = sorted((low, high))
    vaccines = (
        Scenario("vaccine", coverage=low, efficacy=efficacy),
        Scenario("vaccine", coverage=high, efficacy=efficacy),
        Scenario("vaccine", coverage=high, efficacy=1.0),
    )
    plan = Plan(10_000, YEARS, DRAWS, SEED, 5000, (*scenario_list([]), *vaccines))
    base, none, at_low, at_high, full_efficacy = _lung(plan, kernels)
    assert base > none
    assert none <= at_high <= at_low <= base
    assert none <= full_efficacy <= at_high


def test_anti_il6_prevents_more_when_started_earlier(kernels):
    early = Scenario("anti-il6", coverage=1.0, delay=0.0)
    late = Scenario("anti-il6", coverage=1.0, delay=14.0)
    plan = Plan(60_000, YEARS, DRAWS, SEED, 30_000, (*scenario_list([]), early, late))
    base, none, at_early, at_late = _lung(plan, kernels)
    assert base > none
    prevented_early, prevented_late = base - at_early, base - at_late
    assert prevented_early > prevented_late >= 0
    # delay 0 prevents most of the burden (the kernel's IL-6 is nearly gone), delay 14 less
    assert prevented_early / (base - none) > 0.5


def test_the_kernel_integrates_to_the_simulated_excess(kernels):
    """Excess = sum over infections of the baseline lung hazard times the kernel ratio,
    integrated from the infection to the end of follow-up (Monte Carlo error apart)."""
    plan = Plan(100_000, YEARS, DRAWS, SEED, 50_000, tuple(scenario_list([])))
    simulated = 0.0
    expected = 0.0
    none = kernels.index("none")
    days = np.arange(kernels.horizon)
    for chunk in range(plan.chunks):
        counts = simulate_chunk(chunk, plan, kernels)
        simulated += counts[0, :, LUNG].sum() - counts[1, :, LUNG].sum()
        d = draw_chunk(plan, chunk)
        inf = d.infections
        keep = inf.day < d.censor[inf.person]
        who, day, pathogen = inf.person[keep], inf.day[keep], inf.pathogen[keep]
        for lo in range(0, who.size, 4000):
            p, t0, path = who[lo : lo + 4000], day[lo : lo + 4000], pathogen[lo : lo + 4000]
            t = t0[:, None] + days[None, :]
            hazard = np.where(
                t < d.early_days[p, None], d.lung_early[p, None], d.lung_late[p, None]
            )
            inside = np.clip(d.censor[p, None] - t, 0.0, 1.0)  # day fully, partly or not
            ratio = kernels.ratio[path[:, None], none, d.group[p][:, None], days[None, :]]
            expected += float((hazard * inside * ratio).sum())
    assert expected > 100  # enough events for the comparison to mean something
    # Monte Carlo sd about sqrt(excess) with common random numbers; the integral also ignores
    # that a first lung metastasis ends a survivor's follow-up (a few per cent)
    assert abs(simulated - expected) < 4.0 * np.sqrt(expected) + 0.03 * expected


def test_survivors_follow_their_distributions():
    s = draw_survivors(200_000, np.random.default_rng(5))
    total = sum(SUBTYPE_MIX.values())
    for k, share in enumerate(SUBTYPE_MIX.values()):
        assert abs((s.subtype == k).mean() - share / total) < 0.005
    for k, share in enumerate(stage_mix().values()):
        assert abs((s.stage == k).mean() - share) < 0.005
    assert s.years_since_diagnosis.min() >= 0 and s.years_since_diagnosis.max() <= 20
    age_at_diagnosis = s.age - s.years_since_diagnosis
    assert age_at_diagnosis.min() > 25 - 1e-9 and age_at_diagnosis.max() < 89 + 1e-9
    assert abs(np.median(age_at_diagnosis) - 61) < 0.5


def test_infection_rates_match_the_attack_rates():
    plan = Plan(200_000, 1, 2, 1, 200_000, tuple(scenario_list([])))
    d = draw_chunk(plan, 0)
    inf = d.infections
    under_65 = d.survivors.age < 65
    flu = inf.pathogen == 0
    flu_under = np.isin(inf.person[flu], np.flatnonzero(under_65)).sum() / under_65.sum()
    flu_over = np.isin(inf.person[flu], np.flatnonzero(~under_65)).sum() / (~under_65).sum()
    assert abs(flu_under - 0.089) < 0.004 and abs(flu_over - 0.039) < 0.003
    had_covid = np.unique(inf.person[~flu]).size / plan.survivors
    assert abs(had_covid - 0.16) < 0.004  # at least one infection in a year
    # influenza falls around the February peak (day 135 from 1 October)
    assert abs(np.median(inf.day[flu]) - 135) < 2


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    a = run_population(PopulationSettings(4000, 1, 2, 8, chunk_size=1500), [])
    b = run_population(PopulationSettings(4000, 1, 2, 8, chunk_size=1500), [])
    c = run_population(PopulationSettings(4000, 1, 2, 9, chunk_size=1500), [])
    assert np.array_equal(a.counts, b.counts)
    assert a.table().equals(b.table())
    assert not np.array_equal(a.counts, c.counts)


def test_each_group_uses_its_own_parameter_draw():
    plan = Plan(1000, 1, 7, 2, 300, tuple(scenario_list([])))
    groups = np.concatenate([draw_chunk(plan, c).group for c in range(plan.chunks)])
    assert np.array_equal(groups, np.arange(1000) % 7)
