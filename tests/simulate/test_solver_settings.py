"""Solver settings check themselves, and a bad day grid is an InputError naming the days."""

from __future__ import annotations

import pytest

from reawaken.errors import InputError
from reawaken.model.forcing import no_forcing
from reawaken.model.parameters import parameter_set
from reawaken.simulate.ode import METHODS, SolverSettings, solve


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "euler"}, "solver method 'euler' is not known (accepted: rodas4"),
        ({"rtol": 0.0}, "rtol 0.0 is not accepted (accepted: a finite number > 0)"),
        ({"atol": float("nan")}, "atol nan is not accepted"),
        ({"rtol": "1e-6"}, "rtol '1e-6' is not a number"),
        ({"max_steps": 0}, "max_steps 0 is not accepted (accepted: a whole number >= 1)"),
        ({"block": 2.5}, "block 2.5 is not accepted"),
        ({"threads": 0}, "threads 0 is not accepted"),
        ({"chunk_size": True}, "chunk_size True is not accepted"),
    ],
)
def test_bad_settings_are_refused(options, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SolverSettings(**options)


def test_every_method_and_the_defaults_are_accepted():
    assert [SolverSettings(method=m).method for m in METHODS] == list(METHODS)
    assert SolverSettings(threads=None).threads is None


@pytest.mark.parametrize("days", [[1.0, 2.0], [0.0, 3.0, 3.0], [0.0, 5.0, 2.0]])
def test_days_must_start_at_zero_and_increase(days):
    params = parameter_set("mouse-influenza").vector()
    with pytest.raises(InputError, match="days must start at 0 and increase"):
        solve(params, no_forcing(), days)
