"""Forest plot: ratio estimates with confidence intervals, one row per term (log axis), the
numbers written beside each row; and :func:`readable_label`, the words a reader sees for a
table's identifiers (terms, windows, covariates)."""

from __future__ import annotations

import math
import re
import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, NullFormatter
from matplotlib.transforms import blended_transform_factory

from reawaken.plots import axes_or_new, require_columns

FONT_SIZE = 9  # points: row labels and the numbers beside them, whatever the number of rows
ROW_HEIGHT = 0.35  # inches per row
MARGINS = 1.4  # inches: title, ratio axis and its label
MAX_HEIGHT = 14.0  # inches: beyond it the rows are drawn closer together
NOT_ESTIMABLE = "not estimable"
HIDDEN = "hidden (small count)"

_WORDS = {
    "any": "any infection",
    "sars-cov-2": "SARS-CoV-2",
    "covid": "COVID-19",
    "covid19": "COVID-19",
    "il6": "IL-6",
    "cox": "Cox",
    "sccs": "self-controlled case series",
    "emulation": "target trial emulation",
    "competing": "competing risks",
}
_ROMAN = re.compile(r"^(stage|grade)_?([IVX]+[ABC]?|\d)$", re.IGNORECASE)
_PER = re.compile(r"^(?P<what>[a-z]+?)_?(?:per_?)?(?P<n>\d+)_?(?P<unit>y|yr|years?)?$")
_RATIO_AT = re.compile(r"^(?P<what>risk|hazard|rate|odds)_(?:ratio|difference)_(?P<day>\d+)d$")
_WINDOW = re.compile(r"^(?:days )?(?P<a>\d+)-(?P<b>\d+)$")
_AFTER = re.compile(r"^(?:days )?(?:>|gt_?)(?P<a>\d+)$")
_TERM = re.compile(r"^(?P<exposure>.+?)_(?:(?P<a>\d+)_(?P<b>\d+)|gt(?P<after>\d+))$")
_UNITS = {"y": "years", "yr": "years", "year": "years", "years": "years", None: "years"}


def readable_label(text: object) -> str:
    """The words a reader sees for an identifier of a results table.

    One mapping for every figure: windows get their unit (``"0-30"`` -> ``"0-30 days"``,
    ``">365"`` -> ``">365 days"``), exposure terms their window (``"any_0_30"`` ->
    ``"Any infection, 0-30 days"``), ratios at a day their words (``"risk_ratio_91d"`` ->
    ``"Risk ratio at 91 days"``), covariates their name (``"stage_II"`` -> ``"Stage II"``,
    ``"age_per_10y"`` and ``"age10"`` -> ``"Age (per 10 years)"``); anything else has its
    underscores made spaces and its first letter capitalised (``"lung_metastasis"`` ->
    ``"Lung metastasis"``). Text that is already words only has its first letter capitalised.

    Parameters
    ----------
    text : object
        The identifier (converted with ``str``; NA gives ``""``).

    Returns
    -------
    str
        The label.

    Raises
    ------
    None
        Every value has a label.

    Examples
    --------
    >>> from reawaken.plots import readable_label
    >>> [readable_label(t) for t in ["risk_ratio_91d", "0-30", ">365", "stage_II"]]
    ['Risk ratio at 91 days', '0-30 days', '>365 days', 'Stage II']
    >>> [readable_label(t) for t in ["age_per_10y", "any_gt365", "lung_metastasis"]]
    ['Age (per 10 years)', 'Any infection, >365 days', 'Lung metastasis']
    """
    if text is None or (isinstance(text, float) and math.isnan(text)) or text is pd.NA:
        return ""
    s = str(text).strip()
    if " " in s and "_" not in s and not _WINDOW.match(s) and not _AFTER.match(s):
        return _capital(s)  # already words
    if m := _WINDOW.match(s):
        return f"{m['a']}-{m['b']} days"
    if m := _AFTER.match(s):
        return f">{m['a']} days"
    if m := _RATIO_AT.match(s.lower()):
        kind = s.lower().split("_")[1]
        return f"{m['what'].capitalize()} {kind} at {m['day']} days"
    if m := _ROMAN.match(s):
        return f"{m[1].capitalize()} {m[2].upper()}"
    if (m := _PER.match(s.lower())) and m["what"] in ("age",):
        return f"Age (per {m['n']} {_UNITS[m['unit']]})"
    if m := _TERM.match(s):
        window = f"{m['a']}-{m['b']} days" if m["after"] is None else f">{m['after']} days"
        return f"{_capital(_words(m['exposure']))}, {window}"
    return _capital(_words(s))


