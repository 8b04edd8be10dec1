"""Time-varying Cox speed: reawaken against R's coxph, statsmodels PHReg and lifelines.

Synthetic counting-process cohort: ``--n`` people followed for up to 365 days (whole days, so
there are tied event times; Efron ties), covariates age (standardised), sex, and a
time-varying infection indicator; 90% are infected on a day drawn from 1-199, about 60% during
follow-up, which splits their follow-up in two (about 1.6 intervals per person). True log
hazard ratios: age 0.3, sex -0.2, infected 0.37 (HR 1.44, Flatiron Health, as an illustration only).

Measured, side by side in one run:

- fit time: reawaken ``fit_cox`` on the DataFrame in memory; R ``coxph`` timed inside R
  (``system.time``) on the data frame read by ``read.csv``; statsmodels ``PHReg`` (entry
  times); lifelines ``CoxTimeVaryingFitter`` at ``--small`` people only (it is slow);
- whole command: ``reawaken fit cox --data FILE ...`` against ``Rscript`` reading the same CSV
  with ``read.csv`` and fitting, both as subprocesses (wall time and peak memory from
  ``/usr/bin/time``).

Run: ``python benchmarks/bench_cox.py`` (defaults --n 1000000 --small 100000); add
``--skip-lifelines`` / ``--skip-statsmodels`` to leave the slow peers out.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.epi.cox import fit_cox

COVARIATES = ["age", "sex", "infected"]
TRUE_LOG_HR = np.array([0.3, -0.2, np.log(1.44)])

R_FIT = """
suppressMessages(library(survival))
t0 <- proc.time()[["elapsed"]]
d <- read.csv("{path}")
t1 <- proc.time()[["elapsed"]]
fit <- coxph(Surv(start, stop, event) ~ age + sex + infected, data = d, ties = "efron")
t2 <- proc.time()[["elapsed"]]
cat(sprintf("read %.3f fit %.3f iter %d\\n", t1 - t0, t2 - t1, fit$iter))
cat(sprintf("coef %.17g\\n", coef(fit)))
"""


def synthetic_cohort(n: int, seed: int) -> pd.DataFrame:
    """Counting-process rows for ``n`` people (times in whole days, 1..365)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(size=n)
    sex = rng.integers(0, 2, size=n).astype(float)
    base = 1.0 / 2000.0  # daily baseline hazard (assumption, gives ~15% events)
    infection_day = np.where(rng.random(n) < 0.9, rng.integers(1, 200, size=n), 10**9)
    lin = TRUE_LOG_HR[0] * age + TRUE_LOG_HR[1] * sex
    # event time from a piecewise-constant hazard: before and after infection
    e = rng.exponential(size=n)
    h0 = base * np.exp(lin)
    h1 = h0 * np.exp(TRUE_LOG_HR[2])
    t_before = e / h0
    t_event = np.where(
        t_before <= infection_day, t_before, infection_day + (e - h0 * infection_day) / h1
    )
    t_event = np.ceil(t_event)
    censor = rng.integers(30, 366, size=n).astype(float)
    stop = np.minimum(t_event, censor)
    event = (t_event <= censor).astype(np.int64)
    split = infection_day < stop
    ids = np.arange(n)
    first = pd.DataFrame(
        {
            "id": ids,
            "start": 0.0,
            "stop": np.where(split, infection_day, stop),
            "event": np.where(split, 0, event),
            "age": age,
            "sex": sex,
            "infected": 0.0,
        }
    )
    second = pd.DataFrame(
        {
            "id": ids[split],
            "start": infection_day[split].astype(float),
            "stop": stop[split],
            "event": event[split],
            "age": age[split],
            "sex": sex[split],
            "infected": 1.0,
        }
    )
    return pd.concat([first, second], ignore_index=True)


