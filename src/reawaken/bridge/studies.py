"""The two human studies reproduced from the mechanism, and the calibration of the one
human-only scale to the Flatiron finding.

A virtual cohort whose lung metastases follow the mechanism is drawn by the cohort generator
(:mod:`reawaken.cohort.synth`) with its planted effect set from the kernels
(:func:`mechanism_effect`: per pathogen, the mean hazard ratio ``1 + r(u)`` by days since
infection, acting on relapse in the lung), written in the source's layout, imported with
reawaken's importer and analysed with reawaken's designs, as each study was:

* **Flatiron-like** (Chia et al. 2025; breast cancer patients, COVID-19 as a time-varying
  exposure, lung metastasis): the Cox design with one window covering all time after a recorded
  SARS-CoV-2 infection (:data:`FLATIRON_WINDOWS`), time since diagnosis, stage and age adjusted.
  Target HR 1.44 (lower bound near 1): used for calibration.
* **UK Biobank-like** (survivors testing positive against matched test-negative survivors,
  cancer death, OR 1.85, 95% CI 1.14-3.02): the target-trial emulation of SARS-CoV-2 against
  matched not-yet-infected survivors, cancer death within a year; the odds ratio from the two
  arms' one-year risks (the interval from the emulation's bootstrap of the risk ratio, carried
  to the odds ratio at the same risks). Not used for calibration: an out-of-sample check.

:func:`calibrate_response` finds the lesion response (the exponent of
:class:`~reawaken.bridge.kernel.LesionBiology`) for which the Flatiron-like analysis of one
cohort gives HR 1.44, by bracketing and regula falsi on common random numbers (the same cohort
seed at every step); :func:`reproduce` then runs both studies on cohorts of other seeds.
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.bridge.kernel import WINDOWS, Kernel, LesionBiology, compute_kernel, window_label
from reawaken.errors import InputError

FLATIRON_HR = (1.44, 1.01, 2.05)
"""Flatiron Health, lung metastasis after COVID-19 (Chia et al., Nature 2025): HR and the
interval as reported in the study's summaries (the lower bound near 1)."""
UKB_OR = (1.85, 1.14, 3.02)
"""UK Biobank, cancer death of survivors testing positive (Chia et al., Nature 2025)."""
FLATIRON_WINDOWS = "0-100000"
"""One window: all time after a recorded SARS-CoV-2 infection (a time-varying exposure)."""
EFFECT_EDGES: tuple[int, ...] = (
    *range(0, 182, 7),
    *range(182, 730, 30),
    *range(730, 3653, 91),
    3653,
)
"""Edges (days since infection) of the steps the kernel is planted in the generator as: weekly
for half a year, monthly to two years, quarterly to ten."""


def mechanism_effect(kernels: Mapping[str, Kernel], edges: Sequence[int] = EFFECT_EDGES) -> dict:
    """The generator's ``infection_effect`` planting the kernels: per pathogen, steps of the
    mean hazard ratio ``1 + r(u)`` (averaged over the draws and over each step's days), acting
    on relapse in the lung; hazard ratio 1 after the last edge.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.bridge.kernel import Kernel
    >>> from reawaken.bridge.studies import mechanism_effect
    >>> flat = Kernel("influenza", "none", np.ones((2, 366)), np.full((2, 3653), 0.5),
    ...               np.zeros((2, 3653)))
    >>> effect = mechanism_effect({"influenza": flat})
    >>> effect["site"], effect["windows_by_pathogen"]["influenza"][0]
    ('lung', {'start_day': 0, 'end_day': 7, 'ratio': 1.5})
    """
    edges = list(edges)
    by_pathogen: dict[str, list[dict]] = {}
    for pathogen, k in kernels.items():
        hr = 1.0 + k.ratio.mean(axis=0)
        steps = []
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if a >= k.horizon:
                break
            ratio = max(float(hr[a : min(b, k.horizon)].mean()), 0.0)
            steps.append({"start_day": a, "end_day": b, "ratio": ratio})
        by_pathogen[pathogen] = steps
    return {"pathogens": sorted(kernels), "windows_by_pathogen": by_pathogen, "site": "lung"}


def generator_params(effect: Mapping, base: Mapping | None = None) -> dict:
    """The cohort generator's parameters (defaults, or ``base``) with the mechanism's effect."""
    from reawaken.cohort.synth_params import check_params, default_params

    params = copy.deepcopy(dict(base) if base is not None else default_params())
    eff = params["infection_effect"]
    eff["pathogens"] = list(effect["pathogens"])
    eff["windows"] = []
    eff["ratio_after"] = 1.0
    eff["site"] = effect["site"]
    for pathogen in eff["windows_by_pathogen"]:
        eff["windows_by_pathogen"][pathogen] = list(effect["windows_by_pathogen"].get(pathogen, []))
    eff["source"] = "the mechanism's kernel (reawaken bridge): hazard ratio of lung relapse"
    return check_params(params)


