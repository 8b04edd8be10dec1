import numpy as np

from reawaken.model.states import INDEX, N_STATES
from reawaken.simulate.ensemble import ArmResult
from reawaken.simulate.ode import Solution
from reawaken.simulate.summary import summarise


def _arm(name, totals, ok):
    totals = np.asarray(totals, dtype=float)
    ys = np.zeros((totals.shape[0], 2, N_STATES))
    ys[:, :, INDEX["dcc_dormant"]] = totals
    ys[~np.asarray(ok)] = np.nan
    return ArmResult(name, Solution(np.array([0.0, 1.0]), ys, np.asarray(ok)))


def test_paired_fold_change_skips_individuals_whose_reference_failed():
    mock = _arm("mock", [[100, 100], [100, 100], [100, 100]], [True, False, True])
    flu = _arm("influenza", [[100, 200], [100, 400], [100, 600]], [True, True, True])
    table = summarise([mock, flu])
    row = table[(table["arm"] == "influenza") & (table["day"] == 1.0)].iloc[0]
    assert row["fold_vs_mock"] == 4.0  # median of 2 and 6: individual 2 has no reference
    assert row["dcc_total"] == 400.0  # its own count still counts
    assert "reference failed: 1 of 3" in row["status"]
    mock_row = table[(table["arm"] == "mock") & (table["day"] == 1.0)].iloc[0]
    assert mock_row["status"] == "failed: 1 of 3"
