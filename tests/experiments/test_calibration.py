"""The shipped calibration is what the documented objective gives for its values; a user's
calibration file, written by `reawaken calibrate --write`, is used in its place when present,
the shipped file is never written, and outputs record which file was read."""

import json

import pytest

from reawaken.cli import NOT_CONVERGED, main
from reawaken.errors import InputError
from reawaken.experiments.calibration import (
    MAX_SELF_RENEWAL,
    PRIORS,
    CalibrationResult,
    calibrate,
    objective_terms,
    write_calibration,
)
from reawaken.experiments.outputs import simulate_protocol
from reawaken.experiments.protocols import MOUSE_LUNG
from reawaken.model.calibrated import (
    calibrated_values,
    calibration_path,
    calibration_source,
    shipped_calibration_path,
    user_calibration_path,
)
from reawaken.model.parameters import parameter_set


def test_stored_objective_and_slacks_are_reproduced():
    stored = json.loads(shipped_calibration_path().read_text())
    values = calibrated_values()
    assert calibration_path() == shipped_calibration_path()
    assert values == stored["values"]
    assert set(values) == set(PRIORS)
    objective, slacks = objective_terms(values)
    assert objective == pytest.approx(stored["objective"], rel=1e-6, abs=1e-9)
    for claim_id, slack in stored["claim_slack_log10"].items():
        assert slacks[claim_id] == pytest.approx(slack, rel=1e-6, abs=1e-9)
    assert all(s >= 0 for s in slacks.values())


def test_structural_constraint_holds():
    values = calibrated_values()
    assert values["dcc_proliferation"] / values["return_to_dormancy"] <= MAX_SELF_RENEWAL * 1.01


def test_user_path_follows_xdg_data_home_else_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_calibration_path() == tmp_path / "xdg" / "reawaken" / "calibration.json"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "reawaken" / "calibration.json"
    assert user_calibration_path() == expected


def _result(scale: float) -> CalibrationResult:
    shipped = json.loads(shipped_calibration_path().read_text())
    values = {k: v * scale for k, v in shipped["values"].items()}
    return CalibrationResult(values, 0.5, 3, {"flu_d3": 0.1})


def test_a_written_calibration_is_used_at_once_and_recorded(tmp_path):
    shipped_before = shipped_calibration_path().read_bytes()
    shipped_values = calibrated_values()
    first = write_calibration(_result(1.5))
    assert first == user_calibration_path() and calibration_path() == first
    assert calibrated_values()["awakening_max"] == 1.5 * shipped_values["awakening_max"]
    mouse = parameter_set("mouse-influenza")
    assert mouse["awakening_max"] == 1.5 * shipped_values["awakening_max"]
    assert str(first) in mouse.get("awakening_max").source
    # written again in the same process: the new values, not a cached copy
    write_calibration(_result(2.0))
    assert calibrated_values()["awakening_max"] == 2.0 * shipped_values["awakening_max"]
    source = calibration_source()
    assert source.path == first and not source.shipped

    out = simulate_protocol(MOUSE_LUNG, tmp_path / "run", arms=["influenza"])
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["calibration"] == source.record()
    assert record["arms"] == ["mock", "influenza"] and record["protocol"] == "mouse-lung"
    assert {p.name for p in out.files} >= {"summary.csv", "run.json"}
    assert shipped_calibration_path().read_bytes() == shipped_before


def test_default_runs_record_the_shipped_calibration(tmp_path):
    simulate_protocol(MOUSE_LUNG, tmp_path, arms=["mock"])
    record = json.loads((tmp_path / "run.json").read_text())
    assert record["calibration"]["shipped"] is True
    assert record["calibration"]["path"] == str(shipped_calibration_path())


def test_calibrate_command_writes_the_user_file_or_out(tmp_path, capsys):
    shipped_before = shipped_calibration_path().read_bytes()
    target = tmp_path / "mine" / "cal.json"
    # one evaluation cannot converge: written (marked) but the exit status says so
    assert main(["calibrate", "--max-evaluations", "1", "--out", str(target)]) == NOT_CONVERGED
    out, err = capsys.readouterr()
    assert f"wrote {target}" in out
    assert "not converged: the search stopped on its budget after 1 evaluations" in err
    written = json.loads(target.read_text())
    assert set(written["values"]) == set(PRIORS)
    assert written["converged"] is False
    assert written["command"] == "reawaken calibrate --max-evaluations 1"
    assert not user_calibration_path().exists()  # --out given: the user file is left alone
    assert main(["calibrate", "--max-evaluations", "1", "--write"]) == NOT_CONVERGED
    assert user_calibration_path().is_file()
    assert calibration_path() == user_calibration_path()
    assert shipped_calibration_path().read_bytes() == shipped_before


def test_a_broken_user_file_is_an_input_error_naming_it():
    path = user_calibration_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"values": ')
    with pytest.raises(InputError, match=f"file {path}: not a calibration file"):
        parameter_set("mouse-influenza")


def test_calibrated_parameters_say_calibrated_and_by_which_command(capsys):
    """Fitted values are not measurements: labelled calibrated, with the command that made
    them; carried over to people they are assumptions."""
    mouse = parameter_set("mouse-influenza")
    fitted = mouse.get("awakening_max")
    assert fitted.basis == "calibrated" and fitted.calibrated and not fitted.assumed
    assert "`reawaken calibrate --max-evaluations 700`" in fitted.source
    assert mouse.get("eclipse_rate").basis == "sourced"
    assert parameter_set("human-influenza").get("awakening_max").basis == "assumed"
    table = mouse.table()
    assert set(table.loc[table["basis"] == "calibrated", "name"]) == set(PRIORS)
    assert main(["params", "show", "mouse-influenza"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "awakening_max" in x)
    assert line.split()[3] == "calibrated"
    write_calibration(_result(1.5))
    refitted = parameter_set("mouse-influenza").get("infectivity")
    assert str(user_calibration_path()) in refitted.source


def test_a_search_stopped_by_its_budget_is_not_converged():
    result = calibrate(max_evaluations=1)
    assert not result.converged and result.budget == 1
    assert result.stopped.startswith("stopped on its budget")
