import numpy as np
import pytest

from reawaken.errors import InputError
from reawaken.experiments.protocols import MOUSE_LUNG
from reawaken.experiments.run import arm_inputs, run_protocol
from reawaken.model.states import INDEX
from reawaken.simulate.stochastic import lesion_summary, simulate_clones


def _clones(arm, days, **kwargs):
    params, forcing = arm_inputs(MOUSE_LUNG, arm)
    return simulate_clones(params, forcing, days, arm=arm, **kwargs)


DAYS = (0.0, 3.0, 6.0)


def test_mock_animals_keep_their_dormant_cells():
    result = _clones("mock", DAYS, replicates=20, seed=1)
    assert (result.awake == 0).all()
    assert (result.dormant == 1).all()
    table = lesion_summary(result, threshold=2)
    assert (table["p_lesion_by_day"] == 0).all()


def test_same_seed_same_clones_other_seed_other_clones():
    a = _clones("influenza", DAYS, replicates=30, seed=7)
    b = _clones("influenza", DAYS, replicates=30, seed=7)
    c = _clones("influenza", DAYS, replicates=30, seed=8)
    assert np.array_equal(a.awake, b.awake) and np.array_equal(a.dormant, b.dormant)
    assert not np.array_equal(a.awake, c.awake)


def test_mean_over_replicates_matches_the_ode():
    """The tau-leaping mean converges to the deterministic model (linear in the DCCs far below
    capacity): within 4 standard errors plus 2% for the O(dt) bias."""
    result = _clones("influenza", DAYS, replicates=400, seed=11)
    ode = run_protocol(MOUSE_LUNG, arms=["influenza"], days=DAYS)[0].solution.ys[0]
    total = result.dormant.sum(axis=2) + result.awake.sum(axis=2)
    for j in range(1, len(DAYS)):
        expected = ode[j, INDEX["dcc_dormant"]] + ode[j, INDEX["dcc_awake"]]
        mean, se = total[:, j].mean(), total[:, j].std(ddof=1) / np.sqrt(total.shape[0])
        assert abs(mean - expected) <= 4 * se + 0.02 * expected


def test_lesion_probability_by_day_never_decreases_and_counts_are_whole():
    result = _clones("influenza", (0, 3, 6, 9), replicates=50, seed=2)
    table = lesion_summary(result, threshold=20)
    assert np.all(np.diff(table["p_lesion_by_day"]) >= 0)
    assert (table["p_lesion_now"] <= table["p_lesion_by_day"]).all()
    assert table["p_lesion_by_day"].iloc[0] == 0
    assert (result.dormant >= 0).all() and (result.awake >= 0).all()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"replicates": 0}, "replicates"),
        ({"dt": 0.0}, "dt must be"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(InputError, match=message):
        _clones("influenza", DAYS, **kwargs)
