"""Fixtures for the cohort tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cohort_helpers import DATA


@pytest.fixture
def ukb_small() -> Path:
    return DATA / "ukb_small"


@pytest.fixture
def flatiron_small() -> Path:
    return DATA / "flatiron_small"
