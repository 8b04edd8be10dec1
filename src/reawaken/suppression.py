"""Small-cell suppression, one rule for every count that leaves the machine.

Patient data leave as aggregates only: a count from 1 to ``min_cell - 1`` (default 10, as UK
Biobank and Flatiron require) is suppressed; zero is kept, since it reveals no one;
``min_cell=0`` shows every count. The cohort summary, the designs' files and the fit commands
all suppress through these functions.

Hiding the small counts themselves (primary suppression) is not enough: a count can be read
back from what is shown beside it. Three further rules make the suppression hold across every
file a run writes:

- **Parts of a shown total** (complementary suppression, :func:`complement`): where parts add
  up to a total that is shown (events per window and the events of ``fit.json``), what is
  hidden adds up to ``total - shown parts``; while that remainder is from 1 to
  ``min_cell - 1``, the smallest shown part that is not zero is hidden as well. What is hidden
  then adds up to zero or to at least ``min_cell``.
- **Counts that accrue over time** (:func:`shown_steps`): a cumulative count (events by day 91,
  by day 183, ..., the points of a cumulative incidence curve) is shown only where at least
  ``min_cell`` events, or none, have accrued since the previous point shown; so no difference
  of two points shown is from 1 to ``min_cell - 1``. Curves are coarsened this way in the files
  and in the figures.
- **Statistics of a hidden count**: a ratio, risk, interval or p-value computed from a hidden
  count gives the count back (risk times persons at risk, a rate ratio times the reference rate
  times person-time, a standard error ``~ 1/sqrt(events)``); the writers hide them with it.

Examples
--------
>>> from reawaken.suppression import complement, shown_steps
>>> complement([120, 4], total=124)  # 124 - 120 = 4: the 120 is hidden too
[None, None]
>>> shown_steps([0, 3, 12, 12, 25], fixed=[False] * 5)
[True, False, True, True, True]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported by the functions that use them: the default alone stays light
    import pandas as pd

DEFAULT_MIN_CELL = 10  # UK Biobank and Flatiron: counts from 1 to 9 are not shown


def is_small(count: Any, min_cell: int) -> Any:
    """True where a count (a number or an array) is from 1 to ``min_cell - 1``."""
    return (count > 0) & (count < min_cell)


def suppress_count(count: int, min_cell: int = DEFAULT_MIN_CELL) -> int | None:
    """``count`` itself (a plain int), or None when it is small (:func:`is_small`)."""
    count = int(count)
    return None if is_small(count, min_cell) else count


def suppress_small_counts(
    frame: pd.DataFrame, columns: Sequence[str], *, min_cell: int = DEFAULT_MIN_CELL
) -> pd.DataFrame:
    """Suppress small counts: a copy with each count from 1 to ``min_cell - 1`` made NA.

    Zero is kept (it reveals no one). The count columns become pandas nullable integers, so a
    suppressed cell prints as empty in a CSV file, never as a number. ``run_design(...).write``
    and every fit command apply it; use it on any table of counts that leaves the machine.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    columns : sequence of str
        The count columns (whole numbers).
    min_cell : int, default 10
        The smallest count shown (10, as UK Biobank and Flatiron require; 0 shows every
        count).

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with the small counts suppressed.

    Raises
    ------
    KeyError
        If a column is missing.
    ValueError
        If a count is not a number.
    TypeError
        If a count is not a whole number.

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.suppression import suppress_small_counts
    >>> counts = pd.DataFrame({"window": ["0-30", "31-90", ">90"], "events": [3, 0, 25]})
    >>> suppress_small_counts(counts, ["events"])
      window  events
    0   0-30    <NA>
    1  31-90       0
    2    >90      25
    """
    import pandas as pd

    out = frame.copy()
    for column in columns:
        values = pd.to_numeric(out[column]).astype("Int64")
        out[column] = values.mask(is_small(values, min_cell))
    return out


def complement(
    parts: Sequence[int | None], total: int | None, *, min_cell: int = DEFAULT_MIN_CELL
) -> list[int | None]:
    """Primary and complementary suppression of parts that add up to a shown total.

    Small parts are hidden; then, while the hidden remainder ``total - sum(shown parts)`` is
    from 1 to ``min_cell - 1``, the smallest shown part above zero is hidden too. A part that
    is None is not shown (for example a part no file holds); it counts in the remainder.

    Parameters
    ----------
    parts : sequence of int or None
        The parts (None: not shown).
    total : int or None
        Their total as shown elsewhere (None: the total is not shown, so only the small parts
        are hidden). Parts that are not shown may make the total larger than the parts given.
    min_cell : int, default 10
        The smallest count shown (0 shows every count).

    Returns
    -------
    list of int or None
        The parts as they may be shown (None: hidden).

    Examples
    --------
    >>> from reawaken.suppression import complement
    >>> complement([2407 - 29, 12, 13, 4], total=2407)  # 4 alone would be 2407 - 2403
    [2378, None, 13, None]
    >>> complement([40, 3, 0], total=None)  # no total: the small part only
    [40, None, 0]
    """
    shown: list[int | None] = [None if p is None else suppress_count(p, min_cell) for p in parts]
    if total is None:
        return shown
    while is_small(int(total) - sum(p for p in shown if p is not None), min_cell):
        candidates = [(p, i) for i, p in enumerate(shown) if p]
        if not candidates:  # the hidden parts are the whole total, itself shown: cannot be
            break  # small here, since a small total is hidden by its own rule
        shown[min(candidates)[1]] = None
    return shown


def shown_steps(
    cumulative: Sequence[int], fixed: Sequence[bool], *, min_cell: int = DEFAULT_MIN_CELL
) -> list[bool]:
    """Which points of a cumulative count may be shown: at least ``min_cell`` or no new events
    since the previous point shown.

    Points are in time order; the count starts at 0 before the first. A ``fixed`` point is
    shown whatever it holds (a total shown elsewhere); each other point is shown when the
    events since the previous point shown, and those up to the next fixed point, are 0 or at
    least ``min_cell``. No difference between two points shown is then from 1 to
    ``min_cell - 1``, provided the fixed points themselves are ``min_cell`` or more apart.

    Parameters
    ----------
    cumulative : sequence of int
        Events up to each point (non-decreasing).
    fixed : sequence of bool
        Points that are shown anyway.
    min_cell : int, default 10
        The smallest count shown (0 shows every point).

    Returns
    -------
    list of bool
        True where the point may be shown.

    Examples
    --------
    >>> from reawaken.suppression import shown_steps
    >>> shown_steps([2, 10, 14, 30], fixed=[False, False, False, True])
    [False, True, False, True]
    """
    import numpy as np

    counts = np.asarray(cumulative, dtype=np.int64)
    fixed = np.asarray(fixed, dtype=bool)
    later_fixed = np.where(fixed, counts, np.iinfo(np.int64).max)
    next_fixed = np.minimum.accumulate(later_fixed[::-1])[::-1]  # non-decreasing counts
    shown, last = [], 0
    for count, is_fixed, upcoming in zip(counts, fixed, next_fixed, strict=True):
        ok = is_fixed or (
            not is_small(count - last, min_cell)
            and (upcoming == np.iinfo(np.int64).max or not is_small(upcoming - count, min_cell))
        )
        shown.append(bool(ok))
        if ok:
            last = int(count)
    return shown


_LEADING_COUNT = re.compile(r"^(\d+)(?= )")


def suppress_note(note: str, *, min_cell: int = DEFAULT_MIN_CELL) -> str:
    """A note as it may be shown: a count from 1 to ``min_cell - 1`` that starts it (``3
    persons ... left out``) reads ``fewer than 10``.

    Examples
    --------
    >>> from reawaken.suppression import suppress_note
    >>> suppress_note("3 cases had no eligible control")
    'fewer than 10 cases had no eligible control'
    """
    match = _LEADING_COUNT.match(note)
    if match and is_small(int(match.group(1)), min_cell):
        return f"fewer than {min_cell}" + note[match.end() :]
    return note
