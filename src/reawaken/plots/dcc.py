"""Figures of DCC awakening: fold change against a reference arm over time, per arm (log axis).

The figure knows nothing of a particular experiment: the caller passes the arms' colours, the
sampling days (the ticks), the reference arm and any band of fold changes to shade (for a
protocol, all of these are read from it; see :mod:`reawaken.experiments.outputs`).

:func:`plot_fold_change` draws every arm on one axes (clear for single runs, whose lines
separate); :func:`plot_fold_change_panels` draws one panel per arm on shared axes, for
ensembles, whose 5-95% bands would overlap into one wash on a single axes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from reawaken.plots import axes_or_new, require_columns

LINEAR_TO = 30.0
"""Day up to which the day axis is linear; logarithmic after (a break marks it)."""
BREAK_ID = "axis-break"
"""The ``gid`` of the marker drawn on the day axis where its scale changes."""
QUANTILES = ("fold_vs_mock_q05", "fold_vs_mock_q95")
BAND_COLOUR = "#d62728"
REFERENCE_COLOUR = "#555555"
DAY_LABEL = f"Days after infection (linear to day {LINEAR_TO:g}, logarithmic after //)"


def _has_bands(frame: pd.DataFrame) -> bool:
    return set(QUANTILES) <= set(frame.columns)


def _arm_label(arm: str, n: int | None, bands: bool) -> str:
    """``"treated (n = 200, median and 5-95% band)"``; the name alone for a single run."""
    if n is None:
        return arm
    return f"{arm} (n = {n}, median and 5-95% band)" if bands else f"{arm} (n = {n}, median)"


def _band_label(band: tuple[float, float], band_label: str | None) -> str:
    return band_label or f"study: {band[0]:g}-{band[1]:g}x (reported range)"


def _ensemble_size(curves: pd.DataFrame, points: pd.DataFrame | None, n: int | None) -> int | None:
    """``n`` if given, else an ``n`` column of ``points`` or ``curves`` (one value)."""
    if n is not None:
        return int(n)
    for frame in (points, curves):
        if frame is not None and "n" in frame and frame["n"].nunique() == 1:
            return int(frame["n"].iloc[0])
    return None


def _day_axis(ax: Axes, days: Sequence[float] | None, end: float) -> None:
    """Linear to :data:`LINEAR_TO`, logarithmic after, the change marked on the axis."""
    ax.set_xscale("symlog", linthresh=LINEAR_TO, linscale=1.5)
    if days is not None:
        ax.set_xticks(list(days))
        ax.set_xticklabels([f"{d:g}" for d in days])
    ax.set_xlim(0, end)
    if end <= LINEAR_TO:
        return
    on_axis = blended_transform_factory(ax.transData, ax.transAxes)
    ax.vlines(LINEAR_TO, 0, 1, transform=on_axis, color="grey", lw=0.8, ls=":", zorder=1)
    ax.text(  # the break on the axis line: white behind it cuts the spine
        LINEAR_TO,
        0.0,
        "//",
        transform=on_axis,
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        clip_on=False,
        zorder=6,
        gid=BREAK_ID,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
    )
    ax.text(
        LINEAR_TO,
        0.1,
        " log scale \u2192",
        transform=on_axis,
        ha="left",
        va="bottom",
        fontsize=7,
        color="#444444",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.5},
    )


def _draw_arm(
    ax: Axes,
    arm: str,
    frame: pd.DataFrame,
    points: pd.DataFrame | None,
    colour: str | None,
    *,
    reference: bool,
    label: str,
    fill_alpha: float,
) -> tuple[Any, ...]:
    """One arm's line, band and markers; returns the handles its legend entry shows."""
    (line,) = ax.plot(
        frame["day"],
        frame["fold_vs_mock"],
        label=label,
        color=colour if not reference or colour else REFERENCE_COLOUR,
        lw=1.5 if reference else 2,
        ls="--" if reference else "-",
        zorder=4 if reference else 3,
    )
    colour = line.get_color()  # the cycle's colour when none was given
    handles: tuple[Any, ...] = (line,)
    if _has_bands(frame) and not reference:
        lo, hi = frame[QUANTILES[0]], frame[QUANTILES[1]]
        ax.fill_between(frame["day"], lo, hi, color=colour, alpha=fill_alpha, lw=0, zorder=2)
        for edge in (lo, hi):  # the band's edges, so that overlapping bands stay apart
            ax.plot(frame["day"], edge, color=colour, lw=0.6, alpha=0.7, label="_band edge")
        handles = (Patch(color=colour, alpha=max(fill_alpha, 0.25), lw=0), line)
    if points is not None:
        p = points[points["arm"] == arm]
        ax.scatter(p["day"], p["fold_vs_mock"], color=colour, s=18, zorder=5)
    return handles


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
    n: int | None = None,
    band_label: str | None = None,
) -> Axes:
    """Fold change of total DCCs against the reference arm (log scale) against day, one line
    per arm on one axes.

    The day axis is linear to day 30 and logarithmic after; a ``//`` on the axis (``gid``
    :data:`BREAK_ID`), a dotted line and "log scale" mark where the scale changes. Quantile
    bands are drawn faint with their edges as thin lines; for ensembles of several arms
    :func:`plot_fold_change_panels` (one panel per arm) is easier to read.

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
    n : int, optional
        Individuals per arm of an ensemble, named in the legend (default: a single-valued ``n``
        column of ``points`` or ``curves``, if any).
    band_label : str, optional
        The shaded band's legend entry (default ``"study: <lo>-<hi>x (reported range)"``).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one line per arm, labelled by its name (and ``n`` for an
        ensemble), the reference arm dashed, the band in the legend.

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
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['sham', 'treated', 'study: 100-1000x (reported range)']

    For a protocol's arms: ``curves = reawaken.simulate.summarise(run_protocol(protocol,
    days=...))``, with ``colours=protocol.colours``, ``days=protocol.days``,
    ``reference_arm=protocol.reference_arm`` and ``band=protocol.fold_band``.
    """
    require_columns(curves, ["arm", "day", "fold_vs_mock"], "curves")
    if points is not None:
        require_columns(points, ["arm", "day", "fold_vs_mock"], "points")
    ax = axes_or_new(ax, 8, 5)
    colours = colours or {}
    size = _ensemble_size(curves, points, n)
    bands = _has_bands(curves)
    handles, labels = [], []
    for arm, frame in curves.groupby("arm", sort=False):
        reference = str(arm) == reference_arm
        label = str(arm) if reference else _arm_label(str(arm), size, bands)
        handles.append(
            _draw_arm(
                ax,
                str(arm),
                frame,
                points,
                colours.get(str(arm)),
                reference=reference,
                label=label,
                fill_alpha=0.08,
            )
        )
        labels.append(label)
    ax.set_yscale("log")
    _day_axis(ax, days, float(np.nanmax(curves["day"])))
    if band is not None:
        shade = ax.axhspan(band[0], band[1], color=BAND_COLOUR, alpha=0.06, lw=0)
        handles.append((shade,))
        labels.append(_band_label(band, band_label))
    ax.set_xlabel(DAY_LABEL)
    versus = reference_arm if reference_arm is not None else "reference"
    ax.set_ylabel(f"total DCCs, fold change vs {versus}")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(
        [h if len(h) > 1 else h[0] for h in handles],
        labels,
        frameon=False,
        fontsize=8,
        loc="center left",  # beside the axes: rising curves pass through every corner
        bbox_to_anchor=(1.01, 0.5),
    )
    return ax


