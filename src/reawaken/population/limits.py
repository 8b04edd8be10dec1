"""What ``reawaken population`` accepts, kept in a module that imports neither NumPy nor
pandas, so that the command line starts without them; re-exported by
:mod:`reawaken.population.run`."""

from __future__ import annotations

MAX_SURVIVORS = 1_000_000_000
"""The most survivors simulated (they run in chunks of :data:`DEFAULT_CHUNK`: memory does
not grow with the count)."""
MAX_YEARS = 10
"""The most years followed (the kernels cover ten years)."""
MAX_DRAWS = 1000
"""The most within-host draws."""
DEFAULT_CHUNK = 100_000
"""Survivors simulated at once (memory grows with it)."""
