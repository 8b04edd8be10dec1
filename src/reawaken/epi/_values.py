"""Values and rows as a user reads them in an error message.

``show(np.int64(-1))`` is ``-1``, never ``np.int64(-1)``; a missing cell is ``missing``; text is
quoted. Rows are 1-based data rows (header = row 0), as a spreadsheet user counts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.errors import InputError

MAX_LISTED = 5


def show(value: object) -> str:
    """A cell value as plain text: numbers plain (``-1``, ``2.5``), NA ``missing``, text quoted."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return "missing"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "missing"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str):
        return repr(value)
    return str(value)


def is_missing(value: object) -> bool:
    """True for None, NaN, NA and NaT (a blank cell as pandas reads it)."""
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def rows_text(mask: np.ndarray) -> str:
    """``row 4`` or ``rows 4, 7, 9, 10, 12 and 3 more`` for the true entries of ``mask``."""
    rows = np.flatnonzero(mask) + 1
    listed = ", ".join(str(r) for r in rows[:MAX_LISTED])
    more = f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
    return f"row{'s' if len(rows) > 1 else ''} {listed}{more}"


def first_row(mask: np.ndarray) -> int:
    """The first true entry of ``mask`` as a 1-based data row."""
    return int(np.flatnonzero(mask)[0]) + 1


def also(mask: np.ndarray) -> str:
    """``""`` for one bad row, else ``"; 3 rows in all: 4, 7, 9"`` (the rows listed)."""
    count = int(np.count_nonzero(mask))
    if count <= 1:
        return ""
    return f"; {count} rows in all: {rows_text(mask)[5:]}"


def require_columns(
    frame: pd.DataFrame, columns: Sequence[str], file: str | Path | None = None
) -> None:
    """An InputError naming the first of ``columns`` that ``frame`` lacks (and the columns it
    has), or saying that ``frame`` has no rows."""
    for column in columns:
        if column not in frame.columns:
            raise InputError(
                f"column not found (columns are {', '.join(map(str, frame.columns))})",
                file=file,
                column=column,
            )
    if len(frame) == 0:
        raise InputError("no rows", file=file)


def reject_rows(
    bad: np.ndarray,
    reason: Callable[[int], str],
    *,
    column: str,
    file: str | Path | None = None,
    count: bool = True,
) -> None:
    """An InputError at the first true entry of ``bad``, if any: ``reason(index)`` (0-based
    index of that row) names the value, the error names the 1-based row and ``column``, and
    with ``count`` it lists the other bad rows (:func:`also`)."""
    if bad.any():
        row = first_row(bad)
        raise InputError(
            reason(row - 1) + (also(bad) if count else ""), file=file, row=row, column=column
        )