def _words(s: str) -> str:
    if s.lower() in _WORDS:
        return _WORDS[s.lower()]
    return " ".join(_WORDS.get(w.lower(), w) for w in s.split("_"))


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:] if s[:1].islower() else s


def forest_height(rows: int) -> float:
    """Height in inches of a forest plot of ``rows`` rows: :data:`ROW_HEIGHT` per row and
    :data:`MARGINS`, at most :data:`MAX_HEIGHT` (the font size does not change).

    Parameters
    ----------
    rows : int
        The number of rows (at least one is allowed for).

    Returns
    -------
    float
        Inches.

    Raises
    ------
    None
        Any count has a height.

    Examples
    --------
    >>> from reawaken.plots.forest import forest_height
    >>> forest_height(4), forest_height(100)
    (2.8, 14.0)
    """
    return round(min(MARGINS + ROW_HEIGHT * max(rows, 1), MAX_HEIGHT), 2)


def _number(v: float) -> str:
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _row_text(
    r: float, lo: float, hi: float, events: object, status: object, has_events: bool
) -> str:
    """``"2.31 (1.09-4.82), 7 events"``; for a row without a ratio, what it is instead."""
    words = str(status) if isinstance(status, str) and status != "estimated" else None
    if not (np.isfinite(r) and r > 0):
        if words:
            return words
        hidden = has_events and (events is None or events is pd.NA or pd.isna(events))
        return HIDDEN if hidden else NOT_ESTIMABLE
    ci = (
        f"({_number(lo)}-{_number(hi)})"
        if np.isfinite(lo) and np.isfinite(hi) and lo > 0
        else "(interval not estimable)"
    )
    text = f"{_number(r)} {ci}"
    if has_events and events is not None and events is not pd.NA and not pd.isna(events):
        n = int(events)
        text += f", {n} event" + ("" if n == 1 else "s")
    if words:  # estimated but flagged (a fit that did not converge)
        text += f" [{words}]"
    return text


