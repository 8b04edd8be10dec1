"""Defaults and choices of the cohort store that the command line reads when it starts: kept
in this module, which imports neither DuckDB nor pandas, and re-exported where they belong
(:mod:`reawaken.cohort.store`, :mod:`reawaken.cohort.linking`)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_PATH = Path("reawaken.duckdb")
"""The cohort store a command uses when given none (in the working folder)."""

SAME_PERSON = "same-person"
"""Link: the person ids of two stored sources refer to the same people."""

DISTINCT = "distinct"
"""Link: the person ids of two stored sources are separate id spaces."""

LINKS = (SAME_PERSON, DISTINCT)
"""How an import that shares person ids or files with a stored source is linked to it."""