def timed_command(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak memory (GB) and stdout of a subprocess, via /usr/bin/time."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "MAXRSS %M", *cmd], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t0
    rss = float(re.search(r"MAXRSS (\d+)", proc.stderr).group(1)) / 1024**2
    return wall, rss, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--skip-r", action="store_true")
    parser.add_argument("--skip-statsmodels", action="store_true")
    parser.add_argument("--skip-lifelines", action="store_true")
    args = parser.parse_args()
    has_r = shutil.which("Rscript") is not None and not args.skip_r
    workdir = Path(tempfile.mkdtemp(prefix="bench_cox_"))

    for n, peers in ((args.n, ["statsmodels"]), (args.small, ["lifelines"])):
        data = synthetic_cohort(n, args.seed)
        csv = workdir / f"cohort_{n}.csv"
        data.to_csv(csv, index=False)
        print(f"\n== {n:,} people, {len(data):,} intervals, {int(data.event.sum()):,} events ==")
        times: dict[str, float] = {}

        t0 = time.perf_counter()
        ours = fit_cox(data, start="start", stop="stop", event="event", covariates=COVARIATES)
        times["reawaken"] = time.perf_counter() - t0
        print(
            f"reawaken fit_cox     {times['reawaken']:8.2f} s  iterations {ours.iterations}"
            f"  coef {np.round(ours.coef, 4)}"
        )

        if has_r:
            script = workdir / f"fit_{n}.R"
            script.write_text(R_FIT.format(path=csv))
            wall_r, rss_r, out = timed_command(["Rscript", str(script)])
            fit_r = float(re.search(r"fit ([\d.]+)", out).group(1))
            iter_r = int(re.search(r"iter (\d+)", out).group(1))
            coef_r = np.array([float(v) for v in re.findall(r"coef (\S+)", out)])
            times["R coxph"] = fit_r
            diff = np.max(np.abs(ours.coef - coef_r) / np.abs(coef_r))
            print(
                f"R coxph              {fit_r:8.2f} s  iterations {iter_r}"
                f"  max rel. coef difference {diff:.1e}"
            )

        if "statsmodels" in peers and not args.skip_statsmodels:
            from statsmodels.duration.hazard_regression import PHReg

            t0 = time.perf_counter()
            model = PHReg(
                data["stop"].to_numpy(),
                data[COVARIATES].to_numpy(),
                status=data["event"].to_numpy(),
                entry=data["start"].to_numpy(),
                ties="efron",
            )
            sm = model.fit()
            times["statsmodels"] = time.perf_counter() - t0
            print(
                f"statsmodels PHReg    {times['statsmodels']:8.2f} s  coef {np.round(sm.params, 4)}"
            )

        if "lifelines" in peers and not args.skip_lifelines:
            from lifelines import CoxTimeVaryingFitter

            t0 = time.perf_counter()
            ctv = CoxTimeVaryingFitter()
            ctv.fit(
                data[["id", "start", "stop", "event", *COVARIATES]],
                id_col="id",
                start_col="start",
                stop_col="stop",
                event_col="event",
            )
            times["lifelines"] = time.perf_counter() - t0
            print(
                f"lifelines CTV        {times['lifelines']:8.2f} s  coef "
                f"{np.round(ctv.params_.to_numpy(), 4)}"
            )

        for peer, seconds in times.items():
            if peer != "reawaken":
                print(f"  fit-time ratio {peer} / reawaken = {seconds / times['reawaken']:.1f}x")

        if n == args.n:
            out = workdir / "out"
            cmd = [
                sys.executable,
                "-m",
                "reawaken.cli",
                "fit",
                "cox",
                "--data",
                str(csv),
                "--start",
                "start",
                "--stop",
                "stop",
                "--event",
                "event",
                "--covariates",
                ",".join(COVARIATES),
                "--out",
                str(out),
            ]
            wall, rss, _ = timed_command(cmd)
            print(f"whole command: reawaken fit cox {wall:8.2f} s  peak memory {rss:.2f} GB")
            if has_r:
                print(
                    f"whole command: Rscript          {wall_r:8.2f} s  peak memory {rss_r:.2f} GB"
                )
                print(f"  whole-command ratio R / reawaken = {wall_r / wall:.1f}x")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
