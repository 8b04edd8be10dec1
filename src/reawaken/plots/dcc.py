"""Figures of DCC awakening: fold change against mock over time, per arm (log axis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

ARM_COLOURS = {
    "mock": "#7f7f7f",
    "influenza": "#d62728",
    "influenza+il6_ko": "#1f77b4",
    "influenza+anti_il6": "#17becf",
    "influenza+cd4_depleted": "#ff7f0e",
    "influenza+cd4_cd8_depleted": "#9467bd",
    "sars-cov-2": "#2ca02c",
}


def plot_fold_change(
    curves: pd.DataFrame,
    points: pd.DataFrame | None = None,
    *,
    ax: Axes | None = None,
    title: str = "Dormant DCC awakening in the lung",
) -> Axes:
    """Fold change of total DCCs against mock (log scale) against day, one line per arm.

    ``curves``: ``arm, day, fold_vs_mock`` on a fine grid (optional ``fold_vs_mock_q05`` /
    ``_q95`` columns draw a band); ``points``: the same at the sampling days, drawn as markers.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 5), dpi=150)
    for arm, frame in curves.groupby("arm", sort=False):
        colour = ARM_COLOURS.get(str(arm))
        reference = str(arm) == "mock"  # drawn dashed on top: other flat arms may hide it
        ax.plot(
            frame["day"],
            frame["fold_vs_mock"],
            label=str(arm),
            color=colour,
            lw=1.5 if reference else 2,
            ls="--" if reference else "-",
            zorder=4 if reference else 2,
        )
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
    ticks = [0, 3, 6, 9, 15, 28, 60, 270]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.set_xlim(0, float(np.nanmax(curves["day"])))
    ax.axhspan(100, 1000, color="#d62728", alpha=0.06, lw=0)
    ax.set_xlabel("days after infection (linear to day 30, logarithmic after)")
    ax.set_ylabel("total DCCs, fold change vs mock")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def save_figure(ax: Axes, path: str) -> None:
    """Save the axes' figure as PNG (the caller makes the write atomic)."""
    ax.figure.tight_layout()
    ax.figure.savefig(path, format="png")
