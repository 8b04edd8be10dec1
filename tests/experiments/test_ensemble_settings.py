"""Ensemble settings are checked before anything is solved or written: cv >= 0 and finite,
n a whole number >= 0; the message names the setting, its value and the accepted range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reawaken.errors import InputError
from reawaken.experiments.outputs import simulate_protocol
from reawaken.experiments.protocols import MOUSE_LUNG
from reawaken.experiments.run import run_protocol
from reawaken.simulate.ensemble import check_cv, check_ensemble_size, lognormal_factors


@pytest.mark.parametrize(("cv", "shown"), [(-0.3, "-0.3"), (math.inf, "inf"), (math.nan, "nan")])
def test_cv_must_be_at_least_zero_and_finite(cv, shown):
    message = (
        "cv must be >= 0 and finite (the coefficient of variation of the individuals' "
        f"parameter draws; 0 makes every individual alike), got {shown}"
    )
    for call in (
        lambda: check_cv(cv),
        lambda: check_cv(np.float64(cv)),
        lambda: lognormal_factors(3, cv, 0),
    ):
        with pytest.raises(InputError) as info:
            call()
        assert str(info.value) == message
        assert "column" not in str(info.value)


def test_cv_that_is_not_a_number():
    with pytest.raises(InputError) as info:
        check_cv("wide")
    assert str(info.value) == (
        "cv must be a number >= 0 (the coefficient of variation of the individuals' parameter "
        "draws), got wide"
    )


def test_bad_cv_stops_before_solving_or_writing(tmp_path):
    calls = []
    with pytest.raises(InputError, match=r"^cv must be >= 0 and finite .*got -0.3$"):
        run_protocol(MOUSE_LUNG, n=4, cv=-0.3, progress=calls.append)
    with pytest.raises(InputError, match=r"^cv must be >= 0 and finite .*got -0.3$"):
        simulate_protocol(MOUSE_LUNG, tmp_path / "out", n=4, cv=-0.3, progress=calls.append)
    assert calls == []
    assert not (tmp_path / "out").exists()


def test_ensemble_size_must_be_a_whole_number_at_least_zero():
    assert check_ensemble_size(0) == 0 and check_ensemble_size(np.int64(5)) == 5
    for n in (-1, 2.5, True):
        with pytest.raises(InputError) as info:
            check_ensemble_size(n)
        assert str(info.value) == (
            f"ensemble size n must be a whole number >= 0 (0 solves each arm once), got {n}"
        )
    assert check_cv(0) == 0.0 and check_cv(np.float64(0.3)) == 0.3
