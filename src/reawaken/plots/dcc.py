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

from reawaken.plots import axes_or_new, require_columns


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

    The day axis is linear to day 30 and logarithmic after.

    Parameters
    ----------
    curves : pandas.DataFrame
        ``arm, day, fold_vs_mock`` on a fine grid of days (:func:`reawaken.simulate.summarise`);
        ``fold_vs_mock_q05`` and ``fold_vs_mock_q95`` columns, if present, draw a band.
    points : pandas.DataFrame, optional
        The same columns at the sampling days, drawn as markers.
    ax : matplotlib.axes.Axes, optional
        The axes to draw on (default: a new pyplot figure).
    title : str, optional
        The axes' title.
    colours : mapping of str to str, optional
        Colour of each arm (``Protocol.colours``); matplotlib's cycle for arms not in it.
    days : sequence of float, optional
        The ticks of the day axis (matplotlib's own when not given).
    reference_arm : str, optional
        Drawn dashed on top (other flat arms may hide it) and named in the axis label.
    band : (float, float), optional
        A range of fold changes to shade (for example the one a study reports).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one line per arm, labelled by its name, the reference arm dashed.

    Raises
    ------
    KeyError
        If ``curves`` or ``points`` lacks the ``arm``, ``day`` or ``fold_vs_mock`` column
        (checked before anything is drawn).

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots import file_axes
    >>> from reawaken.plots.dcc import plot_fold_change
    >>> curves = pd.DataFrame({"arm": ["sham"] * 3 + ["treated"] * 3,
    ...                        "day": [0.0, 5.0, 10.0] * 2,
    ...                        "fold_vs_mock": [1.0, 1.0, 1.0, 1.0, 20.0, 150.0]})
    >>> ax = plot_fold_change(curves, ax=file_axes(8, 5), reference_arm="sham",
    ...                       colours={"treated": "#aa3377"}, days=[0, 5, 10], band=(100, 1000))
    >>> [line.get_label() for line in ax.get_lines()], ax.get_yscale()
    (['sham', 'treated'], 'log')
    >>> ax.get_ylabel()
    'total DCCs, fold change vs sham'

    For a protocol's arms: ``curves = reawaken.simulate.summarise(run_protocol(protocol,
    days=...))``, with ``colours=protocol.colours``, ``days=protocol.days``,
    ``reference_arm=protocol.reference_arm`` and ``band=protocol.fold_band``.
    """
    require_columns(curves, ["arm", "day", "fold_vs_mock"], "curves")
    if points is not None:
        require_columns(points, ["arm", "day", "fold_vs_mock"], "points")
    ax = axes_or_new(ax, 8, 5)
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
    """Save the axes' figure as PNG, laid out tightly (the caller makes the write atomic).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes of the figure to save.
    path : str
        The file to write.

    Returns
    -------
    None

    Raises
    ------
    OSError
        If ``path``'s folder does not exist or cannot be written (the file is written in
        place: a caller wanting it whole writes to a temporary name and renames it).

    Examples
    --------
    >>> from pathlib import Path
    >>> from reawaken.plots import file_axes
    >>> from reawaken.plots.dcc import save_figure
    >>> ax = file_axes(4, 3)
    >>> save_figure(ax, "empty.png")
    >>> Path("empty.png").read_bytes()[:4]
    b'\x89PNG'
    """
    ax.figure.tight_layout()
    ax.figure.savefig(path, format="png")
