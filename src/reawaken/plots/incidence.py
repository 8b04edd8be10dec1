"""Cumulative incidence curves (step functions) with pointwise confidence bands."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

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
) -> Axes:
    """One right-continuous step curve per value of ``group`` (the band where given).

    ``curves`` is long: ``group, time, cif`` and optionally the band columns.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4), dpi=150)
    for k, (name, frame) in enumerate(curves.groupby(group, sort=False)):
        frame = frame.sort_values(time)
        colour = COLOURS[k % len(COLOURS)]
        ax.step(frame[time], frame[cif], where="post", color=colour, label=str(name))
        if lower and upper and lower in frame and upper in frame:
            band = frame[[lower, upper]].notna().all(axis=1)
            if band.any():
                ax.fill_between(
                    frame[time][band],
                    frame[lower][band],
                    frame[upper][band],
                    step="post",
                    color=colour,
                    alpha=0.2,
                    lw=0,
                )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax
