"""Cohort generator and import at UK Biobank size: time and peak memory against the targets.

Targets (issue: cohort store): a 500,000-person UK Biobank-layout cohort generates in under a
minute and imports within 4 GB of memory. Measured:

- generation: ``reawaken cohort synth --like ukb --n N`` as a subprocess (wall time, peak
  resident memory of the child from ``resource.getrusage(RUSAGE_CHILDREN)``);
- import: ``reawaken cohort import --source ukb`` into a fresh store, as a subprocess (wall
  time, peak resident memory);
- peer: DuckDB's own ``read_csv`` of the same two files into tables (the floor for any import
  of these files), in a subprocess, for the ratio import / plain load.

Run: ``python benchmarks/bench_cohort.py`` (default ``--n 500000``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GEN_TARGET_S = 60.0
IMPORT_TARGET_MB = 4096.0

_PLAIN_LOAD = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
load = "CREATE TABLE {} AS SELECT * FROM read_csv_auto(?, all_varchar=true)"
con.execute(load.format("participant"), [sys.argv[2]])
con.execute(load.format("covid"), [sys.argv[3]])
con.close()
"""


def run_child(args: list[str]) -> tuple[float, float]:
    """Run ``args`` in a fresh process; return (wall seconds, peak resident MB of that child)."""
    probe = (
        "import resource, subprocess, sys, time, json;"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True);"
        "w = time.perf_counter() - t;"
        "print(json.dumps([w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *args], check=True, capture_output=True, text=True
    )
    wall, peak = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    assert resource.RUSAGE_CHILDREN is not None
    with tempfile.TemporaryDirectory() as tmp:
        out, db = Path(tmp) / "ukb", Path(tmp) / "cohort.duckdb"
        cli = [sys.executable, "-m", "reawaken.cli"]
        gen_s, gen_mb = run_child(
            [
                *cli,
                "cohort",
                "synth",
                "--like",
                "ukb",
                "--n",
                str(args.n),
                "--seed",
                str(args.seed),
                "--out",
                str(out),
            ]
        )
        truth = json.loads((out / "truth.json").read_text())
        sizes = {p.name: p.stat().st_size / 1e6 for p in out.iterdir()}
        imp_s, imp_mb = run_child(
            [
                *cli,
                "cohort",
                "import",
                "--source",
                "ukb",
                str(out),
                "--db",
                str(db),
                "--censor-date",
                truth["import_options"]["censor_date"],
            ]
        )
        plain_s, plain_mb = run_child(
            [
                sys.executable,
                "-c",
                _PLAIN_LOAD,
                str(Path(tmp) / "p.duckdb"),
                str(out / "participant.tsv"),
                str(out / "covid19_result.tsv"),
            ]
        )
        t = time.perf_counter()
        subprocess.run(
            [*cli, "cohort", "summary", "--db", str(db), "--json", "--min-cell", "0"],
            check=True,
            capture_output=True,
        )
        sum_s = time.perf_counter() - t
    print(f"UK Biobank layout, n = {args.n:,}, seed {args.seed}")
    print("files (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(sizes.items())))
    print(
        f"generate: {gen_s:7.1f} s  peak {gen_mb:7.0f} MB  "
        f"(target < {GEN_TARGET_S:.0f} s: ratio {gen_s / GEN_TARGET_S:.2f})"
    )
    print(
        f"import:   {imp_s:7.1f} s  peak {imp_mb:7.0f} MB  "
        f"(target < {IMPORT_TARGET_MB:.0f} MB: ratio {imp_mb / IMPORT_TARGET_MB:.2f})"
    )
    print(
        f"plain DuckDB read_csv of the same files: {plain_s:.1f} s, peak {plain_mb:.0f} MB; "
        f"import / plain load: time x{imp_s / plain_s:.1f}, memory x{imp_mb / plain_mb:.1f}"
    )
    print(f"summary --json: {sum_s:.1f} s")


if __name__ == "__main__":
    main()
