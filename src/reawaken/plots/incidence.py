"""Cumulative incidence curves (step functions) with pointwise confidence bands."""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.axes import Axes

from reawaken.plots import axes_or_new, require_columns

COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#7f7f7f", "#9467bd")


def plot_cumulative_incidence(
    curves: pd.DataFrame,
    *,
    ax: Axes | None = None,
    group: str = "arm",
    time: str = "day",
    cif: str = "cif",
    lower: str | None = "ci_lower",
    upper: str | None = "ci_upper",
    xlabel: str = "Days",
    ylabel: str = "Cumulative incidence",
    title: str | None = None,
    time_label: str | None = None,
) -> Axes:
    """Cumulative incidence curves: one right-continuous step curve per group, with its band,
    each starting at (0, 0).

    Rows without a value (NA ``cif``: a step hidden to keep small counts from being read
    back) are left out, so the curve steps from the last value shown to the next one. A
    curve without a point at time 0 gets one at (0, 0) (nobody has had the event before
    time zero), so that every curve visibly starts from the origin.

    Parameters
    ----------
    curves : pandas.DataFrame
        Long format: the ``group``, ``time`` and ``cif`` columns and optionally the band's
        (e.g. ``EmulationResult.curves``, or :func:`reawaken.epi.cumulative_incidence`'s
        output with ``group="cause", time="time"``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new pyplot figure.
    group : str, default "arm"
        The column whose values are the curves, in order of first appearance.
    time : str, default "day"
        The column of the time axis.
    cif : str, default "cif"
        The column of the cumulative incidence.
    lower, upper : str or None, default "ci_lower", "ci_upper"
        The band's columns (none drawn when None or absent; drawn where both are known).
    xlabel, ylabel : str, default "Days", "Cumulative incidence"
        Axis labels.
    title : str, optional
        Title of the axes (wrapped at 55 characters).
    time_label : str, optional
        The time axis's label naming its origin (``"Days since infection (time zero)"``);
        replaces ``xlabel`` when given.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one step line per group, labelled by its value (a note instead of
        the legend when no point is left to show).

    Raises
    ------
    KeyError
        If ``curves`` lacks the ``group``, ``time`` or ``cif`` column (checked before anything
        is drawn); the band's columns may be absent.

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots import file_axes, plot_cumulative_incidence
    >>> curves = pd.DataFrame({
    ...     "arm": ["infected"] * 3 + ["not infected"] * 3,
    ...     "day": [0, 90, 180] * 2,
    ...     "cif": [0.0, 0.05, 0.08, 0.0, 0.03, 0.05],
    ... })
    >>> ax = plot_cumulative_incidence(curves[curves["day"] > 0], ax=file_axes(6, 4),
    ...                                time_label="Days since infection (time zero)")
    >>> [line.get_label() for line in ax.get_lines()]
    ['infected', 'not infected']
    >>> [(float(x), float(y)) for x, y in ax.get_lines()[0].get_xydata()]
    [(0.0, 0.0), (90.0, 0.05), (180.0, 0.08)]
    >>> ax.get_xlabel()
    'Days since infection (time zero)'
    """
    require_columns(curves, [group, time, cif], "curves")
    ax = axes_or_new(ax, 6, 4)
    for k, (name, frame) in enumerate(curves.groupby(group, sort=False)):
        frame = _from_origin(frame[frame[cif].notna()].sort_values(time), time, cif, lower, upper)
        colour = COLOURS[k % len(COLOURS)]
        ax.step(frame[time], frame[cif], where="post", color=colour, label=str(name))
        if lower and upper and lower in frame and upper in frame:
            band = frame[[lower, upper]].notna().all(axis=1)
            if band.sum() > 1:
                ax.fill_between(
                    frame[time][band],
                    frame[lower][band].astype(float),
                    frame[upper][band].astype(float),
                    step="post",
                    color=colour,
                    alpha=0.2,
                    lw=0,
                )
    ax.set_xlabel(time_label or xlabel)
    ax.set_ylabel(ylabel)
    top = ax.get_ylim()[1]
    ax.set_ylim(bottom=-0.015 * top)  # curves at 0 drawn just above the axis, not on it
    ax.set_xlim(left=0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False)
    else:  # every point hidden (small counts): say so instead of an empty frame
        ax.text(0.5, 0.5, "no point to show", ha="center", va="center", transform=ax.transAxes)
    if title:
        ax.set_title(textwrap.fill(title, 55))
    return ax


def _from_origin(
    frame: pd.DataFrame, time: str, cif: str, lower: str | None, upper: str | None
) -> pd.DataFrame:
    """``frame`` (sorted by time) with a row at time 0 and incidence 0 in front, unless it
    has one at time 0 (or is empty: nothing is left to show)."""
    if frame.empty or (frame[time] <= 0).any():
        return frame
    columns = [time, cif, *(c for c in (lower, upper) if c and c in frame)]
    frame = frame[columns].astype(float)
    origin = pd.DataFrame([[0.0] * len(columns)], columns=columns)
    return pd.concat([origin, frame], ignore_index=True)
