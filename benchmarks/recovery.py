"""Recovery of the planted infection effect by the time-since-infection Cox model.

Simulates replicate cohorts with the synthetic generator (``reawaken.cohort.synth``), writes
them in a source layout, imports them into a cohort store and fits the Cox design of
``reawaken estimate`` with the generator's own windows (0-90, 91-364, >364 days after the most
recent influenza or SARS-CoV-2 infection; truth x2, x1.5, x1). Prints, per window, the 95% CI
coverage, the mean and median estimate, the bias of the log hazard ratio and its Monte Carlo
error; and, at a large n, the bias of one big cohort.

Every infection is recorded here (ascertainment 1): with the generator's default incomplete
ascertainment, unrecorded infections (which raise the hazard too) sit in the reference group
and dilute the estimate towards 1 (``--ascertainment default`` shows by how much).

    python benchmarks/recovery.py --replicates 200 --n 4000 --large-n 100000 --seed 1
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth import load_params, simulate
from reawaken.cohort.synth_layouts import write_cohort
from reawaken.epi import cohort_designs as designs
from reawaken.epi.cox import fit_cox
from reawaken.epi.intervals import window_label
from reawaken.errors import ConvergenceWarning

FULL_ASCERTAINMENT = {
    "sars-cov-2": [{"from": "1900-01-01", "to": "2100-01-01", "p": 1.0}],
    "influenza": 1.0,
}


def truth_windows(params: dict) -> tuple[list[tuple[float, float]], list[float], tuple[str, ...]]:
    """Whole-day windows and true hazard ratios of the planted step function.

    The generator's window ``[start_day, end_day)`` in continuous days since the infection day
    holds relapses recorded on days ``start_day .. end_day - 1`` after it (relapse day = floor).
    """
    eff = params["infection_effect"]
    windows, ratios = [], []
    for w in eff["windows"]:
        windows.append((float(w["start_day"]), float(w["end_day"] - 1)))
        ratios.append(float(w["ratio"]))
    windows.append((windows[-1][1] + 1, math.inf))
    ratios.append(float(eff["ratio_after"]))
    return windows, ratios, tuple(sorted(eff["pathogens"]))


def params_for(ascertainment: str) -> dict:
    params = load_params()
    if ascertainment == "full":
        params["ascertainment"].update(FULL_ASCERTAINMENT)
    return params


def fit_replicate(
    n: int,
    seed: int,
    like: str,
    params: dict,
    *,
    calendar_years: bool = False,
    time_scale: str = "diagnosis",
    outcome: str = "distant_metastasis",
) -> pd.DataFrame:
    """One cohort through the whole pipeline: simulate, write files, import, Cox per window."""
    windows, ratios, pathogens = truth_windows(params)
    if pathogens != tuple(sorted(designs.EXPOSURES["any"])):
        raise SystemExit(f"planted pathogens {pathogens} are not the 'any' exposure")
    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp) / "files"
        cohort = simulate(n, seed, like, params)
        truth = write_cohort(cohort, like, files, seed)
        store = CohortStore(Path(tmp) / "store.duckdb")
        store.import_source(like, files, **truth["import_options"])
        persons = designs.person_table(store, outcome).frame
        infections = designs.infection_table(store, "any")
    data = designs.cox_intervals(
        persons,
        infections,
        exposure="any",
        windows=windows,
        time_scale=time_scale,
        calendar_years=calendar_years,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = fit_cox(
            data.intervals,
            start="start",
            stop="stop",
            event="event",
            covariates=data.window_terms + data.adjustment_terms,
        )
    est = fit.estimates.set_index("term").loc[data.window_terms].reset_index()
    est["window"] = data.window_labels
    true_of = {window_label(w): r for w, r in zip(windows, ratios, strict=True)}
    est["truth"] = est["window"].map(true_of)
    counts = designs.window_counts(data).set_index("window")
    est["events"] = counts.loc[est["window"], "events"].to_numpy()
    est["seed"] = seed
    est["converged"] = fit.converged
    return est


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for window, g in results.groupby("window", sort=False):
        ok = g[np.isfinite(g["se"]) & g["converged"]]
        log_truth = np.log(ok["truth"].iloc[0])
        err = ok["coef"] - log_truth
        covered = (ok["ci_lower"] <= ok["truth"]) & (ok["truth"] <= ok["ci_upper"])
        rows.append(
            {
                "window": window,
                "truth": ok["truth"].iloc[0],
                "replicates": len(ok),
                "coverage": covered.mean(),
                "coverage_mc_se": math.sqrt(covered.mean() * (1 - covered.mean()) / len(ok)),
                "mean_hr": float(np.exp(ok["coef"].mean())),
                "median_hr": float(ok["ratio"].median()),
                "bias_log_hr": err.mean(),
                "bias_mc_se": err.std(ddof=1) / math.sqrt(len(ok)) if len(ok) > 1 else np.nan,
                "mean_se": ok["se"].mean(),
                "sd_coef": ok["coef"].std(ddof=1),
                "mean_events": ok["events"].mean(),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--large-n", type=int, default=100000)
    parser.add_argument("--like", default="flatiron", choices=["flatiron", "omop", "ukb"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ascertainment", default="full", choices=["full", "default"])
    parser.add_argument("--calendar-years", action="store_true")
    parser.add_argument("--time-scale", default="diagnosis", choices=["diagnosis", "calendar"])
    parser.add_argument("--out", type=Path, default=None, help="CSV of every replicate's fit.")
    args = parser.parse_args(argv)
    params = params_for(args.ascertainment)
    options = {"calendar_years": args.calendar_years, "time_scale": args.time_scale}
    shown = sys.argv[1:] if argv is None else argv
    print("command: python benchmarks/recovery.py " + " ".join(shown))
    t0 = time.perf_counter()
    parts = []
    for r in range(args.replicates):
        parts.append(fit_replicate(args.n, args.seed * 100000 + r, args.like, params, **options))
        if (r + 1) % 20 == 0:
            print(f"  {r + 1} replicates, {time.perf_counter() - t0:.0f} s", flush=True)
    if parts:
        results = pd.concat(parts, ignore_index=True)
        if args.out is not None:
            results.to_csv(args.out, index=False)
        print(
            f"\n{args.replicates} replicate cohorts of {args.n} ({args.like} layout, "
            f"ascertainment {args.ascertainment}, time scale {args.time_scale}, "
            f"calendar years {'adjusted' if args.calendar_years else 'not adjusted'}):"
        )
        print(summarise(results).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.large_n:
        big = fit_replicate(args.large_n, args.seed * 100000 + 99999, args.like, params, **options)
        big["bias_log_hr"] = big["coef"] - np.log(big["truth"])
        print(f"\none cohort of {args.large_n}:")
        cols = ["window", "truth", "ratio", "ci_lower", "ci_upper", "bias_log_hr", "se", "events"]
        print(big[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
