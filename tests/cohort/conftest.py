"""Fixtures for the cohort tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cohort_helpers import DATA

from reference_data import shared_reference


@pytest.fixture
def ukb_small() -> Path:
    return DATA / "ukb_small"


@pytest.fixture
def flatiron_small() -> Path:
    return DATA / "flatiron_small"


@pytest.fixture
def synthea() -> Path:
    """The shared Synthea27Nj_5.4 OMOP extract (outside the repository); skips when absent."""
    return shared_reference("Synthea27Nj_5.4")
