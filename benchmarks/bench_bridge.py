"""``reawaken bridge`` against its target (under 2 minutes for 200 draws, the two reproduced
studies included), and the recovery of the mechanism-planted hazard ratio per window.

    python benchmarks/bench_bridge.py                      # time the bridge, 200 draws
    python benchmarks/bench_bridge.py --recovery 40        # coverage over 40 cohorts

The timing runs what the command runs (:func:`reawaken.bridge.run.run_bridge`) and prints the
seconds per step and the ratio to the target. The recovery simulates Flatiron-like cohorts with
the SARS-CoV-2 kernel planted (``reawaken.bridge.studies.mechanism_cohort``), imports them and
fits the Cox design with the estimate command's default windows; it prints, per window, the
planted hazard ratio, the mean estimate, the bias of the log ratio with its Monte Carlo
standard error and the coverage of the 95% intervals.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 120.0


def time_bridge(draws: int, seed: int, cohort_size: int) -> None:
    from reawaken.bridge.run import BridgeSettings, run_bridge

    started = time.perf_counter()
    result, _ = run_bridge(BridgeSettings(draws=draws, seed=seed, cohort_size=cohort_size))
    total = time.perf_counter() - started
    for step, seconds in result.record["seconds"].items():
        print(f"{step:<20} {seconds:7.1f} s")
    print(
        f"bridge --draws {draws}: {total:.1f} s; target {TARGET_SECONDS:.0f} s; "
        f"ratio {total / TARGET_SECONDS:.2f}"
    )
    print(result.studies.to_string(index=False))


def recovery(replicates: int, n: int, seed: int) -> None:
    from reawaken.bridge import studies
    from reawaken.bridge.kernel import compute_kernel
    from reawaken.epi.estimate import run_design

    kernels = {"sars-cov-2": compute_kernel("sars-cov-2", 200, seed)}
    truth = studies.truth_by_window(kernels)["sars-cov-2"]
    logs: dict[str, list[float]] = {w: [] for w in truth}
    covered: dict[str, list[bool]] = {w: [] for w in truth}
    work = Path(tempfile.mkdtemp(prefix="bridge-recovery-"))
    for r in range(replicates):
        cohort = studies.mechanism_cohort("flatiron", n, 1000 + r, kernels, work / str(r))
        result = run_design(cohort.store, "cox", outcome="lung_metastasis", exposure="sars-cov-2")
        est = result.estimates[result.estimates["kind"] == "exposure"].set_index("window")
        for w, hr in truth.items():
            logs[w].append(math.log(est.loc[w, "ratio"]))
            covered[w].append(bool(est.loc[w, "ci_lower"] <= hr <= est.loc[w, "ci_upper"]))
    print(f"{replicates} Flatiron-like cohorts of {n}, SARS-CoV-2 kernel planted (seed {seed})")
    print("window   truth  mean HR  bias log HR (MC se)  coverage (MC se)")
    for w, hr in truth.items():
        x = np.array(logs[w])
        c = np.mean(covered[w])
        bias = x.mean() - math.log(hr)
        se_bias = x.std(ddof=1) / math.sqrt(len(x))
        se_cover = math.sqrt(c * (1 - c) / len(x))
        print(
            f"{w:<8} {hr:6.3f} {math.exp(x.mean()):8.3f} {bias:+9.3f} ({se_bias:.3f})"
            f"     {c:.3f} ({se_cover:.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cohort-size", type=int, default=100_000)
    parser.add_argument("--recovery", type=int, default=0, help="replicate cohorts (0: time)")
    args = parser.parse_args()
    if args.recovery:
        recovery(args.recovery, args.cohort_size, args.seed)
    else:
        time_bridge(args.draws, args.seed, args.cohort_size)


if __name__ == "__main__":
    main()
