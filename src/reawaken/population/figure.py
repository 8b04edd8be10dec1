"""The population's figure: excess lung metastases by scenario, and their course by year."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def plot_excess(table: pd.DataFrame, ax: Axes, measure: str = "excess_lung_metastases") -> Axes:
    """One bar per scenario: ``measure`` with its interval (scenarios.csv's rows).

    Parameters
    ----------
    table : pandas.DataFrame
        ``scenario, measure, value, lower, upper`` (scenarios.csv).
    ax : matplotlib.axes.Axes
        Where to draw.
    measure : str, default "excess_lung_metastases"
        The measure drawn.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, one bar per scenario (top to bottom in the table's order).

    Raises
    ------
    KeyError
        If ``table`` lacks a column.

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots import file_axes
    >>> from reawaken.population.figure import plot_excess
    >>> t = pd.DataFrame({"scenario": ["baseline", "no-infection"],
    ...                   "measure": "excess_lung_metastases", "value": [30.0, 0.0],
    ...                   "lower": [10.0, 0.0], "upper": [50.0, 0.0]})
    >>> len(plot_excess(t, file_axes(5, 3)).patches)
    2
    """
    rows = table[table["measure"] == measure]
    y = np.arange(len(rows))[::-1]
    value = rows["value"].to_numpy(float)
    lower = np.nan_to_num(rows["lower"].to_numpy(float), nan=0.0, posinf=0.0, neginf=0.0)
    upper = np.nan_to_num(rows["upper"].to_numpy(float), nan=0.0, posinf=0.0, neginf=0.0)
    err = np.vstack([np.maximum(value - lower, 0.0), np.maximum(upper - value, 0.0)])
    ax.barh(y, value, xerr=err, color="#4c72b0", ecolor="black", capsize=3)
    ax.set_yticks(y, rows["scenario"].tolist(), fontsize=7)
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_xlabel(measure.replace("_", " ") + " (95% interval)")
    return ax


def plot_by_year(per_year: pd.DataFrame, ax: Axes, measure: str = "excess_lung_metastases") -> Axes:
    """One line per scenario: ``measure`` added up over follow-up years (per_year.csv's rows).

    Parameters
    ----------
    per_year : pandas.DataFrame
        ``scenario, year, measure, value, lower, upper`` (per_year.csv).
    ax : matplotlib.axes.Axes
        Where to draw.
    measure : str, default "excess_lung_metastases"
        The measure drawn.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, one line per scenario.

    Raises
    ------
    KeyError
        If ``per_year`` lacks a column.

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots import file_axes
    >>> from reawaken.population.figure import plot_by_year
    >>> t = pd.DataFrame({"scenario": "baseline", "year": [1, 2],
    ...                   "measure": "excess_lung_metastases", "value": [3.0, 4.0]})
    >>> [float(v) for v in plot_by_year(t, file_axes(5, 3)).lines[0].get_ydata()]
    [3.0, 7.0]
    """
    rows = per_year[per_year["measure"] == measure]
    for scenario, part in rows.groupby("scenario", sort=False):
        part = part.sort_values("year")
        ax.plot(part["year"], part["value"].cumsum(), marker="o", ms=3, label=str(scenario))
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("year of follow-up")
    ax.set_ylabel(measure.replace("_", " ") + ", cumulative")
    ax.legend(fontsize=6)
    return ax
