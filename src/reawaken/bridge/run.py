"""``reawaken bridge``: the kernel per pathogen, the calibration of the lesion response to the
Flatiron finding, the two studies reproduced, and their files.

Files written into the output folder (as a whole, :func:`reawaken.run_folder.write_run`):

* ``kernel.csv`` (``pathogen, day, excess_hazard, lower, upper``): excess hazard per person-day
  of a diagnosed lung metastasis for the reference survivor (:data:`REFERENCE`), mean over the
  parameter draws and their 95% range; ``death_kernel.csv`` the same for cancer death;
* ``hr_by_window.csv`` (``pathogen, window, hr, lower, upper``): the mean hazard ratio in the
  estimate command's default windows;
* ``studies.csv``: the two reproduced studies beside the published figures;
* ``assumptions.csv``: every human-only magnitude with its basis and source;
* ``bridge.json``: the calibration (value, target, every step), settings, seeds, the planted
  truth of each reproduced cohort, versions;
* ``bridge.png``: the kernel's hazard ratio by day and the hazard ratio by window.
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.bridge import studies
from reawaken.bridge.assumptions import assumption_table, with_values
from reawaken.bridge.baseline import Profile, lung_hazard
from reawaken.bridge.kernel import (
    LesionBiology,
    compute_kernel,
    hr_by_window,
    infection_fold,
    kernel_table,
    pathogen_of,
)
from reawaken.io import write_text_atomic

REFERENCE = Profile(age=62.0, stage="II", subtype="hr+her2-", years_since_diagnosis=6.0)
"""The survivor the per-person-day kernel is given for (stage II, HR+/HER2-, six years after
diagnosis, 62 years old)."""
FILES = (
    "kernel.csv",
    "death_kernel.csv",
    "hr_by_window.csv",
    "studies.csv",
    "assumptions.csv",
    "bridge.json",
    "bridge.png",
)


@dataclass(frozen=True)
class BridgeSettings:
    """What ``reawaken bridge`` runs with."""

    parameter_sets: tuple[str, ...] = ("human-influenza", "human-sars-cov-2")
    draws: int = 200
    seed: int = 1
    cohort_size: int = 100_000
    bootstrap: int = 100
    calibrate: bool = True
    min_cell: int = 10


@dataclass(frozen=True)
class BridgeResult:
    """The kernel tables, the reproduced studies and the record of a bridge run."""

    kernel: pd.DataFrame
    death_kernel: pd.DataFrame
    hr_by_window: pd.DataFrame
    studies: pd.DataFrame
    assumptions: pd.DataFrame
    record: dict


def _hr_table(kernels: Sequence, level: float = 0.95) -> pd.DataFrame:
    frames = []
    a = (1.0 - level) / 2.0
    for k in kernels:
        hr = 1.0 + k.ratio
        frames.append(
            pd.DataFrame(
                {
                    "pathogen": k.pathogen,
                    "day": np.arange(k.horizon),
                    "hr": hr.mean(axis=0),
                    "lower": np.quantile(hr, a, axis=0),
                    "upper": np.quantile(hr, 1.0 - a, axis=0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def run_bridge(
    settings: BridgeSettings, progress: Callable[[str], None] | None = None
) -> tuple[BridgeResult, pd.DataFrame]:
    """Kernels, calibration and the reproduced studies (nothing written); also the daily
    hazard-ratio table the figure draws."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    pathogens = [pathogen_of(s) for s in settings.parameter_sets]
    t = time.perf_counter()
    folds = {p: infection_fold(p, settings.draws, settings.seed) for p in pathogens}
    timings["within_host"] = time.perf_counter() - t
    say(f"solved {settings.draws} within-host draws for {', '.join(pathogens)}")
    work = Path(tempfile.mkdtemp(prefix="reawaken-bridge-"))
    try:
        t = time.perf_counter()
        if settings.calibrate:
            calibration = studies.calibrate_response(
                folds, LesionBiology(), settings.cohort_size, settings.seed, work, progress=say
            )
        else:  # the calibration in use (shipped, or the user's --write)
            calibration = studies.Calibration(
                LesionBiology().lesion_response, studies.FLATIRON_HR[0], (), True, 0, -1
            )
        timings["calibration"] = time.perf_counter() - t
        biology = replace(LesionBiology(), lesion_response=calibration.lesion_response)
        kernels = [
            compute_kernel(p, settings.draws, settings.seed, biology, fold=folds[p])
            for p in pathogens
        ]
        by_pathogen = {k.pathogen: k for k in kernels}
        t = time.perf_counter()
        flatiron = studies.mechanism_cohort(
            "flatiron", settings.cohort_size, settings.seed + 1, by_pathogen, work / "flatiron"
        )
        flatiron_hr = studies.flatiron_hr(flatiron.store)
        say(f"Flatiron-like cohort (held-out seed): HR {flatiron_hr['value']:.2f}")
        ukb = studies.mechanism_cohort(
            "ukb", settings.cohort_size, settings.seed + 2, by_pathogen, work / "ukb"
        )
        ukb_or = studies.ukb_odds_ratio(ukb.store, settings.bootstrap, settings.seed)
        say(f"UK Biobank-like cohort: OR {ukb_or['value']:.2f}")
        timings["reproduced_studies"] = time.perf_counter() - t
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reference = (
        float(lung_hazard(REFERENCE.stage, REFERENCE.subtype, REFERENCE.years_since_diagnosis))
        / 365.25
    )
    if settings.calibrate:
        table = with_values(
            {"lesion_response": calibration.lesion_response},
            f"calibrated by this run: Flatiron-like HR {calibration.target} "
            f"(cohort of {calibration.n}, seed {calibration.seed})",
        )
    else:
        table = None
    study_table = studies.study_rows(flatiron_hr, ukb_or)
    record = {
        "reawaken_version": _version(),
        "python": platform.python_version(),
        "settings": {**asdict(settings), "parameter_sets": list(settings.parameter_sets)},
        "seeds": {
            "within_host_draws": settings.seed,
            "calibration_cohort": settings.seed,
            "flatiron_cohort": settings.seed + 1,
            "ukb_cohort": settings.seed + 2,
            "bootstrap": settings.seed,
        },
        "calibration": {
            "calibrated_by_this_run": settings.calibrate,
            "lesion_response": calibration.lesion_response,
            "target": {"study": "flatiron", "hr": calibration.target},
            "converged": calibration.converged,
            "steps": [{"lesion_response": a, "hr": b} for a, b in calibration.steps],
            "left_out_of_sample": "uk_biobank odds ratio; hazard ratio per window",
        },
        "reference_survivor": {**asdict(REFERENCE), "lung_hazard_per_day": reference},
        "biology": asdict(biology),
        "min_cell": settings.min_cell,
        "studies": {
            "flatiron": {
                **flatiron_hr,
                "truth": flatiron.truth["mechanism"],
                "counts": flatiron.truth["counts"]["outcomes"],
            },
            "uk_biobank": {**ukb_or, "counts": ukb.truth["counts"]["outcomes"]},
        },
        "ukb_inside_published_interval": _inside(ukb_or["value"], studies.UKB_OR),
        "seconds": {**timings, "total": time.perf_counter() - started},
    }
    record = _suppressed(record, settings.min_cell)
    result = BridgeResult(
        kernel=kernel_table(kernels, reference),
        death_kernel=kernel_table(kernels, reference, death=True),
        hr_by_window=hr_by_window(kernels),
        studies=study_table,
        assumptions=assumption_table(table),
        record=record,
    )
    return result, _hr_table(kernels)


