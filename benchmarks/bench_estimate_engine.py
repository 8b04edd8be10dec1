"""``estimate --design sccs --in-engine`` on 10^7 persons: wall time, peak memory, estimates.

Target (issue 13, item 2): the self-controlled case series with its inputs aggregated in the
engine needs memory of the size of its aggregates: under 2 GB on 10^7 persons, with estimates
equal to the in-memory path on a 10^5 subsample to 1e-10.

The store of 10^7 persons is made without generating them in Python:

1. ``reawaken cohort synth --like omop --n 100000`` (with few deaths after a metastasis, so that
   the standard case series applies: :data:`FEW_DEATHS`), imported with ``reawaken cohort
   import``: the 10^5 subsample;
2. its tables the designs read (``person, cancer_diagnosis, follow_up, infection, outcome``;
   not ``vaccination``, which no design reads) copied ``--copies`` times (100) into a new store
   by DuckDB SQL, ``person_id || '-' || k``, with the import records.

Measured:

- ``reawaken estimate --design sccs --in-engine`` on the large store, as a subprocess: wall
  time and peak resident memory of the child (``resource.getrusage(RUSAGE_CHILDREN)``);
- the peer: the in-memory path (``reawaken estimate`` without ``--in-engine``) on a smaller
  copy (``--peer-copies``, 10: 10^6 persons), the same way, for the ratio of memory per person;
- equality on the 10^5 subsample: the in-memory and in-engine estimates (coef, se), largest
  absolute difference (target 1e-10);
- the large store against the subsample: ``k`` identical copies of every case multiply each
  case's conditional likelihood, so the log relative incidences are the subsample's and their
  standard errors the subsample's divided by ``sqrt(k)`` (largest relative difference).

Run: ``python benchmarks/bench_estimate_engine.py`` (``--n 100000 --copies 100``; ``--keep DIR``
keeps the stores there).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from child_process import run_child

MEMORY_TARGET_MB = 2048.0
EQUAL_TO = 1e-10
FEW_DEATHS = {
    "cancer_death_after_relapse": {"annual_hazard": 0.002},
    "other_death": {"log_rate_at_age_0": -16.0},
}
"""Generator parameters with few deaths after a metastasis (assumed: the defaults make most
cases die within months, which the standard case series refuses)."""
TABLES = ("person", "cancer_diagnosis", "follow_up", "infection", "outcome")
DESIGN = [
    "--design",
    "sccs",
    "--outcome",
    "distant_metastasis",
    "--exposure",
    "any",
    "--windows",
    "0-30,31-90,91-180",
    "--min-cell",
    "0",
]
CLI = [sys.executable, "-m", "reawaken.cli"]


def replicate(small: Path, big: Path, copies: int) -> dict[str, int]:
    """Copy the tables the designs read ``copies`` times from ``small`` into a new store
    ``big`` (person ids ``id-k``), with the import records; rows per table."""
    import duckdb

    con = duckdb.connect(str(big))
    con.execute(f"ATTACH '{small}' AS small (READ_ONLY)")
    rows = {}
    for table in TABLES:
        columns = [r[0] for r in con.execute(f"DESCRIBE small.{table}").fetchall()]
        picked = ", ".join(
            "person_id || '-' || k AS person_id" if c == "person_id" else f'"{c}"' for c in columns
        )
        con.execute(
            f"CREATE TABLE {table} AS SELECT {picked} FROM small.{table}, range({copies}) r(k)"
        )
        rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    for table in ("imports", "import_files", "quarantine"):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM small.{table}")
    con.execute("CREATE TABLE vaccination AS SELECT * FROM small.vaccination LIMIT 0")
    con.close()
    return rows


def estimates(out: Path) -> pd.DataFrame:
    table = pd.read_csv(out / "estimates.csv")
    return table.set_index("term")[["coef", "se"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--peer-copies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        files, small = tmp / "omop", tmp / "small.duckdb"
        if not small.exists():
            params = tmp / "few_deaths.json"
            params.write_text(json.dumps(FEW_DEATHS))
            t = time.perf_counter()
            subprocess.run(
                [*CLI, "cohort", "synth", "--like", "omop", "--n", str(args.n), "--seed",
                 str(args.seed), "--out", str(files), "--params", str(params), "--overwrite"],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            subprocess.run(
                [*CLI, "cohort", "import", "--source", "omop", "--db", str(small), str(files)],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            print(f"subsample: {args.n} persons generated and imported in "
                  f"{time.perf_counter() - t:.1f} s")  # fmt: skip

        # equality on the subsample, in process
        from reawaken.cohort.store import CohortStore
        from reawaken.epi import run_design

        options = dict(outcome="distant_metastasis", exposure="any", windows="0-30,31-90,91-180")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            memory = run_design(CohortStore(small), "sccs", **options)
            engine = run_design(CohortStore(small), "sccs", inputs="engine", **options)
        a = memory.estimates.set_index("term")[["coef", "se"]]
        b = engine.estimates.set_index("term")[["coef", "se"]]
        diff = float(np.nanmax(np.abs(a.to_numpy() - b.to_numpy())))
        fit = memory.summary["fit"]
        print(f"subsample: {memory.summary['persons']} persons at risk, {fit['cases']} cases, "
              f"{fit['intervals']} intervals; in-engine vs in-memory estimates: largest "
              f"difference {diff:.2e} (target {EQUAL_TO:g}: "
              f"{'met' if diff <= EQUAL_TO else 'NOT met'})")  # fmt: skip

        results = {}
        for copies, inputs in ((args.peer_copies, []), (args.copies, ["--in-engine"])):
            big = tmp / f"copies{copies}.duckdb"
            if not big.exists():
                t = time.perf_counter()
                rows = replicate(small, big, copies)
                print(f"store of {rows['person']:,} persons ({copies} copies) built by SQL in "
                      f"{time.perf_counter() - t:.1f} s: {rows}")  # fmt: skip
            out = tmp / f"est{copies}{'_engine' if inputs else ''}"
            wall, peak, _ = run_child(
                [*CLI, "estimate", "--db", str(big), *DESIGN, "--out", str(out),
                 "--overwrite", *inputs]
            )  # fmt: skip
            label = "in-engine" if inputs else "in-memory"
            persons = args.n * copies
            results[label] = (persons, wall, peak)
            print(f"estimate --design sccs {label} on {persons:,} persons: {wall:.1f} s, "
                  f"peak {peak:.0f} MB")  # fmt: skip
            got = estimates(out)
            scale = math.sqrt(copies)
            rel_coef = np.nanmax(np.abs(got["coef"] - a["coef"]) / np.abs(a["coef"]))
            rel_se = np.nanmax(np.abs(got["se"] * scale - a["se"]) / a["se"])
            print(f"  against the subsample: log relative incidences equal to "
                  f"{rel_coef:.1e} (relative), standard errors x sqrt({copies}) to "
                  f"{rel_se:.1e}")  # fmt: skip

        persons, wall, peak = results["in-engine"]
        print(f"in-engine on {persons:,} persons: peak {peak:.0f} MB (target "
              f"{MEMORY_TARGET_MB:.0f} MB: {'met' if peak < MEMORY_TARGET_MB else 'NOT met'}), "
              f"{wall:.1f} s")  # fmt: skip
        p_persons, p_wall, p_peak = results["in-memory"]
        print(f"peer, in-memory on {p_persons:,} persons ({p_persons / persons:.2g} of them): "
              f"peak {p_peak:.0f} MB, {p_wall:.1f} s; peak in-engine / in-memory "
              f"{peak / p_peak:.2f}, persons in-engine / in-memory "
              f"{persons / p_persons:.0f}")  # fmt: skip


if __name__ == "__main__":
    assert resource.RUSAGE_CHILDREN is not None
    main()