def truth_by_window(
    kernels: Mapping[str, Kernel],
    windows: Sequence[tuple[float, float]] = WINDOWS,
) -> dict[str, dict[str, float]]:
    """The planted hazard ratio of lung metastasis per window, per pathogen (mean over draws;
    the open window to the kernel's end of five years, as :func:`hr_by_window`)."""
    return {
        p: {window_label(lo, hi): float(k.window_ratio(lo, hi).mean()) for lo, hi in windows}
        for p, k in kernels.items()
    }


@dataclass(frozen=True)
class StudyCohort:
    """A mechanism-generated cohort in a source's layout, imported into a store."""

    like: str
    folder: Path
    store: object
    truth: dict


def write_mechanism_cohort(
    like: str,
    n: int,
    seed: int,
    kernels: Mapping[str, Kernel],
    out: Path,
    params_file: str | Path | None = None,
) -> dict:
    """Simulate ``n`` persons in the layout ``like`` with the kernels planted (on the generator's
    parameters, or those of ``params_file``) and write the files and ``truth.json`` into
    ``out``; the truth has ``mechanism``: the planted hazard ratio of lung metastasis per
    window and pathogen. What ``reawaken cohort synth --effect mechanism`` writes."""
    from reawaken.cohort.synth import load_params, simulate
    from reawaken.cohort.synth_layouts import write_cohort
    from reawaken.io import write_text_atomic

    params = generator_params(mechanism_effect(kernels), base=load_params(params_file))
    cohort = simulate(n, seed, like, params)
    truth = write_cohort(cohort, like, Path(out), seed)
    truth["mechanism"] = {
        "hr_by_window": truth_by_window(kernels),
        "outcome": "lung_metastasis",
        "draws": {p: int(k.ratio.shape[0]) for p, k in kernels.items()},
    }
    write_text_atomic(json.dumps(truth, indent=2) + "\n", Path(out) / "truth.json")
    return truth


def mechanism_cohort(
    like: str,
    n: int,
    seed: int,
    kernels: Mapping[str, Kernel],
    folder: Path,
) -> StudyCohort:
    """:func:`write_mechanism_cohort` into ``folder/files``, imported into
    ``folder/cohort.duckdb``."""
    from reawaken.cohort import CohortStore

    files = folder / "files"
    truth = write_mechanism_cohort(like, n, seed, kernels, files)
    store = CohortStore(folder / "cohort.duckdb")
    store.import_source(like, files, **truth["import_options"])
    return StudyCohort(like, folder, store, truth)


def flatiron_hr(store: object) -> dict[str, float]:
    """The Flatiron-like analysis: HR of lung metastasis after a recorded SARS-CoV-2 infection
    (one time-varying window), with its 95% interval and the number of events in it."""
    from reawaken.epi.estimate import run_design

    result = run_design(
        store, "cox", outcome="lung_metastasis", exposure="sars-cov-2", windows=FLATIRON_WINDOWS
    )
    row = result.estimates[result.estimates["kind"] == "exposure"].iloc[0]
    return {
        "value": float(row["ratio"]),
        "lower": float(row["ci_lower"]),
        "upper": float(row["ci_upper"]),
        "events": int(row["events"]),
    }


def ukb_odds_ratio(store: object, bootstrap: int, seed: int) -> dict[str, float]:
    """The UK Biobank-like analysis: odds ratio of cancer death within a year of a recorded
    SARS-CoV-2 infection against matched not-yet-infected survivors (target-trial emulation),
    from the arms' one-year risks; the interval is the risk ratio's bootstrap interval carried to
    the odds-ratio scale at the same unexposed risk."""
    from reawaken.epi.estimate import run_design

    result = run_design(
        store,
        "emulation",
        outcome="cancer_death",
        exposure="sars-cov-2",
        bootstrap=bootstrap,
        seed=seed,
    )
    return odds_ratio_within_year(result.estimates)


def odds_ratio_within_year(estimates: pd.DataFrame) -> dict[str, float]:
    """The odds ratio of the outcome within a year from an emulation's estimates (its 365-day
    risks), the interval the risk ratio's carried to the odds-ratio scale at the same unexposed
    risk (the UK Biobank study reports an odds ratio of cancer death).

    Examples
    --------
    >>> import pandas as pd
    >>> est = pd.DataFrame({"kind": ["exposure"], "term": ["risk_ratio_365d"],
    ...     "risk_exposed": [0.02], "risk_unexposed": [0.01], "ratio": [2.0],
    ...     "ci_lower": [1.5], "ci_upper": [2.5]})
    >>> round(odds_ratio_within_year(est)["value"], 4)  # (0.02/0.98) / (0.01/0.99)
    2.0204
    """
    exposure = estimates[estimates["kind"] == "exposure"]
    rows = exposure[exposure["term"].astype(str).str.contains("365")]
    if rows.empty:
        raise InputError("the emulation has no 365-day risks: no odds ratio within a year")
    row = rows.iloc[0]
    r1, r0 = float(row["risk_exposed"]), float(row["risk_unexposed"])

    def odds(rr: float) -> float:
        if not (r0 > 0 and math.isfinite(rr)):
            return math.nan
        r = min(rr * r0, 1.0 - 1e-12)
        return (r / (1.0 - r)) / (r0 / (1.0 - r0))

    return {
        "value": odds(r1 / r0) if r0 > 0 else math.nan,
        "lower": odds(float(row["ci_lower"])),
        "upper": odds(float(row["ci_upper"])),
        "risk_ratio": float(row["ratio"]),
        "risk_exposed": r1,
        "risk_unexposed": r0,
    }


