"""Recovery of closed-form risks by the target-trial emulation, with interval coverage.

Simulates replicate cohorts with ``simulate`` of ``tests/epi/test_emulation.py`` (constant
hazards; a binary x raises both infection and outcome; death competes; the data end at a fixed
day, so those infected late are followed less than a year), emulates the trial matched on x
(:func:`reawaken.epi.emulation.emulate`, 4 controls per case, percentile bootstrap) and compares
each arm's risk, the risk difference and the risk ratio at 91, 183 and 365 days with the closed
form (the arms' cumulative incidences mixed over the cases' x). Prints, per quantity and day:
the truth (mean over replicates), the bias with its Monte Carlo standard error, the bias in
standard errors, the empirical standard deviation, the mean half-width of the intervals and
their coverage (with its Monte Carlo standard error); then the bias of one curve per arm over
both strata (the estimate without standardisation over the matching strata), on the same
matched trials and weights.

    python benchmarks/recovery_emulation.py --replicates 100 --n 20000 --bootstrap 200 --seed 1
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "epi"))

from test_emulation import _one_curve_risks, _truth, simulate  # noqa: E402

from reawaken.epi.emulation import emulate  # noqa: E402

QUANTITIES = {
    "risk_exposed": ("risk_exposed_lower", "risk_exposed_upper"),
    "risk_unexposed": ("risk_unexposed_lower", "risk_unexposed_upper"),
    "risk_difference": ("rd_lower", "rd_upper"),
    "risk_ratio": ("rr_lower", "rr_upper"),
}


def replicate(n: int, seed: int, bootstrap: int) -> pd.DataFrame:
    """One cohort: estimates, intervals and truth per quantity and day, and the one-curve
    estimate of each arm's risk."""
    res = emulate(simulate(n, seed=seed), match_on=["x"], controls_per_case=4,
                  bootstrap=bootstrap, seed=seed)  # fmt: skip
    r1, r0 = _truth(res, res.risks["day"])
    truth = {"risk_exposed": r1, "risk_unexposed": r0, "risk_difference": r1 - r0,
             "risk_ratio": r1 / r0}  # fmt: skip
    one_curve = _one_curve_risks(res)
    pooled = {"risk_exposed": one_curve[0], "risk_unexposed": one_curve[1]}
    rows = []
    for name, (lo, hi) in QUANTITIES.items():
        for k, day in enumerate(res.risks["day"]):
            rows.append(
                {
                    "seed": seed,
                    "quantity": name,
                    "day": int(day),
                    "truth": truth[name][k],
                    "estimate": res.risks[name].iloc[k],
                    "lower": res.risks[lo].iloc[k],
                    "upper": res.risks[hi].iloc[k],
                    "one_curve": pooled[name][k] if name in pooled else np.nan,
                }
            )
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (name, day), g in results.groupby(["quantity", "day"], sort=False):
        err = g["estimate"] - g["truth"]
        n = len(g)
        se = err.std(ddof=1) / math.sqrt(n)
        covered = ((g["lower"] <= g["truth"]) & (g["truth"] <= g["upper"])).to_numpy()
        pooled_err = g["one_curve"] - g["truth"]
        rows.append(
            {
                "quantity": name,
                "day": day,
                "truth": g["truth"].mean(),
                "bias": err.mean(),
                "bias_mc_se": se,
                "bias_z": err.mean() / se,
                "sd": g["estimate"].std(ddof=1),
                "half_width": ((g["upper"] - g["lower"]) / 2).mean(),
                "coverage": covered.mean(),
                "coverage_mc_se": math.sqrt(covered.mean() * (1 - covered.mean()) / n),
                "one_curve_bias": pooled_err.mean(),
                "one_curve_z": pooled_err.mean() / (pooled_err.std(ddof=1) / math.sqrt(n)),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="CSV of every replicate.")
    args = parser.parse_args(argv)
    shown = sys.argv[1:] if argv is None else argv
    print("command: python benchmarks/recovery_emulation.py " + " ".join(shown))
    t0 = time.perf_counter()
    parts = []
    for r in range(args.replicates):
        parts.append(replicate(args.n, args.seed * 100000 + r, args.bootstrap))
        if (r + 1) % 10 == 0:
            print(f"  {r + 1} replicates, {time.perf_counter() - t0:.0f} s", flush=True)
    results = pd.concat(parts, ignore_index=True)
    if args.out is not None:
        results.to_csv(args.out, index=False)
    print(
        f"\n{args.replicates} cohorts of {args.n}, matched on x, 4 controls per case, "
        f"{args.bootstrap} bootstrap replicates (95% percentile intervals):"
    )
    table = summarise(results)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
