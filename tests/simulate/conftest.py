"""Tests here build JAX arrays of their own: they run with JAX in 64-bit mode, as the library's
entry points do (tests/cli/test_side_effects.py checks those without this fixture). They read
the calibration shipped with reawaken, never a user's own calibration file: the user's data
directory is an empty temporary folder."""

from __future__ import annotations

import pytest

from reawaken.simulate.precision import x64


@pytest.fixture(autouse=True)
def _jax_float64():
    with x64():
        yield


@pytest.fixture(autouse=True)
def _no_user_calibration(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data_home")))
