"""E-values: how strong unmeasured confounding would have to be to explain an estimate away.

The E-value is the minimum strength of association, on the risk-ratio scale, that an unmeasured
confounder would need to have with both the exposure and the outcome, conditional on the
measured covariates, to fully explain away an observed exposure-outcome association
(VanderWeele & Ding, "Sensitivity analysis in observational research: introducing the
E-value", Ann Intern Med 167:268-274, 2017):

- for a risk ratio ``RR > 1``: ``E = RR + sqrt(RR * (RR - 1))``; for ``RR < 1`` use ``1 / RR``;
- for the confidence interval: the same formula applied to the limit closer to 1, and ``E = 1``
  when the interval contains 1;
- a hazard ratio or odds ratio is first turned into an approximate risk ratio: unchanged when
  the outcome is rare (under about 15% by the end of follow-up); when it is common, ``sqrt(OR)``
  for an odds ratio and ``(1 - 0.5 ** sqrt(HR)) / (1 - 0.5 ** sqrt(1 / HR))`` for a hazard ratio
  (VanderWeele, "On a square-root transformation of the odds ratio for a common outcome",
  Epidemiology 28:e58-e60, 2017; VanderWeele, Biometrics 76:746-752, 2020).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reawaken.errors import InputError

MEASURES = ("RR", "HR", "OR")


def _risk_ratio(value: np.ndarray, measure: str, rare: bool) -> np.ndarray:
    if measure == "RR" or rare:
        return value
    if measure == "OR":
        return np.sqrt(value)
    return (1.0 - 0.5 ** np.sqrt(value)) / (1.0 - 0.5 ** np.sqrt(1.0 / value))


def evalue_rr(rr) -> np.ndarray:
    """E-value of risk ratio(s): ``RR + sqrt(RR (RR - 1))``, ``RR < 1`` flipped to ``1/RR``."""
    rr = np.asarray(rr, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        flipped = np.where(rr < 1.0, 1.0 / rr, rr)
        return flipped + np.sqrt(flipped * (flipped - 1.0))


@dataclass(frozen=True)
class EValue:
    """E-values of a point estimate and of its confidence interval, as :func:`evalue` gives them.

    Parameters
    ----------
    point : float
        E-value of the estimate.
    ci : float or None
        E-value of the confidence limit nearer 1 (1 when the interval contains 1); None when
        no limit was given.

    Examples
    --------
    A protective ratio is flipped to its inverse before the E-value is taken:

    >>> from reawaken.epi import evalue
    >>> e = evalue(0.5, 0.3, 0.8)
    >>> round(e.point, 3), round(e.ci, 3)
    (3.414, 1.809)
    """

    point: float
    ci: float | None


def evalue(
    estimate: float,
    lower: float | None = None,
    upper: float | None = None,
    *,
    measure: str = "RR",
    rare: bool = True,
) -> EValue:
    """E-value of a ratio estimate and its confidence limits (VanderWeele & Ding 2017).

    The E-value is the smallest risk ratio an unmeasured confounder would need with both the
    exposure and the outcome to explain the estimate away (see the module docstring).

    Parameters
    ----------
    estimate : float
        The ratio (positive and finite).
    lower, upper : float, optional
        Its confidence limits (positive and finite, around ``estimate``).
    measure : {"RR", "HR", "OR"}, default "RR"
        What the ratio is: a risk, hazard or odds ratio.
    rare : bool, default True
        Whether the outcome is rare (under about 15% by the end of follow-up): then a hazard
        or odds ratio is taken as a risk ratio; if not, it is converted first.

    Returns
    -------
    EValue
        The E-values of the estimate (``point``) and of the interval (``ci``, None without
        limits).

    Raises
    ------
    InputError
        If ``measure`` is not RR, HR or OR; a ratio is not positive and finite; or the
        estimate lies outside its interval.

    Examples
    --------
    >>> from reawaken.epi import evalue
    >>> e = evalue(1.44, 1.12, 1.85, measure="HR")
    >>> round(e.point, 3), round(e.ci, 3)
    (2.236, 1.487)
    """
    if measure not in MEASURES:
        raise InputError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    values = [v for v in (estimate, lower, upper) if v is not None]
    if any(not np.isfinite(v) or v <= 0 for v in values):
        shown = ", ".join(f"{float(v):g}" for v in values)
        raise InputError(f"ratios must be positive and finite, got {shown}")
    if lower is not None and upper is not None and not lower <= estimate <= upper:
        raise InputError(f"estimate {estimate} is not inside its interval ({lower}, {upper})")
    rr = float(_risk_ratio(np.asarray(estimate, float), measure, rare))
    point = float(evalue_rr(rr))
    ci = None
    if lower is not None or upper is not None:
        lo = None if lower is None else float(_risk_ratio(np.asarray(lower, float), measure, rare))
        hi = None if upper is None else float(_risk_ratio(np.asarray(upper, float), measure, rare))
        if rr >= 1.0:
            ci = 1.0 if lo is None or lo <= 1.0 else float(evalue_rr(lo))
        else:
            ci = 1.0 if hi is None or hi >= 1.0 else float(evalue_rr(hi))
    return EValue(point, ci)


def add_evalues(
    estimates: pd.DataFrame, *, measure: str = "HR", rare: bool = True, rows=None
) -> pd.DataFrame:
    """Add the E-values of each row to a standard estimates table.

    Rows with a missing or non-positive ratio, or an interval from 0 to infinity, get NaN; a
    limit of 0 or infinity alone gives ``evalue_ci`` 1 (the interval cannot exclude 1).

    Parameters
    ----------
    estimates : pandas.DataFrame
        A table with ``ratio``, ``ci_lower`` and ``ci_upper`` (what ``fit.estimates()``
        gives).
    measure : {"RR", "HR", "OR"}, default "HR"
        What the ratios are (see :func:`evalue`).
    rare : bool, default True
        Whether the outcome is rare (see :func:`evalue`).
    rows : array_like of bool, optional
        Which rows get E-values (e.g. the exposure terms only); by default all.

    Returns
    -------
    pandas.DataFrame
        A copy of ``estimates`` with ``evalue`` and ``evalue_ci`` columns.

    Raises
    ------
    KeyError
        If ``ratio``, ``ci_lower`` or ``ci_upper`` is missing (and a row is asked for).
    InputError
        If ``measure`` is not RR, HR or OR (checked on the first row that gets an E-value).

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.epi import add_evalues
    >>> est = pd.DataFrame({"term": ["infected", "age"], "ratio": [1.44, 1.02],
    ...                     "ci_lower": [1.12, 0.99], "ci_upper": [1.85, 1.05]})
    >>> add_evalues(est, measure="HR").round(3)
           term  ratio  ci_lower  ci_upper  evalue  evalue_ci
    0  infected   1.44      1.12      1.85   2.236      1.487
    1       age   1.02      0.99      1.05   1.163      1.000
    """
    out = estimates.copy()
    point = np.full(len(out), np.nan)
    bound = np.full(len(out), np.nan)
    mask = np.ones(len(out), bool) if rows is None else np.asarray(rows, bool)
    for i in np.flatnonzero(mask):
        r, lo, hi = (float(out[c].iloc[i]) for c in ("ratio", "ci_lower", "ci_upper"))
        lo_ok = np.isfinite(lo) and lo > 0
        hi_ok = np.isfinite(hi) and hi > 0
        if not (np.isfinite(r) and r > 0) or not (lo_ok or hi_ok):
            continue  # no estimate, or an interval from 0 to infinity (a diverging coefficient)
        if (lo_ok and lo > r) or (hi_ok and hi < r):
            continue
        # a limit at 0 or infinity cannot exclude 1: evalue() then gives 1 for the interval
        e = evalue(r, lo if lo_ok else None, hi if hi_ok else None, measure=measure, rare=rare)
        point[i], bound[i] = e.point, e.ci
    out["evalue"] = point
    out["evalue_ci"] = bound
    return out