def _header(xlabel: str) -> str:
    """The text column's heading: ``xlabel`` when short, else "Ratio" and the interval named
    in its brackets."""
    if len(xlabel) <= 28:
        return xlabel
    m = re.search(r"\(([^()]*)\)\s*$", xlabel)
    return f"Ratio ({m[1]})" if m else "Ratio (interval)"


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
    events: str | None = None,
    status: str | None = "status",
    numbers: bool = True,
) -> Axes:
    """Forest plot: each row's ratio as a square and its interval as a line, top row first,
    with the numbers written beside it.

    The ratio axis is logarithmic, with a dashed line at ``reference``. To the right of the
    axes a text column gives each row's ratio and interval (``"2.31 (1.09-4.82)"``), with its
    events when ``events`` names a column (``", 7 events"``). A row without a finite positive
    ratio is not drawn but says why: its ``status`` (``"not converged"``), ``"hidden (small
    count)"`` when its events are hidden, or else ``"not estimable"``. Labels are drawn as
    given (map identifiers with :func:`readable_label` first); text is :data:`FONT_SIZE`
    points whatever the number of rows (size a figure with :func:`forest_height`).

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
        Label of the ratio axis; its bracketed part also heads the text column.
    title : str, optional
        Title of the axes (wrapped at 60 characters).
    reference : float, default 1.0
        Where the dashed line of no effect is drawn.
    truth : pandas.Series, optional
        True values in the order of the rows, drawn as open circles (for synthetic cohorts).
    events : str, optional
        A column of event counts, written after each row's interval (NA: hidden).
    status : str or None, default "status"
        A column of words (``estimated``, ``not estimable``, ``not converged``), used when
        present: a row without a ratio shows them, a flagged row with one has them appended.
    numbers : bool, default True
        Whether to write the text column.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one y tick per row of ``estimates``, labelled by ``label``, top row
        first; the text column is the axes' texts (``ax.texts``), heading first.

    Raises
    ------
    KeyError
        If ``estimates`` lacks the ``label``, ``ratio``, ``lower``, ``upper`` or ``events``
        column (checked before anything is drawn).

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.plots import file_axes, plot_forest
    >>> est = pd.DataFrame({"term": ["0-30", "31-90", ">90"], "ratio": [1.8, None, 1.0],
    ...                     "ci_lower": [1.2, None, 0.8], "ci_upper": [2.7, None, 1.25],
    ...                     "events": [12, 0, 40]})
    >>> ax = plot_forest(est, ax=file_axes(6, 2.5), events="events")
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_xscale()
    (['0-30', '31-90', '>90'], 'log')
    >>> [t.get_text() for t in ax.texts]
    ['Hazard ratio (95% CI)', '1.80 (1.20-2.70), 12 events', 'not estimable', \
'1.00 (0.80-1.25), 40 events']
    """
    require_columns(estimates, [label, ratio, lower, upper, events], "estimates")
    n = len(estimates)
    ax = axes_or_new(ax, 7.5, forest_height(n))
    y = np.arange(n)[::-1]
    r = estimates[ratio].to_numpy(dtype=float, na_value=np.nan)
    lo = estimates[lower].to_numpy(dtype=float, na_value=np.nan)
    hi = estimates[upper].to_numpy(dtype=float, na_value=np.nan)
    point = np.isfinite(r) & (r > 0)
    ok = point & np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
    ax.hlines(y[ok], lo[ok], hi[ok], color="black", lw=1.5)
    ax.plot(r[point], y[point], "s", color="#1f77b4", ms=7, label="estimate")
    if truth is not None:
        ax.plot(np.asarray(truth, float), y, "o", mfc="none", color="#d62728", label="truth")
        ax.legend(frameon=False, loc="best", fontsize=FONT_SIZE - 1)
    ax.axvline(reference, color="grey", ls="--", lw=1)
    ax.set_xscale("log")
    _ratio_ticks(ax, np.concatenate([lo[ok], hi[ok], r[point], [reference]]))
    ax.set_yticks(y)
    ax.set_yticklabels([str(v) for v in estimates[label]], fontsize=FONT_SIZE)
    ax.set_ylim(-0.7, n + 0.1)  # a half row on top for the text column's heading
    ax.set_xlabel(xlabel, fontsize=FONT_SIZE + 1)
    if numbers:
        _text_column(ax, estimates, y, r, lo, hi, events, status, xlabel)
    if title:
        ax.set_title(textwrap.fill(title, 60), fontsize=FONT_SIZE + 2)
    return ax


def _ratio_ticks(ax: Axes, shown: np.ndarray) -> None:
    nice = np.array([0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
    ticks = nice[(nice >= shown.min() / 1.5) & (nice <= shown.max() * 1.5)]
    ax.set_xticks(ticks)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelsize=FONT_SIZE)


def _text_column(
    ax: Axes,
    estimates: pd.DataFrame,
    y: np.ndarray,
    r: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    events: str | None,
    status: str | None,
    xlabel: str,
) -> None:
    """The numbers beside each row, right of the axes (the layout makes room for them)."""
    where = blended_transform_factory(ax.transAxes, ax.transData)
    ax.text(  # just above the top row, below the title
        1.03,
        len(estimates) - 0.35,
        _header(xlabel),
        transform=where,
        ha="left",
        va="center",
        fontsize=FONT_SIZE,
        fontweight="bold",
    )
    n = len(estimates)
    counts = estimates[events].tolist() if events else [None] * n
    words = estimates[status].tolist() if status and status in estimates else [None] * n
    for k in range(n):
        text = _row_text(r[k], lo[k], hi[k], counts[k], words[k], events is not None)
        plain = np.isfinite(r[k]) and r[k] > 0
        ax.text(
            1.03,
            y[k],
            text,
            transform=where,
            ha="left",
            va="center",
            fontsize=FONT_SIZE,
            color="black" if plain else "#555555",
            style="normal" if plain else "italic",
        )
