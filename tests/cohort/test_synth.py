"""The generator: exact planted hazard, fixed seeds, parameters from a file, truth.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reawaken.cohort.sources.synthetic import day
from reawaken.cohort.synth import _relapse_times, load_params, simulate
from reawaken.cohort.synth_layouts import generate
from reawaken.cohort.synth_params import check_params, default_params
from reawaken.errors import InputError


def _cumulative_hazard(t: float, person: dict, infections: list[int], p: dict) -> float:
    """Integral of the relapse hazard from the start to ``t``, by plain day-by-day summation."""
    rel, eff = p["relapse"], p["infection_effect"]
    start = max(person["entry"], person["dx"])
    base = rel["annual_hazard_by_stage"][person["stage"]] / 365.25
    edges = np.append(np.arange(start, t, 0.01), t)  # 0.01-day steps, breakpoints on edges
    width = np.diff(edges)
    grid = edges[:-1] + width / 2
    since_dx = grid - person["dx"]
    mult = np.ones_like(grid)
    for w in rel["multiplier_by_days_since_diagnosis"]:
        mult[(since_dx >= w["start_day"]) & (since_dx < w["end_day"])] = w["ratio"]
    ratio = np.ones_like(grid)
    for d in sorted(infections):  # the most recent infection decides (later ones overwrite)
        since = grid - d
        r = np.where(since >= 0, eff["ratio_after"], np.nan)
        for w in eff["windows"]:
            r[(since >= w["start_day"]) & (since < w["end_day"])] = w["ratio"]
        ratio = np.where(since >= 0, r, ratio)
    return float(np.sum(base * mult * ratio * width))


@pytest.mark.parametrize("stage", ["I", "III"])
def test_relapse_time_inverts_the_planted_hazard_exactly(stage):
    p = load_params()
    p["relapse"]["annual_hazard_by_stage"] = {"I": 0.5, "II": 0.5, "III": 2.0}  # relapse soon
    person = {"pid": 0, "entry": 1000, "dx": 900, "stage": stage, "horizon": 5000}
    infections = [1100, 1150, 1500]  # a reinfection inside the first window restarts it
    people = pd.DataFrame([person])
    inf = pd.DataFrame({"pid": 0, "day": infections, "pathogen": "influenza"})
    t = _relapse_times(people, inf, p, np.random.default_rng(3))[0][0]
    e = np.random.default_rng(3).exponential(1.0, 1)[0]
    assert 1000 < t < 5001
    assert _cumulative_hazard(t, person, infections, p) == pytest.approx(e, rel=1e-9)


def test_infection_multiplies_relapse_hazard_as_truth_says():
    # many identical people infected on one day: the relapse hazard in each window since
    # infection, relative to uninfected twins, is the planted ratio
    p = load_params()
    p["relapse"]["annual_hazard_by_stage"] = {"I": 0.2, "II": 0.2, "III": 0.2}
    p["relapse"]["multiplier_by_days_since_diagnosis"] = []
    n = 100_000
    people = pd.DataFrame({"pid": np.arange(n), "entry": 0, "dx": 0, "stage": "I", "horizon": 600})
    inf = pd.DataFrame({"pid": np.arange(0, n, 2), "day": 100, "pathogen": "sars-cov-2"})
    t, _ = _relapse_times(people, inf, p, np.random.default_rng(5))
    infected = np.arange(n) % 2 == 0

    def rate(sel: np.ndarray, lo: float, hi: float) -> float:
        tt = t[sel]
        at_risk = np.clip(tt, lo, hi) - lo
        return np.sum((tt >= lo) & (tt < hi)) / at_risk.sum()

    for lo, hi, ratio in ((100, 191, 2.0), (191, 465, 1.5), (465, 601, 1.0)):
        observed = rate(infected, lo, hi) / rate(~infected, lo, hi)
        assert observed == pytest.approx(ratio, rel=0.08)


def test_same_seed_same_files_and_truth(tmp_path):
    a = generate("omop", 300, 4, tmp_path / "a")
    b = generate("omop", 300, 4, tmp_path / "b")
    assert a == b
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()
    c = generate("omop", 300, 5, tmp_path / "c")
    assert c["counts"] != a["counts"]


def test_truth_holds_every_parameter_and_a_file_overrides_them(tmp_path):
    params = tmp_path / "p.json"
    params.write_text(
        json.dumps(
            {"infection_effect": {"windows": [{"start_day": 0, "end_day": 30, "ratio": 3.0}]}}
        )
    )
    truth = generate("ukb", 200, 1, tmp_path / "out", params)
    saved = json.loads((tmp_path / "out" / "truth.json").read_text())
    assert saved == json.loads(json.dumps(truth))
    assert saved["parameters"]["infection_effect"]["windows"] == [
        {"start_day": 0, "end_day": 30, "ratio": 3.0}
    ]
    assert saved["parameters"]["relapse"] == default_params()["relapse"]
    assert set(saved["parameters"]) == set(default_params())
    params.write_text(json.dumps({"infection_efect": {}}))
    with pytest.raises(InputError, match="unknown parameter infection_efect"):
        load_params(params)


def test_structure_of_a_cohort():
    c = simulate(3000, 2, "ukb")
    people = c.people
    assert set(people["stage"]) == {"I", "II", "III"}
    assert (people["end"] >= people["entry"]).all()
    relapsed = people[people["relapse"] >= 0]
    assert (
        (relapsed["relapse"] >= relapsed["entry"]) & (relapsed["relapse"] <= relapsed["end"])
    ).all()
    # infections follow the calendar: SARS-CoV-2 only from 2020, influenza in winter
    sc = c.infections[c.infections["pathogen"] == "sars-cov-2"]
    assert (
        sc["day"] >= (np.datetime64("2020-01-01") - np.datetime64("1970-01-01")).astype(int)
    ).all()
    flu_month = pd.to_datetime(
        c.infections.query("pathogen == 'influenza'")["day"], unit="D"
    ).dt.month
    assert flu_month.isin([11, 12, 1, 2, 3]).mean() > 0.95
    # incomplete ascertainment: some but not all infections are recorded, hospitalised ones always
    assert 0 < c.infections["recorded"].mean() < 1
    assert c.infections.loc[c.infections["hospitalised"], "recorded"].all()


def test_a_calendar_year_multiplier_acts_on_relapse_in_that_year_only():
    params = default_params()
    plain = simulate(4000, 7, "flatiron", params)
    params["relapse"]["multiplier_by_calendar_year"] = [{"year": 2020, "ratio": 0.0}]
    stopped = simulate(4000, 7, "flatiron", load_params() | {"relapse": params["relapse"]})

    def in_2020(cohort):
        r = cohort.people["relapse"]
        return int(((r >= day("2020-01-01")) & (r < day("2021-01-01"))).sum())

    assert in_2020(plain) > 20 and in_2020(stopped) == 0
    # other years keep relapsing
    assert int((stopped.people["relapse"] >= day("2021-01-01")).sum()) > 20


def test_a_bad_calendar_multiplier_is_refused_by_name():
    params = default_params()
    params["relapse"]["multiplier_by_calendar_year"] = [{"year": 2020, "ratio": -1}]
    with pytest.raises(InputError, match=r"multiplier_by_calendar_year\[0\]\.ratio"):
        check_params(params)
    params["relapse"]["multiplier_by_calendar_year"] = [{"year": 2020}]
    with pytest.raises(InputError, match=r"multiplier_by_calendar_year\[0\]"):
        check_params(params)
