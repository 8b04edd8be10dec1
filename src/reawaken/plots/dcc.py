"""Figures of DCC awakening: fold change against a reference arm over time, per arm (log axis).

The figure knows nothing of a particular experiment: the caller passes the arms' colours, the
sampling days (the ticks), the reference arm and any band of fold changes to shade (for a
protocol, all of these are read from it; see :mod:`reawaken.experiments.outputs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes


def plot_fold_change(
    curves: pd.DataFrame,
    points: pd.DataFrame | None = None,
    *,
    ax: Axes | None = None,
    title: str = "Dormant DCC awakening in the lung",
    colours: Mapping[str, str] | None = None,
    days: Sequence[float] | None = None,
    reference_arm: str | None = None,
    band: tuple[float, float] | None = None,
) -> Axes:
    """Fold change of total DCCs against the reference arm (log scale) against day, one line
    per arm.

    ``curves``: ``arm, day, fold_vs_mock`` on a fine grid (optional ``fold_vs_mock_q05`` /
    ``_q95`` columns draw a band); ``points``: the same at the sampling days, drawn as markers.
    ``colours``: colour of each arm (matplotlib's cycle for arms not in it); ``days``: the
    ticks of the day axis (matplotlib's own when not given); ``reference_arm``: drawn dashed on
    top (other flat arms may hide it) and named in the axis label; ``band``: a range of fold
    changes to shade (for example the one a study reports).
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 5), dpi=150)
    colours = colours or {}
    for arm, frame in curves.groupby("arm", sort=False):
        colour = colours.get(str(arm))
        reference = str(arm) == reference_arm
        ax.plot(
            frame["day"],
            frame["fold_vs_mock"],
            label=str(arm),
            color=colour,
            lw=1.5 if reference else 2,
            ls="--" if reference else "-",
            zorder=4 if reference else 2,
        )
        colour = ax.get_lines()[-1].get_color()  # the cycle's colour when none was given
        if {"fold_vs_mock_q05", "fold_vs_mock_q95"} <= set(frame.columns):
            ax.fill_between(
                frame["day"],
                frame["fold_vs_mock_q05"],
                frame["fold_vs_mock_q95"],
                color=colour,
                alpha=0.15,
                lw=0,
            )
        if points is not None:
            p = points[points["arm"] == arm]
            ax.scatter(p["day"], p["fold_vs_mock"], color=colour, s=18, zorder=3)
    ax.set_yscale("log")
    ax.set_xscale("symlog", linthresh=30.0, linscale=1.5)
    if days is not None:
        ax.set_xticks(list(days))
        ax.set_xticklabels([f"{d:g}" for d in days])
    ax.set_xlim(0, float(np.nanmax(curves["day"])))
    if band is not None:
        ax.axhspan(band[0], band[1], color="#d62728", alpha=0.06, lw=0)
    ax.set_xlabel("days after infection (linear to day 30, logarithmic after)")
    versus = reference_arm if reference_arm is not None else "reference"
    ax.set_ylabel(f"total DCCs, fold change vs {versus}")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def save_figure(ax: Axes, path: str) -> None:
    """Save the axes' figure as PNG (the caller makes the write atomic)."""
    ax.figure.tight_layout()
    ax.figure.savefig(path, format="png")
