"""Tests here build JAX arrays of their own: they run with JAX in 64-bit mode, as the library's
entry points do (tests/cli/test_side_effects.py checks those without this fixture)."""

from __future__ import annotations

import pytest

from reawaken.simulate.precision import x64


@pytest.fixture(autouse=True)
def _jax_float64():
    with x64():
        yield
