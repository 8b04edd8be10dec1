"""The Cox design recovers the effect planted by the synthetic generator (small version).

The generator multiplies the relapse hazard by 2 on days 0-90 and by 1.5 on days 91-364 after
the most recent influenza or SARS-CoV-2 infection (``truth.json``: ``infection_effect``).
Cohorts go through the whole pipeline (simulate, write Flatiron files, import into a store,
build intervals, fit) with every infection recorded; the large version, with 200 replicates and
coverage per window, is ``benchmarks/recovery.py``.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth import load_params, simulate
from reawaken.cohort.synth_layouts import write_cohort
from reawaken.epi import cohort_designs as designs
from reawaken.epi.cox import fit_cox
from reawaken.errors import ConvergenceWarning

FULL_ASCERTAINMENT = {
    "sars-cov-2": [{"from": "1900-01-01", "to": "2100-01-01", "p": 1.0}],
    "influenza": 1.0,
}


def _planted(params: dict) -> tuple[list[tuple[float, float]], list[float]]:
    eff = params["infection_effect"]
    windows = [(float(w["start_day"]), float(w["end_day"] - 1)) for w in eff["windows"]]
    windows.append((windows[-1][1] + 1, math.inf))
    return windows, [float(w["ratio"]) for w in eff["windows"]] + [float(eff["ratio_after"])]


def _fit(tmp: Path, n: int, seed: int, *, full: bool = True) -> pd.DataFrame:
    params = load_params()
    if full:
        params["ascertainment"].update(FULL_ASCERTAINMENT)
    windows, truth = _planted(params)
    assert sorted(params["infection_effect"]["pathogens"]) == sorted(designs.exposures()["any"])
    cohort = simulate(n, seed, "flatiron", params)
    write_cohort(cohort, "flatiron", tmp / f"files{seed}", seed)
    store = CohortStore(tmp / f"store{seed}.duckdb")
    store.import_source("flatiron", tmp / f"files{seed}")
    persons = designs.person_table(store, "distant_metastasis").frame
    data = designs.cox_intervals(
        persons, designs.infection_table(store, "any"), exposure="any", windows=windows
    )
    assert data.window_labels == ["0-90", "91-364", ">364"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_cox(
            data.intervals,
            start="start",
            stop="stop",
            event="event",
            covariates=data.window_terms + data.adjustment_terms,
        )
    est = fit.estimates().set_index("term").loc[data.window_terms].reset_index()
    est["truth"] = truth
    return est


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> pd.DataFrame:
    return _fit(tmp_path_factory.mktemp("large"), 20000, seed=2024)


def test_large_cohort_estimates_near_truth(large):
    assert ((large["ci_lower"] <= large["truth"]) & (large["truth"] <= large["ci_upper"])).all()
    error = np.abs(large["coef"] - np.log(large["truth"]))
    assert (error < 0.3).all()
    # the planted shape: strongest first, then weaker, then none
    assert large["ratio"].iloc[0] > 1.3 and large["ratio"].iloc[1] > 1.1
    assert large["ci_lower"].iloc[0] > 1.0


def test_replicates_cover_the_truth(tmp_path):
    fits = [_fit(tmp_path, 4000, seed=s) for s in (11, 12, 13)]
    both = pd.concat(fits)
    covered = (both["ci_lower"] <= both["truth"]) & (both["truth"] <= both["ci_upper"])
    assert covered.sum() >= 7  # of 9 window x replicate intervals (expected 8.55)
    # the replicate mean of the log hazard ratio is near the truth in the two effect windows
    mean = both.groupby("term", sort=False)["coef"].mean().to_numpy()
    assert np.all(np.abs(mean[:2] - np.log([2.0, 1.5])) < 0.4)
