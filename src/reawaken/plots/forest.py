"""Forest plot: ratio estimates with confidence intervals, one row per term (log axis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter

from reawaken.plots import axes_or_new, require_columns


def plot_forest(
    estimates: pd.DataFrame,
    *,
    ax: Axes | None = None,
    label: str = "term",
    ratio: str = "ratio",
    lower: str = "ci_lower",
    upper: str = "ci_upper",
    xlabel: str = "Hazard ratio (95% CI)",
    title: str | None = None,
    reference: float = 1.0,
    truth: pd.Series | None = None,
) -> Axes:
    """Forest plot: each row's ratio as a square and its interval as a line, top row first.

    The ratio axis is logarithmic, with a dashed line at ``reference``. Rows whose ratio or
    interval is not finite and positive are listed but not drawn.

    Parameters
    ----------
    estimates : pandas.DataFrame
        One row per estimate, with the standard columns (``term, ratio, ci_lower,
        ci_upper``), e.g. ``fit.estimates()``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; by default a new pyplot figure sized to the rows.
    label : str, default "term"
        The column whose values label the rows (e.g. the time-since-infection window).
    ratio, lower, upper : str, default "ratio", "ci_lower", "ci_upper"
        The columns of the ratio and its confidence limits.
    xlabel : str, default "Hazard ratio (95% CI)"
        Label of the ratio axis.
    title : str, optional
        Title of the axes.
    reference : float, default 1.0
        Where the dashed line of no effect is drawn.
    truth : pandas.Series, optional
        True values in the order of the rows, drawn as open circles (for synthetic cohorts).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one y tick per row of ``estimates``, labelled by ``label``, top row
        first.

    Raises
    ------
    KeyError
        If ``estimates`` lacks the ``label``, ``ratio``, ``lower`` or ``upper`` column (checked
        before anything is drawn).

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots import file_axes, plot_forest
    >>> est = pd.DataFrame({"term": ["0-30", "31-90", ">90"], "ratio": [1.8, 1.3, 1.0],
    ...                     "ci_lower": [1.2, 0.9, 0.8], "ci_upper": [2.7, 1.9, 1.25]})
    >>> ax = plot_forest(est, ax=file_axes(6, 2.5), xlabel="Hazard ratio (95% CI)")
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_xscale()
    (['0-30', '31-90', '>90'], 'log')
    """
    require_columns(estimates, [label, ratio, lower, upper], "estimates")
    ax = axes_or_new(ax, 6, 1.0 + 0.45 * max(len(estimates), 1))
    y = np.arange(len(estimates))[::-1]
    r = estimates[ratio].to_numpy(dtype=float)
    lo = estimates[lower].to_numpy(dtype=float)
    hi = estimates[upper].to_numpy(dtype=float)
    ok = np.isfinite(r) & (r > 0) & np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
    ax.hlines(y[ok], lo[ok], hi[ok], color="black", lw=1.5)
    ax.plot(r[ok], y[ok], "s", color="#1f77b4", ms=7, label="estimate")
    if truth is not None:
        ax.plot(np.asarray(truth, float), y, "o", mfc="none", color="#d62728", label="truth")
        ax.legend(frameon=False, loc="best", fontsize=8)
    ax.axvline(reference, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    shown = np.concatenate([lo[ok], hi[ok], r[ok], [reference]])
    nice = np.array([0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
    ticks = nice[(nice >= shown.min() / 1.5) & (nice <= shown.max() * 1.5)]
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y)
    ax.set_yticklabels([str(v) for v in estimates[label]])
    ax.set_ylim(-0.7, len(estimates) - 0.3)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return ax
