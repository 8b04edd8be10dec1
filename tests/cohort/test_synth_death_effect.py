"""The planted effect acting on cancer death (``infection_effect.acts_on``): relapse untouched,
the cancer-death hazard after relapse multiplied in the windows after an infection."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.cohort.synth import simulate
from reawaken.cohort.synth_params import check_params, default_params
from reawaken.errors import InputError

RATIO = 3.0


def _params(acts_on: str, ratio: float) -> dict:
    p = default_params()
    eff = p["infection_effect"]
    eff["pathogens"] = ["sars-cov-2"]
    eff["windows"] = [{"start_day": 0, "end_day": 365, "ratio": ratio}]
    eff["acts_on"] = acts_on
    return check_params(p)


def _rate_ratio(cohort) -> tuple[float, int, int]:
    """Cancer deaths per person-day after relapse, within 0-364 days of the last SARS-CoV-2
    infection against outside such a window, counted day by day from the cohort (events and
    person-time by plain arithmetic, independent of the generator's segment code)."""
    people = cohort.people
    inf = cohort.infections[cohort.infections["pathogen"] == "sars-cov-2"]
    days = inf.groupby("pid")["day"].apply(lambda s: np.sort(s.to_numpy())).to_dict()
    events = np.zeros(2)
    time = np.zeros(2)
    relapsed = people[people["relapse"] >= 0]
    for row in relapsed.itertuples():
        start, end = row.relapse, row.end
        grid = np.arange(start, end + 1)
        inside = np.zeros(grid.size, bool)
        mine = days.get(row.pid)
        if mine is not None:
            last = np.searchsorted(mine, grid, side="right") - 1
            since = np.where(last >= 0, grid - mine[np.clip(last, 0, None)], -1)
            inside = (since >= 0) & (since < 365)
        time[1] += inside.sum()
        time[0] += (~inside).sum()
        if row.cause == "cancer":
            events[int(inside[-1])] += 1
    return (events[1] / time[1]) / (events[0] / time[0]), int(events[1]), int(events[0])


def test_relapse_is_untouched_when_the_effect_acts_on_cancer_death():
    on_death = simulate(4000, 5, "ukb", _params("cancer_death", RATIO))
    none = simulate(4000, 5, "ukb", _params("relapse", 1.0))
    assert np.array_equal(on_death.people["relapse"], none.people["relapse"])
    # cancer deaths only come sooner (the same draw through a larger hazard)
    both = (on_death.people["cause"] == "cancer") & (none.people["cause"] == "cancer")
    assert (on_death.people["end"][both] <= none.people["end"][both]).all()


def test_planted_cancer_death_ratio_is_recovered():
    ratios = []
    for seed in (1, 2, 3):
        cohort = simulate(60000, seed, "flatiron", _params("cancer_death", RATIO))
        ratio, inside, outside = _rate_ratio(cohort)
        assert inside > 50 and outside > 500
        ratios.append(ratio)
    # three seeds pooled: the Poisson rate ratio within 15% of the planted 3 (a generator that
    # ignored the effect gives about 1; one planting it on relapse gives about 1 here too)
    assert abs(np.exp(np.mean(np.log(ratios))) - RATIO) < 0.15 * RATIO
    control = simulate(60000, 1, "flatiron", _params("relapse", RATIO))
    assert abs(_rate_ratio(control)[0] - 1.0) < 0.35


def test_acts_on_is_checked():
    p = default_params()
    p["infection_effect"]["acts_on"] = "death"
    with pytest.raises(InputError, match="infection_effect.acts_on"):
        check_params(p)
