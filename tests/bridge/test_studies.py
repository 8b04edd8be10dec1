"""The two studies reproduced from the mechanism: cohorts with the kernel planted, the designs
recovering it, the calibration to the Flatiron HR and the command's files."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest

from reawaken.bridge import studies
from reawaken.bridge.kernel import compute_kernel
from reawaken.cli import main
from reawaken.cohort.synth_params import check_params, default_params
from reawaken.epi.estimate import run_design
from reawaken.errors import InputError


@pytest.fixture(scope="module")
def kernels():
    return {"sars-cov-2": compute_kernel("sars-cov-2", 100, 1)}


def test_the_planted_effect_is_the_kernel_in_steps(kernels):
    effect = studies.mechanism_effect(kernels)
    steps = effect["windows_by_pathogen"]["sars-cov-2"]
    hr = 1.0 + kernels["sars-cov-2"].ratio.mean(axis=0)
    assert steps[0] == {"start_day": 0, "end_day": 7, "ratio": pytest.approx(hr[:7].mean())}
    assert all(a["end_day"] == b["start_day"] for a, b in zip(steps, steps[1:], strict=False))
    params = studies.generator_params(effect)
    assert params["infection_effect"]["site"] == "lung"
    assert params["infection_effect"]["windows_by_pathogen"]["influenza"] == []


def test_bad_per_pathogen_windows_are_refused_by_name():
    params = copy.deepcopy(default_params())
    params["infection_effect"]["windows_by_pathogen"]["influenza"] = [
        {"start_day": 0, "end_day": 10, "ratio": -1.0}
    ]
    with pytest.raises(InputError, match=r"windows_by_pathogen\.influenza\[0\]\.ratio"):
        check_params(params)
    params["infection_effect"]["windows_by_pathogen"]["influenza"] = [
        {"start_day": 9, "end_day": 3, "ratio": 1.0}
    ]
    with pytest.raises(InputError, match="end_day 3 must be after start_day 9"):
        check_params(params)
    params = copy.deepcopy(default_params())
    params["infection_effect"]["site"] = "spleen"
    with pytest.raises(InputError, match="infection_effect.site"):
        check_params(params)


@pytest.mark.slow
def test_the_cox_design_recovers_the_planted_hazard_ratio_per_window(kernels, tmp_path):
    truth = studies.truth_by_window(kernels)["sars-cov-2"]
    covered, early = [], []
    for seed in range(5):
        cohort = studies.mechanism_cohort(
            "flatiron", 100_000, 20 + seed, kernels, tmp_path / str(seed)
        )
        assert cohort.truth["mechanism"]["hr_by_window"]["sars-cov-2"] == truth
        result = run_design(cohort.store, "cox", outcome="lung_metastasis", exposure="sars-cov-2")
        est = result.estimates[result.estimates["kind"] == "exposure"].set_index("window")
        for window, hr in truth.items():
            covered.append(est.loc[window, "ci_lower"] <= hr <= est.loc[window, "ci_upper"])
        rows = est.loc[["0-30", "31-90"]]
        early.append(np.average(np.log(rows["ratio"]), weights=1 / rows["se"] ** 2))
    # 25 intervals: a method with 95% coverage misses more than 5 with probability about 0.01
    assert sum(covered) >= 20, covered
    # the excess of the first three months is seen (truth about 2.7); no effect would be 1
    assert math.exp(np.mean(early)) > 1.8


@pytest.mark.slow
def test_bridge_command_calibrates_to_flatiron_and_reports_uk_biobank(tmp_path, capsys):
    out = tmp_path / "bridge"
    argv = [
        "bridge",
        "--draws",
        "50",
        "--cohort-size",
        "60000",
        "--bootstrap",
        "20",
        "--seed",
        "3",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "kernel.csv",
            "death_kernel.csv",
            "hr_by_window.csv",
            "studies.csv",
            "assumptions.csv",
            "bridge.json",
            "bridge.png",
        ]
    )
    kernel = pd.read_csv(out / "kernel.csv")
    assert list(kernel.columns) == ["pathogen", "day", "excess_hazard", "lower", "upper"]
    assert set(kernel["pathogen"]) == {"influenza", "sars-cov-2"}
    record = json.loads((out / "bridge.json").read_text())
    assert record["calibration"]["converged"]
    # the analysed HR moves in small steps: the closest step is near 1.44
    closest = min(abs(math.log(step["hr"] / 1.44)) for step in record["calibration"]["steps"])
    assert closest <= 0.03
    table = pd.read_csv(out / "studies.csv").set_index("study")
    flat = table.loc["flatiron"]
    # the Flatiron-like cohort of another seed: 1.44 within its interval
    assert flat["lower"] <= 1.44 <= flat["upper"]
    assert bool(flat["used_for_calibration"]) and not bool(
        table.loc["uk_biobank", "used_for_calibration"]
    )
    ukb = table.loc["uk_biobank"]
    assert ukb["lower"] <= ukb["value"] <= ukb["upper"]
    assert record["ukb_inside_published_interval"] == bool(1.14 <= ukb["value"] <= 3.02)
    assumptions = pd.read_csv(out / "assumptions.csv").set_index("name")
    assert set(assumptions["basis"]) <= {"sourced", "assumed", "calibrated"}
    assert assumptions.loc["lesion_response", "value"] == pytest.approx(
        record["calibration"]["lesion_response"]
    )
    hr = pd.read_csv(out / "hr_by_window.csv")
    assert list(hr["window"].unique()) == ["0-30", "31-90", "91-180", "181-365", ">365"]


def test_cohort_synth_plants_the_mechanism_and_says_so_in_truth(tmp_path):
    out = tmp_path / "synth"
    argv = [
        "cohort",
        "synth",
        "--like",
        "flatiron",
        "--n",
        "300",
        "--seed",
        "4",
        "--effect",
        "mechanism",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    truth = json.loads((out / "truth.json").read_text())
    expected = studies.truth_by_window({"sars-cov-2": compute_kernel("sars-cov-2", 200, 4)})
    got = truth["mechanism"]["hr_by_window"]["sars-cov-2"]
    assert got == pytest.approx(expected["sars-cov-2"], rel=1e-12)
    assert got["0-30"] > 1.5 and truth["parameters"]["infection_effect"]["site"] == "lung"
    steps = truth["parameters"]["infection_effect"]["windows_by_pathogen"]["influenza"]
    assert steps and steps[0]["start_day"] == 0
