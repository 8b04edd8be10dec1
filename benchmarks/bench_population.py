"""Population runs at scale: time and peak memory against the targets, and the same numbers
in-process and on Dask.

Targets (issue: reawaken population):

- ``reawaken population --survivors 1000000 --years 5 --draws 100`` with three scenarios, in
  process: at most 60 s on 2 cores, peak memory under 2 GB;
- 10^7 survivors on a 2-worker LocalCluster (``--workers 2``): completes, peak memory of each
  worker under 2 GB;
- the same seed gives the same scenarios.csv in-process and on Dask.

Each run is ``reawaken population`` in a child process: its wall time and its peak resident
memory (``resource.getrusage(RUSAGE_CHILDREN)``: the largest process among the child and its
descendants, so with ``--workers`` the driver or a worker, whichever peaked higher); the
workers' own peaks come from population.json (``engine.worker_peak_memory_mib``, each worker's
``ru_maxrss``).

Run: ``python benchmarks/bench_population.py`` (``--big 0`` skips the 10^7 run).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from child_process import run_child

TIME_TARGET_S = 60.0
MEMORY_TARGET_MB = 2048.0
SCENARIOS = [
    "--scenario",
    "vaccine:coverage=0.7,efficacy=0.5",
    "--scenario",
    "anti-il6:coverage=0.5,delay=2",
    "--scenario",
    "antiviral:coverage=0.5,delay=1",
]


def population(out: Path, survivors: int, years: int, draws: int, seed: int, *more: str):
    exe = str(Path(sys.executable).with_name("reawaken"))
    argv = [exe, "population", "--survivors", str(survivors), "--years", str(years)]
    argv += ["--draws", str(draws), "--seed", str(seed), *SCENARIOS, "--out", str(out), *more]
    wall, peak, _ = run_child(argv)
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=10_000_000, help="0 skips the Dask run")
    parser.add_argument("--same", type=int, default=100_000, help="survivors of the same-files run")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wall, peak = population(root / "one", args.survivors, args.years, args.draws, args.seed)
        ok = wall <= TIME_TARGET_S and peak < MEMORY_TARGET_MB
        print(
            f"in-process: {args.survivors:,} survivors x {args.years} years x {args.draws} draws "
            f"x 3 scenarios: {wall:.1f} s (target {TIME_TARGET_S:g}), peak {peak:.0f} MB "
            f"(target < {MEMORY_TARGET_MB:g}) {'ok' if ok else 'MISSED'}"
        )

        here, there = root / "here", root / "there"
        population(here, args.same, args.years, args.draws, args.seed)
        population(there, args.same, args.years, args.draws, args.seed, "--workers", "2")
        same = all(
            (here / f).read_bytes() == (there / f).read_bytes()
            for f in ("scenarios.csv", "per_year.csv")
        )
        print(
            f"same seed, {args.same:,} survivors: scenarios.csv and per_year.csv in-process and "
            f"on a 2-worker LocalCluster {'identical' if same else 'DIFFER'}"
        )

        if args.big:
            big = root / "big"
            wall, peak = population(
                big, args.big, args.years, args.draws, args.seed, "--workers", "2"
            )
            record = json.loads((big / "population.json").read_text())
            workers = record["engine"].get("worker_peak_memory_mib", {})
            worst = max(workers.values()) if workers else float("nan")
            ok = bool(workers) and worst < MEMORY_TARGET_MB
            print(
                f"LocalCluster, 2 workers: {args.big:,} survivors x {args.years} years x "
                f"{args.draws} draws x 3 scenarios: {wall:.1f} s; peak per worker "
                + ", ".join(f"{v:.0f}" for v in workers.values())
                + f" MB (target < {MEMORY_TARGET_MB:g}), largest process {peak:.0f} MB "
                f"{'ok' if ok else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
