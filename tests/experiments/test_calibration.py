"""The stored calibration is what the documented objective gives for the stored values."""

import json

import pytest

from reawaken.experiments.calibration import (
    MAX_SELF_RENEWAL,
    PRIORS,
    default_calibration_path,
    objective_terms,
)
from reawaken.model.parameters import calibrated_values


def test_stored_objective_and_slacks_are_reproduced():
    stored = json.loads(default_calibration_path().read_text())
    values = calibrated_values()
    assert set(values) == set(PRIORS)
    objective, slacks = objective_terms(values)
    assert objective == pytest.approx(stored["objective"], rel=1e-6, abs=1e-9)
    for claim_id, slack in stored["claim_slack_log10"].items():
        assert slacks[claim_id] == pytest.approx(slack, rel=1e-6, abs=1e-9)
    assert all(s >= 0 for s in slacks.values())


def test_structural_constraint_holds():
    values = calibrated_values()
    assert values["dcc_proliferation"] / values["return_to_dormancy"] <= MAX_SELF_RENEWAL * 1.01
