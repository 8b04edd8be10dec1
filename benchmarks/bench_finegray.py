"""Fine-Gray regression: reawaken (O(n log n)) side by side with R's cmprsk::crr (O(n^2)).

Synthetic competing-risks data (seeded): three covariates, cause 1 and cause 2 exponential with
proportional effects, uniform censoring, times rounded to whole days so ties occur. For each size
it times ``reawaken.epi.finegray.fine_gray`` and, where R is installed and the size is at most
``--r-max``, ``crr(time, event, cbind(x1, x2, x3))`` (fit only, timed inside R with
``system.time``), and prints the time ratio and the largest absolute difference in coefficients
and standard errors. ``--cli`` also times the whole ``reawaken fit finegray`` command on the CSV.

    python benchmarks/bench_finegray.py --sizes 10000,50000,1000000 --r-max 50000
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.epi.finegray import fine_gray

R_CODE = """
suppressMessages(library(cmprsk))
d <- read.csv(commandArgs(TRUE)[1])
X <- as.matrix(d[, c("x1", "x2", "x3")])
tm <- system.time(f <- crr(d$time, d$event, X))[["elapsed"]]
cat(format(c(tm, f$coef, sqrt(diag(f$var))), digits = 15), sep = "\\n")
"""


def make_data(n: int, seed: int = 2025) -> pd.DataFrame:
    """Competing-risks cohort of ``n`` people, times in whole days (assumed rates, no source)."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n).round(3)
    x2 = rng.binomial(1, 0.4, n)
    x3 = rng.uniform(size=n).round(3)
    t1 = rng.exponential(1 / (0.0010 * np.exp(0.5 * x1 - 0.7 * x2)))
    t2 = rng.exponential(1 / (0.0008 * np.exp(-0.3 * x1 + 0.4 * x3)))
    cens = rng.uniform(0, 2000, n)
    t = np.minimum(np.minimum(t1, t2), cens)
    event = np.where(t == t1, 1, np.where(t == t2, 2, 0))
    return pd.DataFrame({"time": np.ceil(t), "event": event, "x1": x1, "x2": x2, "x3": x3})


def run_r(path: Path) -> tuple[float, np.ndarray, np.ndarray] | None:
    if shutil.which("Rscript") is None:
        return None
    res = subprocess.run(
        ["Rscript", "-e", R_CODE, str(path)], capture_output=True, text=True, check=True
    )
    values = np.array(res.stdout.split(), dtype=float)
    return float(values[0]), values[1:4], values[4:7]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,1000000")
    parser.add_argument("--r-max", type=int, default=50000, help="largest n given to crr")
    parser.add_argument("--cli", action="store_true", help="also time `reawaken fit finegray`")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'n':>9} {'reawaken_s':>11} {'crr_s':>9} {'crr/reawaken':>13} "
        f"{'max|dcoef|':>11} {'max|dse|':>10} {'cli_s':>7}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            data = make_data(n)
            path = Path(tmp) / f"fg_{n}.csv"
            data.to_csv(path, index=False)
            x = data[["x1", "x2", "x3"]].to_numpy()
            t0 = time.perf_counter()
            fit = fine_gray(
                data.time.to_numpy(), data.event.to_numpy(), x, terms=["x1", "x2", "x3"]
            )
            ours = time.perf_counter() - t0
            r = run_r(path) if n <= args.r_max else None
            cli = float("nan")
            if args.cli:
                t0 = time.perf_counter()
                subprocess.run(
                    [
                        "reawaken",
                        "fit",
                        "finegray",
                        "--data",
                        str(path),
                        "--time",
                        "time",
                        "--event",
                        "event",
                        "--covariates",
                        "x1,x2,x3",
                        "--out",
                        str(Path(tmp) / "out"),
                    ],
                    check=True,
                    capture_output=True,
                )
                cli = time.perf_counter() - t0
            if r is None:
                print(f"{n:>9} {ours:>11.3f} {'-':>9} {'-':>13} {'-':>11} {'-':>10} {cli:>7.2f}")
            else:
                r_time, r_coef, r_se = r
                print(
                    f"{n:>9} {ours:>11.3f} {r_time:>9.2f} {r_time / ours:>13.1f} "
                    f"{np.max(np.abs(fit.coef - r_coef)):>11.2e} "
                    f"{np.max(np.abs(fit.se - r_se)):>10.2e} {cli:>7.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
