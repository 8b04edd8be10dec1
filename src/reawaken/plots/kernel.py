"""The excess-hazard kernel: hazard ratio of a diagnosed lung metastasis by days since infection."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from reawaken.plots import axes_or_new, require_columns


def plot_kernel(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    days: int = 730,
    pathogen: str = "pathogen",
    day: str = "day",
    hr: str = "hr",
    lower: str = "lower",
    upper: str = "upper",
) -> Axes:
    """The hazard ratio by day since infection, one line per pathogen, its interval shaded.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per pathogen and day with the hazard ratio and its interval.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new pyplot figure.
    days : int, default 730
        The last day shown.
    pathogen, day, hr, lower, upper : str
        The columns of the pathogen, the day since infection, the ratio and its limits.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one line per pathogen, a dashed line at 1.

    Raises
    ------
    KeyError
        If ``table`` lacks one of the columns (the message names it).

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots.kernel import plot_kernel
    >>> table = pd.DataFrame({"pathogen": "influenza", "day": range(5), "hr": [1, 3, 2, 1.5, 1],
    ...                       "lower": 1.0, "upper": [1, 5, 3, 2, 1]})
    >>> ax = plot_kernel(table)
    >>> [line.get_label() for line in ax.get_lines()][:1]
    ['influenza']
    """
    require_columns(table, (pathogen, day, hr, lower, upper), "kernel table")
    ax = axes_or_new(ax, 7.0, 4.0)
    for name, rows in table[table[day] <= days].groupby(pathogen, sort=False):
        line = ax.plot(rows[day], rows[hr], label=str(name), lw=1.6)[0]
        ax.fill_between(
            rows[day],
            rows[lower],
            rows[upper],
            color=line.get_color(),
            alpha=0.18,
            lw=0,
            label=f"{name}: 95% of draws",
        )
    ax.axhline(1.0, color="0.4", ls="--", lw=0.8)
    ax.set_xlabel("Days since infection")
    ax.set_ylabel("Hazard ratio of a diagnosed lung metastasis")
    ax.set_xlim(0, days)
    ax.legend(frameon=False, fontsize=8)
    return ax
