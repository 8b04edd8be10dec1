"""Covariate balance: standardised mean differences before and after matching (a Love plot)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from reawaken.plots import axes_or_new, require_columns


def plot_balance(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    label: str = "label",
    before: str = "smd_before",
    after: str = "smd_after",
    threshold: float = 0.1,
) -> Axes:
    """Absolute standardised mean differences per covariate level, before (open circles) and
    after matching (filled), with the usual 0.1 threshold dashed.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per covariate level with its label and the two differences (NaN: not known).
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new pyplot figure sized to the rows.
    label, before, after : str
        The columns of the row label and of the differences before and after matching.
    threshold : float, default 0.1
        Where the dashed line of acceptable imbalance is drawn.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one row per covariate level, top row first.

    Raises
    ------
    KeyError
        If ``table`` lacks a column (the message names it).

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots.balance import plot_balance
    >>> table = pd.DataFrame({"label": ["Stage I", "Age (years)"], "smd_before": [0.3, -0.5],
    ...                       "smd_after": [0.0, 0.02]})
    >>> ax = plot_balance(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Stage I', 'Age (years)']
    """
    require_columns(table, (label, before, after), "balance table")
    rows = len(table)
    ax = axes_or_new(ax, 6.0, 0.3 * rows + 1.4)
    y = np.arange(rows)[::-1]
    b = np.abs(pd.to_numeric(table[before], errors="coerce").to_numpy(dtype=float))
    a = np.abs(pd.to_numeric(table[after], errors="coerce").to_numpy(dtype=float))
    ax.scatter(b, y, facecolors="none", edgecolors="#1f77b4", label="before matching (crude)")
    ax.scatter(a, y, color="#d62728", label="after matching", zorder=3)
    ax.axvline(threshold, color="0.5", ls="--", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(table[label].astype(str))
    ax.set_xlabel("Absolute standardised mean difference")
    ax.set_xlim(left=0)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    return ax