def plot_fold_change_panels(
    curves: pd.DataFrame,
    points: pd.DataFrame | None = None,
    *,
    figure: Figure | None = None,
    title: str = "Dormant DCC awakening in the lung",
    colours: Mapping[str, str] | None = None,
    days: Sequence[float] | None = None,
    reference_arm: str | None = None,
    band: tuple[float, float] | None = None,
    n: int | None = None,
    band_label: str | None = None,
    ncols: int = 3,
) -> np.ndarray:
    """Fold change of total DCCs against the reference arm, one panel per arm on shared axes
    (small multiples): for ensembles, whose bands would blur together on one axes.

    Each panel shows its arm's median and 5-95% band, the reference arm dashed, the shaded
    band and the day axis of :func:`plot_fold_change` (linear to day 30, logarithmic after,
    the change marked ``//`` on the axis). One legend for the figure names each arm with its
    ``n``, the reference arm and the shaded band.

    Parameters
    ----------
    curves : pandas.DataFrame
        As for :func:`plot_fold_change`.
    points : pandas.DataFrame, optional
        The same columns at the sampling days, drawn as markers.
    figure : matplotlib.figure.Figure, optional
        The figure to draw on (its axes are replaced by the panels); default a new pyplot
        figure sized to the panels.
    title : str, optional
        The figure's title (the title of its legend, which sits on top).
    colours, days, reference_arm, band, n, band_label
        As for :func:`plot_fold_change`.
    ncols : int, default 3
        Panels per row.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The panels, one per arm other than the reference arm (in the order of ``curves``),
        each titled by its arm; ``panels[0].figure`` is the figure, whose legend
        (``figure.legends[0]``) has one entry per arm.

    Raises
    ------
    KeyError
        If ``curves`` or ``points`` lacks the ``arm``, ``day`` or ``fold_vs_mock`` column
        (checked before anything is drawn).

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots import file_axes
    >>> from reawaken.plots.dcc import plot_fold_change_panels
    >>> curves = pd.DataFrame({"arm": ["sham"] * 3 + ["a"] * 3 + ["b"] * 3,
    ...                        "day": [0.0, 20.0, 90.0] * 3,
    ...                        "fold_vs_mock": [1, 1, 1, 1, 20, 150, 1, 3, 9.0]})
    >>> curves["fold_vs_mock_q05"] = curves["fold_vs_mock"] / 2
    >>> curves["fold_vs_mock_q95"] = curves["fold_vs_mock"] * 2
    >>> panels = plot_fold_change_panels(curves, figure=file_axes(8, 4).figure, n=50,
    ...                                  reference_arm="sham", band=(100, 1000))
    >>> [ax.get_title() for ax in panels]
    ['a', 'b']
    >>> [t.get_text() for t in panels[0].figure.legends[0].get_texts()]
    ['a (n = 50, median and 5-95% band)', 'b (n = 50, median and 5-95% band)', 'sham', \
'study: 100-1000x (reported range)']
    """
    require_columns(curves, ["arm", "day", "fold_vs_mock"], "curves")
    if points is not None:
        require_columns(points, ["arm", "day", "fold_vs_mock"], "points")
    arms = [str(a) for a in dict.fromkeys(curves["arm"]) if str(a) != reference_arm]
    ncols = max(1, min(ncols, len(arms)))
    nrows = max(1, -(-len(arms) // ncols))
    if figure is None:
        figure = axes_or_new(None, 3.6 * ncols + 0.6, 2.8 * nrows + 1.4).figure
    for old in list(figure.axes):
        old.remove()
    grid = figure.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    colours = colours or {}
    size = _ensemble_size(curves, points, n)
    bands = _has_bands(curves)
    reference = curves[curves["arm"].astype(str) == reference_arm]
    end = float(np.nanmax(curves["day"]))
    entries: dict[str, Any] = {}  # legend: the arms, then the reference arm and the band
    fixed: dict[str, Any] = {}
    for ax, arm in zip(grid.flat, arms, strict=False):
        frame = curves[curves["arm"].astype(str) == arm]
        label = _arm_label(arm, size, bands)
        handle = _draw_arm(
            ax, arm, frame, points, colours.get(arm), reference=False, label=label, fill_alpha=0.25
        )
        entries[label] = handle if len(handle) > 1 else handle[0]
        if len(reference):
            (line,) = _draw_arm(
                ax,
                str(reference_arm),
                reference,
                None,
                colours.get(str(reference_arm)),
                reference=True,
                label=str(reference_arm),
                fill_alpha=0.0,
            )
            fixed[str(reference_arm)] = line
        if band is not None:
            fixed[_band_label(band, band_label)] = ax.axhspan(
                band[0], band[1], color=BAND_COLOUR, alpha=0.08, lw=0
            )
        ax.set_yscale("log")
        _day_axis(ax, days, end)
        ax.set_title(arm, fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(labelsize=8)
    for ax in grid.flat[len(arms) :]:
        ax.set_visible(False)
    versus = reference_arm if reference_arm is not None else "reference"
    figure.supylabel(f"total DCCs, fold change vs {versus}", fontsize=10)
    figure.supxlabel(DAY_LABEL, fontsize=10)
    entries.update(fixed)
    figure.set_layout_engine("constrained")  # makes room for the figure's legend below
    figure.legend(
        list(entries.values()),
        list(entries),
        loc="outside upper center",
        ncols=min(3, len(entries)),
        frameon=False,
        fontsize=8,
        title=title,  # the figure's title, above its legend
        title_fontsize=11,
    )
    return np.asarray(list(grid.flat)[: len(arms)])


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
    if ax.figure.get_layout_engine() is None:  # a figure with a layout engine keeps its own
        ax.figure.tight_layout()
    ax.figure.savefig(path, format="png")
