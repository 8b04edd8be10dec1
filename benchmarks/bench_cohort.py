"""Cohort generator and import at UK Biobank size: time and peak memory against the targets.

Targets (issue: cohort store; issue 13, imports at database speed): a 500,000-person UK
Biobank-layout cohort generates in under a minute; it imports in at most 2x the time of a
plain DuckDB ``read_csv`` of the same files in the same run, with peak memory under 1.5 GB.
The import reads, transforms and validates the files by SQL inside DuckDB and inserts the
canonical tables from there (:mod:`reawaken.cohort.sources.sql_import`). Measured:

- generation: ``reawaken cohort synth --like ukb --n N`` as a subprocess (wall time, peak
  resident memory of the child from ``resource.getrusage(RUSAGE_CHILDREN)``);
- import: ``reawaken cohort import --source ukb`` into a fresh store, as a subprocess (wall
  time, peak resident memory; this includes starting Python and the command line);
- peer: DuckDB's own ``read_csv`` of the same two files into tables of a fresh database file
  (the floor for any import of these files), in a subprocess, for the ratio import / plain
  load;
- the writing alone: the canonical tables of the last import, held in memory, inserted into a
  fresh store file in one transaction (what any import of them must write, compressed as the
  store keeps them); with the plain load, the floor of an import that transformed and checked
  nothing;
- the same two without start-up: ``CohortStore.import_source`` and the two ``read_csv``
  statements timed inside their processes (modules already imported), for the ratio of the
  work itself.

Each import and plain load runs ``--repeat`` times, one after the other, and the fastest run
of each counts (on a machine shared with other work, the fastest run is the one least slowed
by it); peak memory is the largest over the runs.

Run: ``python benchmarks/bench_cohort.py`` (default ``--n 500000 --repeat 3``).
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

from child_process import run_child

GEN_TARGET_S = 60.0
IMPORT_TARGET_RATIO = 2.0  # import time / plain read_csv time, same files, same run
IMPORT_TARGET_MB = 1536.0  # 1.5 GB

_PLAIN_LOAD = """
import duckdb, sys, time
t = time.perf_counter()
con = duckdb.connect(sys.argv[1])
load = "CREATE TABLE {} AS SELECT * FROM read_csv_auto(?, all_varchar=true)"
con.execute(load.format("participant"), [sys.argv[2]])
con.execute(load.format("covid"), [sys.argv[3]])
con.close()
print("work", time.perf_counter() - t)
"""

_WRITE_ONLY = """
import duckdb, sys, time
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(f"ATTACH '{sys.argv[1]}' AS imported (READ_ONLY)")
tables = ["person", "cancer_diagnosis", "follow_up", "infection", "vaccination", "outcome"]
for table in tables:  # in memory first: only the writing is timed
    con.execute(f"CREATE TABLE m_{table} AS SELECT * FROM imported.{table} ORDER BY rowid")
con.execute(f"ATTACH '{sys.argv[2]}' AS fresh")
t = time.perf_counter()
con.execute("BEGIN TRANSACTION")
for table in tables:
    con.execute(f"CREATE TABLE fresh.{table} AS SELECT * FROM imported.{table} LIMIT 0")
    con.execute(f"INSERT INTO fresh.{table} SELECT * FROM m_{table}")
con.execute("COMMIT")
print("work", time.perf_counter() - t)
"""

_IMPORT = """
import sys, time
from reawaken.cohort import CohortStore
t = time.perf_counter()
CohortStore(sys.argv[1]).import_source("ukb", sys.argv[2], censor_date=sys.argv[3])
print("work", time.perf_counter() - t)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each import and plain load (fastest kept)"
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    assert resource.RUSAGE_CHILDREN is not None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ukb"
        cli = [sys.executable, "-m", "reawaken.cli"]
        gen_s, gen_mb, _ = run_child(
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
        censor = truth["import_options"]["censor_date"]
        imports, plains, works = [], [], []
        for k in range(args.repeat):  # each run writes a fresh store
            db = Path(tmp) / f"cohort-{k}.duckdb"
            imports.append(
                run_child(
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
                        censor,
                    ]
                )
            )
            plains.append(
                run_child(
                    [
                        sys.executable,
                        "-c",
                        _PLAIN_LOAD,
                        str(Path(tmp) / f"p-{k}.duckdb"),
                        str(out / "participant.tsv"),
                        str(out / "covid19_result.tsv"),
                    ]
                )
            )
            works.append(
                run_child(
                    [
                        sys.executable,
                        "-c",
                        _IMPORT,
                        str(Path(tmp) / f"w-{k}.duckdb"),
                        str(out),
                        censor,
                    ]
                )
            )
        writes = [
            run_child(
                [sys.executable, "-c", _WRITE_ONLY, str(db), str(Path(tmp) / f"c-{k}.duckdb")]
            )
            for k in range(args.repeat)
        ]
        write_work = min(r[2] for r in writes)
        imp_s, imp_mb = min(r[0] for r in imports), max(r[1] for r in imports)
        plain_s, plain_mb = min(r[0] for r in plains), max(r[1] for r in plains)
        plain_work = min(r[2] for r in plains)
        work_mb, imp_work = max(r[1] for r in works), min(r[2] for r in works)
        t = time.perf_counter()
        subprocess.run(
            [*cli, "cohort", "summary", "--db", str(db), "--json", "--min-cell", "0"],
            check=True,
            capture_output=True,
        )
        sum_s = time.perf_counter() - t
    print(
        f"UK Biobank layout, n = {args.n:,}, seed {args.seed}; fastest of {args.repeat} "
        "runs of each import and plain load"
    )
    print("files (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(sizes.items())))
    print(
        f"generate: {gen_s:7.1f} s  peak {gen_mb:7.0f} MB  "
        f"(target < {GEN_TARGET_S:.0f} s: ratio {gen_s / GEN_TARGET_S:.2f})"
    )
    ratio = imp_s / plain_s
    print(
        f"import:   {imp_s:7.1f} s  peak {imp_mb:7.0f} MB  "
        f"(target < {IMPORT_TARGET_MB:.0f} MB: ratio {imp_mb / IMPORT_TARGET_MB:.2f})"
    )
    print(
        f"plain DuckDB read_csv of the same files: {plain_s:.1f} s, peak {plain_mb:.0f} MB; "
        f"import / plain load: time x{ratio:.1f} (target x{IMPORT_TARGET_RATIO:.0f}: ratio "
        f"{ratio / IMPORT_TARGET_RATIO:.2f}), memory x{imp_mb / plain_mb:.1f}"
    )
    print(
        f"without start-up: import_source {imp_work:.1f} s (peak {work_mb:.0f} MB), "
        f"read_csv {plain_work:.1f} s; time x{imp_work / plain_work:.1f}"
    )
    floor = plain_s + write_work
    print(
        f"writing the imported canonical tables alone into a fresh store: {write_work:.1f} s; "
        f"plain load + that writing: {floor:.1f} s = x{floor / plain_s:.1f} of the plain load, "
        "before any transformation, check or start-up of the import's own"
    )
    print(f"summary --json: {sum_s:.1f} s")


if __name__ == "__main__":
    main()
