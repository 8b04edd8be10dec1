"""Small-cell suppression, one rule for every count that leaves the machine.

Patient data leave as aggregates only: a count from 1 to ``min_cell - 1`` (default 10, as UK
Biobank and Flatiron require) is suppressed; zero is kept, since it reveals no one;
``min_cell=0`` shows every count. The cohort summary, the designs' files and the fit commands
all suppress through these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

DEFAULT_MIN_CELL = 10


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
    out = frame.copy()
    for column in columns:
        values = pd.to_numeric(out[column]).astype("Int64")
        out[column] = values.mask(is_small(values, min_cell))
    return out
