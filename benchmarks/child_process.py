"""A command run in a fresh process, for the benchmarks: its wall time, the peak resident
memory of it and its descendants, and the seconds it reports for its own work.

The benchmarks import it from their folder (``python benchmarks/bench_cohort.py`` puts
``benchmarks/`` first on the import path).
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = (
    "import resource, subprocess, sys, time, json;"
    "t = time.perf_counter();"
    "out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True);"
    "w = time.perf_counter() - t;"
    "work = [float(x.split()[1]) for x in out.stdout.splitlines() if x.startswith('work ')];"
    "print(json.dumps([w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,"
    " work[0] if work else None]))"
)


def run_child(args: list[str]) -> tuple[float, float, float | None]:
    """Run ``args`` in a fresh process (its output captured).

    Returns
    -------
    tuple
        Wall seconds; peak resident MB of that process and its descendants
        (``ru_maxrss`` of ``RUSAGE_CHILDREN`` in a probe process that runs it); the seconds
        it printed on a line ``work <seconds>``, if any (its work without start-up).
    """
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], check=True, capture_output=True, text=True
    )
    wall, peak, work = json.loads(out.stdout.strip().splitlines()[-1])
    return wall, peak, work
