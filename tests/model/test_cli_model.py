"""The model's commands: outputs written as documented, bad input as one line with exit 2."""

import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.model.states import STATE_IDS


def test_simulate_writes_summary_trajectories_and_figure(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["simulate", "--protocol", "mouse-lung", "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:6]) == [
        "arm",
        "day",
        "dcc_total",
        "dcc_dormant",
        "dcc_awake",
        "fold_vs_mock",
    ]
    assert sorted(summary["day"].unique()) == [0, 3, 6, 9, 15, 28, 60, 270]
    assert set(summary["arm"]) >= {"mock", "influenza", "sars-cov-2"}
    pd.testing.assert_series_equal(
        summary["dcc_total"], summary["dcc_dormant"] + summary["dcc_awake"], check_names=False
    )
    traj = pd.read_csv(out / "trajectories.csv")
    assert list(traj.columns[:2]) == ["arm", "time_d"]
    assert list(traj.columns[2 : 2 + len(STATE_IDS)]) == list(STATE_IDS)
    png = (out / "dcc_fold_change.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert not list(out.glob(".*"))  # no temporary files left behind


def test_ensemble_adds_quantiles_and_is_seeded(tmp_path):
    args = ["simulate", "--protocol", "mouse-lung", "--arm", "mock", "--arm", "influenza"]
    assert main([*args, "--n", "6", "--seed", "3", "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--n", "6", "--seed", "3", "--out", str(tmp_path / "b")]) == 0
    a = pd.read_csv(tmp_path / "a" / "summary.csv")
    b = pd.read_csv(tmp_path / "b" / "summary.csv")
    pd.testing.assert_frame_equal(a, b)
    for q in ("q05", "q50", "q95"):
        assert f"fold_vs_mock_{q}" in a.columns
    flu = a[(a["arm"] == "influenza") & (a["day"] == 15)].iloc[0]
    assert flu["fold_vs_mock_q05"] <= flu["fold_vs_mock"] <= flu["fold_vs_mock_q95"]
    assert flu["fold_vs_mock_q05"] < flu["fold_vs_mock_q95"]  # individuals differ
    assert (a["seed"] == 3).all() and (a["n"] == 6).all()


def test_protocols_and_params_show(capsys):
    assert main(["protocols"]) == 0
    text = capsys.readouterr().out
    assert "mouse-lung" in text and "influenza+cd4_cd8_depleted" in text
    assert main(["params", "show", "mouse-influenza"]) == 0
    text = capsys.readouterr().out
    assert "il6_clearance" in text and "pg/mL" in text and "Baccam" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["simulate", "--protocol", "rat-lung", "--out", "x"], "--protocol rat-lung: unknown"),
        (
            ["simulate", "--protocol", "mouse-lung", "--arm", "flu", "--out", "x"],
            "--arm flu: unknown",
        ),
        (
            ["simulate", "--protocol", "mouse-lung", "--set", "dcc_prolif=1", "--out", "x"],
            "no parameter named 'dcc_prolif'",
        ),
        (
            ["simulate", "--protocol", "mouse-lung", "--set", "il6_baseline=-3", "--out", "x"],
            "negative",
        ),
        (
            ["simulate", "--protocol", "mouse-lung", "--set", "il6_baseline=abc", "--out", "x"],
            "not a number",
        ),
        (["simulate", "--protocol", "mouse-lung", "--set", "oops", "--out", "x"], "name=value"),
        (["simulate", "--protocol", "mouse-lung", "--n", "-1", "--out", "x"], "--n -1: out of"),
        (["params", "show", "rat-influenza"], "NAME rat-influenza: unknown"),
        (["export", "sbml", "--params", "nope", "--out", "m.xml"], "--params nope: unknown"),
        (["lesions", "--arm", "flu", "--out", "x"], "--arm flu: unknown"),
        (["lesions", "--days", "3,x", "--out", "x"], "--days 3,x: 'x' is not a number"),
        (["lesions", "--days", "3,nan", "--out", "x"], "nan is out of range"),
        (
            ["simulate", "--protocol", "mouse-lung", "--set", "awakening_ec50=0", "--out", "x"],
            "awakening_ec50 must be positive",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["simulate"], "Missing option"),
        (["fit", "cox", "--ties", "efron"], "Missing option"),
        (["simulate", "--protocol", "mouse-lung", "--out", "x", "--bogus"], "No such option"),
    ],
)
def test_usage_errors_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_a_subset_of_arms_still_gets_fold_changes(tmp_path):
    out = tmp_path / "subset"
    args = ["simulate", "--protocol", "mouse-lung", "--arm", "influenza", "--out", str(out)]
    assert main(args) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["arm"]) == {"mock", "influenza"}
    assert summary["fold_vs_mock"].notna().all()
