"""reawaken.plots: figures as functions that take ``ax=`` and return it.

Importing this package imports no matplotlib: :func:`plot_forest`, :func:`readable_label`,
:func:`plot_fold_change`, :func:`plot_fold_change_panels` and
:func:`plot_cumulative_incidence` load their modules (and matplotlib, without choosing a
backend) on first use. Called without ``ax``, a plot function draws on a new pyplot figure, as a
notebook user expects; figures written to files use :func:`file_axes`, a figure that pyplot does
not manage, so that writing them needs no display and changes no pyplot state.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reawaken._lazy import lazy_names

__getattr__, __dir__, _plots = lazy_names(__name__, __file__)
__all__ = [*_plots, "file_axes"]

if TYPE_CHECKING:  # the plot functions (for type checkers, editors and lazy_names)
    from matplotlib.axes import Axes

    from reawaken.plots.dcc import plot_fold_change as plot_fold_change
    from reawaken.plots.dcc import plot_fold_change_panels as plot_fold_change_panels
    from reawaken.plots.forest import plot_forest as plot_forest
    from reawaken.plots.forest import readable_label as readable_label
    from reawaken.plots.incidence import plot_cumulative_incidence as plot_cumulative_incidence


def file_axes(width: float, height: float, dpi: int = 150) -> Axes:
    """Axes on a new figure outside pyplot, for writing to a file.

    The figure is not registered with pyplot: it needs no display, changes no pyplot state and
    is freed when no longer referenced. Save it with ``ax.figure.savefig(path)``.

    Parameters
    ----------
    width, height : float
        Figure size in inches.
    dpi : int, default 150
        Resolution in dots per inch.

    Returns
    -------
    matplotlib.axes.Axes
        The single axes of the new figure (``ax.figure`` is the figure).

    Raises
    ------
    ValueError
        If the size is not positive and finite (matplotlib's check).

    Examples
    --------
    >>> from reawaken.plots import file_axes
    >>> ax = file_axes(6, 4)
    >>> [float(v) for v in ax.figure.get_size_inches()]
    [6.0, 4.0]
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi).subplots()


def require_columns(frame: Any, columns: Iterable[str | None], name: str) -> None:
    """Raise the KeyError of every plot function, before anything is drawn, when ``frame``
    (called ``name`` in the message) lacks one of ``columns`` (None entries are skipped)."""
    missing = [c for c in columns if c is not None and c not in frame.columns]
    if missing:
        raise KeyError(
            f"{name} has no column {', '.join(map(repr, missing))} "
            f"(its columns: {', '.join(map(str, frame.columns))})"
        )


def axes_or_new(ax: Axes | None, width: float, height: float) -> Axes:
    """``ax`` if given, else the axes of a new pyplot figure of this size (inches, 150 dpi):
    where each plot function draws when called without ``ax``, as a notebook user expects."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=150)[1]