COUNT_KEYS = frozenset(
    {
        "events",
        "lung_metastasis",
        "distant_metastasis",
        "other_site_metastasis",
        "cancer_death",
        "covid_death",
        "other_death",
        "unknown_cause_death",
        "death",
    }
)
"""Counts of the reproduced cohorts' persons in bridge.json."""


def _suppressed(x: object, min_cell: int, key: str = "") -> object:
    """``x`` with every count (:data:`COUNT_KEYS`) from 1 to ``min_cell - 1`` as None (the
    cohorts are virtual, but the study's files show no count under the threshold)."""
    if isinstance(x, dict):
        return {k: _suppressed(v, min_cell, k) for k, v in x.items()}
    if isinstance(x, list):
        return [_suppressed(v, min_cell, key) for v in x]
    if key in COUNT_KEYS and isinstance(x, int) and not isinstance(x, bool) and 0 < x < min_cell:
        return None
    return x


def _inside(x: float, published: tuple[float, float, float]) -> bool:
    return bool(math.isfinite(x) and published[1] <= x <= published[2])


def _version() -> str:
    import reawaken

    return reawaken.__version__


def write_bridge(result: BridgeResult, daily_hr: pd.DataFrame, folder: Path) -> list[Path]:
    """Write the bridge's files into ``folder`` (see the module docstring)."""
    from reawaken.plots import file_axes
    from reawaken.plots.forest import plot_forest
    from reawaken.plots.kernel import plot_kernel

    paths = []
    for name, frame in (
        ("kernel.csv", result.kernel),
        ("death_kernel.csv", result.death_kernel),
        ("hr_by_window.csv", result.hr_by_window),
        ("studies.csv", result.studies),
        ("assumptions.csv", result.assumptions),
    ):
        path = folder / name
        frame.to_csv(path, index=False, float_format="%.10g")
        paths.append(path)
    paths.append(
        write_text_atomic(
            json.dumps(result.record, indent=2, default=str) + "\n", folder / "bridge.json"
        )
    )
    ax = file_axes(12.0, 4.5)
    fig = ax.figure
    ax.remove()
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1.0]})
    plot_kernel(daily_hr, ax=left)
    left.set_title("Mechanism: hazard ratio by day since infection")
    rows = result.hr_by_window.assign(label=lambda d: d["pathogen"] + ", days " + d["window"])
    plot_forest(
        rows,
        ax=right,
        label="label",
        ratio="hr",
        lower="lower",
        upper="upper",
        xlabel="Hazard ratio of a diagnosed lung metastasis (95% of draws)",
        title="By time since infection",
    )
    fig.tight_layout()
    fig.savefig(folder / "bridge.png")
    paths.append(folder / "bridge.png")
    return paths