@dataclass(frozen=True)
class Calibration:
    """The calibrated lesion response and every step the search took."""

    lesion_response: float
    target: float
    steps: tuple[tuple[float, float], ...]
    converged: bool
    n: int
    seed: int


def calibrate_response(
    folds: Mapping[str, np.ndarray],
    biology: LesionBiology,
    n: int,
    seed: int,
    workdir: Path,
    target: float = FLATIRON_HR[0],
    start: tuple[float, float] = (2.0, 8.0),
    tolerance: float = 0.005,
    max_steps: int = 12,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """The lesion response for which the Flatiron-like analysis of one cohort (``n``, ``seed``:
    the same cohort draw at every step) gives HR ``target``.

    The analysed HR rises with the response but in small steps (an event moves between exposed
    and unexposed time), so the root is bracketed and narrowed by the Illinois method (regula
    falsi that halves the weight of a side kept twice); it stops when ``log HR`` is within
    ``tolerance`` of ``log target`` or the bracket is narrower than 1% of the response (the
    step of the HR there straddles the target: the interpolated point is returned). The bracket
    ``start`` is widened (upper doubled, lower halved) until it holds the target."""
    steps: list[tuple[float, float]] = []

    def analysed(theta: float) -> float:
        kernels = {
            p: compute_kernel(p, f.shape[0], 0, replace(biology, lesion_response=theta), fold=f)
            for p, f in folds.items()
        }
        folder = Path(tempfile.mkdtemp(dir=workdir))
        cohort = mechanism_cohort("flatiron", n, seed, kernels, folder)
        hr = flatiron_hr(cohort.store)["value"]
        steps.append((theta, hr))
        if progress:
            progress(f"calibration: lesion response {theta:.3f} gives HR {hr:.3f}")
        return math.log(hr) - math.log(target)

    def done(x: float, converged: bool) -> Calibration:
        return Calibration(x, target, tuple(steps), converged, n, seed)

    lo, hi = start
    f_lo, f_hi = analysed(lo), analysed(hi)
    while f_hi < 0 and len(steps) < max_steps:
        lo, f_lo, hi = hi, f_hi, hi * 2.0
        f_hi = analysed(hi)
    while f_lo > 0 and len(steps) < max_steps:
        hi, f_hi, lo = lo, f_lo, lo / 2.0
        f_lo = analysed(lo)
    if f_lo > 0 or f_hi < 0:
        return done(hi if abs(f_hi) < abs(f_lo) else lo, False)
    for f, x in ((f_lo, lo), (f_hi, hi)):
        if abs(f) <= tolerance:
            return done(x, True)
    side = 0
    while len(steps) < max_steps:
        x = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        if (hi - lo) <= 0.01 * x:
            return done(x, True)
        f = analysed(x)
        if abs(f) <= tolerance:
            return done(x, True)
        if f < 0:
            lo, f_lo = x, f
            if side == -1:
                f_hi /= 2.0
            side = -1
        else:
            hi, f_hi = x, f
            if side == 1:
                f_lo /= 2.0
            side = 1
    return done(hi - f_hi * (hi - lo) / (f_hi - f_lo), (hi - lo) <= 0.01 * hi)


def study_rows(flatiron: Mapping[str, float], ukb: Mapping[str, float]) -> pd.DataFrame:
    """``studies.csv``: each reproduced study's measure beside the study's own figure."""
    return pd.DataFrame(
        [
            {
                "study": "flatiron",
                "measure": "hr_lung_metastasis_after_covid19",
                "value": flatiron["value"],
                "lower": flatiron["lower"],
                "upper": flatiron["upper"],
                "target": FLATIRON_HR[0],
                "target_lower": FLATIRON_HR[1],
                "target_upper": FLATIRON_HR[2],
                "used_for_calibration": True,
            },
            {
                "study": "uk_biobank",
                "measure": "or_cancer_death_1y_after_positive_test",
                "value": ukb["value"],
                "lower": ukb["lower"],
                "upper": ukb["upper"],
                "target": UKB_OR[0],
                "target_lower": UKB_OR[1],
                "target_upper": UKB_OR[2],
                "used_for_calibration": False,
            },
        ]
    )


def check_study_size(n: int) -> int:
    """A virtual cohort size: a whole number from 1000 to 10^7."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1000 <= n <= 10**7:
        raise InputError(f"study cohort size must be a whole number from 1000 to 10^7, got {n!r}")
    return int(n)
