"""Where the tests' public reference data sets are.

Small data sets travel with the tests under ``tests/data`` (R survival's heart, jasa and jasa1 in
``tests/data/survival``, the SCCS package's itpdat, midat and intdat in ``tests/data/sccs``; see
the README.md in each folder). Only the larger shared sets stay outside the repository, in
``$REAWAKEN_SHARED/reference`` if that is set, else ``shared/reference`` beside the checkout:

- ``Synthea27Nj_5.4`` (a small OMOP CDM v5.4 database from OHDSI EunomiaDatasets, 3.3 MB)
- ``OMOP_CDMv5.4_Field_Level.csv`` and ``OMOP_CDMv5.4_Table_Level.csv`` (the CDM specification)

A test that needs one of them asks :func:`shared_reference`, which skips the test with a message
naming what is missing and where it was looked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
SURVIVAL = DATA / "survival"
SCCS = DATA / "sccs"


def reference_folder() -> Path:
    """``$REAWAKEN_SHARED/reference`` if set, else ``shared/reference`` beside the checkout."""
    if os.environ.get("REAWAKEN_SHARED"):
        return Path(os.environ["REAWAKEN_SHARED"]) / "reference"
    return Path(__file__).resolve().parents[2] / "shared" / "reference"


def missing_reason(name: str) -> str | None:
    """Why the shared reference data set ``name`` cannot be used, or None when it is present."""
    path = reference_folder() / name
    if path.exists():
        return None
    where = (
        "REAWAKEN_SHARED=" + os.environ["REAWAKEN_SHARED"]
        if os.environ.get("REAWAKEN_SHARED")
        else "set REAWAKEN_SHARED to the folder holding reference/" + name
    )
    return f"shared reference data set {name} not found at {path} ({where})"


def shared_reference(name: str) -> Path:
    """The path of the shared reference data set ``name``; skips the calling test if absent."""
    reason = missing_reason(name)
    if reason is not None:
        pytest.skip(reason)
    return reference_folder() / name
