"""Small made-up data sets to try the estimators on: the examples of their docstrings use them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reawaken.errors import InputError

_DATA: dict[str, dict[str, object]] = {
    # counting-process intervals: one per person, all from day 0
    "cox": {
        "start": [0, 0, 0, 0, 0, 0, 0, 0],
        "stop": [5, 8, 12, 3, 9, 15, 7, 11],
        "event": [1, 0, 1, 1, 1, 0, 1, 0],
        "infected": [1, 0, 0, 1, 0, 1, 1, 0],
        "age": [62, 55, 70, 75, 58, 64, 52, 68],
    },
    # one row per person: 0 censored, 1 the outcome, 2 the competing event
    "competing": {
        "time": [30, 45, 60, 90, 120, 150, 200, 250, 300, 365],
        "event": [1, 2, 0, 1, 1, 0, 2, 1, 0, 0],
        "infected": [1, 0, 1, 1, 0, 0, 1, 1, 0, 0],
    },
    # one row per case, ages in days: observed for a year, one event, infected once or never
    "case_series": {
        "case": [1, 2, 3, 4, 5, 6],
        "start": 0,
        "end": 364,
        "event": [20, 200, 100, 300, 35, 150],
        "infection": [10, 50, 90, 120, None, 140],
    },
}


def _persons() -> dict[str, object]:
    """200 persons followed from day 0 for 100 to 729 days, 30% infected in the first year."""
    rng = np.random.default_rng(1)
    n = 200
    return {
        "id": range(n),
        "entry": 0,
        "exit": rng.integers(100, 730, n),
        "event": rng.choice([0, 1, 2], n, p=[0.7, 0.2, 0.1]),
        "infection": np.where(rng.random(n) < 0.3, rng.integers(0, 365, n), np.nan),
    }


def example_data(kind: str) -> pd.DataFrame:
    """A small made-up data set of one ``kind``, to try an estimator on in a line.

    Parameters
    ----------
    kind : {"cox", "competing", "case_series", "emulation"}
        ``"cox"``: eight counting-process intervals (``start, stop, event, infected, age``) for
        :func:`~reawaken.epi.fit_cox`. ``"competing"``: ten persons (``time, event, infected``;
        event 0 censored, 1 the outcome, 2 the competing event) for
        :func:`~reawaken.epi.cumulative_incidence`, :func:`~reawaken.epi.cause_specific_cox`
        and :func:`~reawaken.epi.fit_fine_gray`. ``"case_series"``: six cases observed from day
        0 to 364 (``case, start, end, event, infection``; ages in days, a blank infection is
        none) for :func:`~reawaken.epi.split_case_series`. ``"emulation"``: 200 persons
        followed from day 0 (``id, entry, exit, event, infection``; event as for
        ``"competing"``, the day of infection blank if none), drawn at random with seed 1, for
        :func:`~reawaken.epi.emulate`.

    Returns
    -------
    pandas.DataFrame
        A new frame each call (changing it changes no later call's).

    Raises
    ------
    InputError
        If ``kind`` is not one of those above.

    Examples
    --------
    >>> from reawaken.epi import example_data
    >>> example_data("competing").head(3)
       time  event  infected
    0    30      1         1
    1    45      2         0
    2    60      0         1
    """
    if kind == "emulation":
        return pd.DataFrame(_persons())
    if kind not in _DATA:
        known = ", ".join([*_DATA, "emulation"])
        raise InputError(f"no example data {kind!r} (known: {known})")
    return pd.DataFrame(_DATA[kind])
