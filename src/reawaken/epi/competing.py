"""Competing risks: Aalen-Johansen cumulative incidence and cause-specific Cox.

Events are coded 0 censored and a positive integer for the cause of failure (reawaken's
convention: 1 the outcome, 2 the competing event, usually death). Times are in days.

The cumulative incidence of cause ``c`` is the Aalen-Johansen estimate
``F_c(t) = sum_{t_k <= t} S(t_k-) d_ck / n_k`` with ``S`` the all-cause Kaplan-Meier, tied
times grouped exactly (no jitter). Its variance is the estimator of Gray's ``cinc`` routine in
R's ``cmprsk::cuminc`` (Gray, Ann. Stat. 16:1141-1154, 1988; the delta-method form in
Marubini & Valsecchi, "Analysing Survival Data from Clinical Trials and Observational
Studies", 1995), reproduced term by term and vectorised as cumulative sums. ``cuminc`` reports
only the variance; the confidence interval here is the log(-log) one recommended by Pintilie
("Competing Risks: A Practical Perspective", 2006) and used by the tidycmprsk package:
``F ** exp(+/- z * se / (F * log F))``. Values at requested times follow
``cmprsk::timepoints``: the estimate is right-continuous, and a time past the largest follow-up
time (or before 0) has no estimate (NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from reawaken.epi._values import is_missing, reject_rows, require_columns, show
from reawaken.epi.tables import check_level
from reawaken.errors import InputError

CIF_COLUMNS = ["time", "cause", "cif", "ci_lower", "ci_upper"]


def check_competing_data(
    frame: pd.DataFrame,
    time: str,
    event: str,
    *,
    file: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return (time, event) arrays: times finite and >= 0, events integers >= 0.

    Errors name the file, the first offending (1-based data) row and the column.
    """
    require_columns(frame, [time, event], file)
    t = pd.to_numeric(frame[time], errors="coerce").to_numpy(dtype=float)

    def bad_time(i: int) -> str:
        value = frame[time].iloc[i]
        reason = (
            "missing time" if is_missing(value) else f"time {show(value)} is not a finite number"
        )
        return f"{reason} (expected days >= 0)"

    reject_rows(~np.isfinite(t), bad_time, file=file, column=time)
    reject_rows(
        t < 0, lambda i: f"negative time {show(t[i])} (expected days >= 0)", file=file, column=time
    )
    e = pd.to_numeric(frame[event], errors="coerce").to_numpy(dtype=float)

    def bad_event(i: int) -> str:
        value = frame[event].iloc[i]
        what = "missing event code" if is_missing(value) else f"event code {show(value)}"
        return f"{what}: expected 0 (censored) or a positive integer cause (1 outcome, 2 competing)"

    bad = ~np.isfinite(e) | (e < 0) | (e != np.round(e))
    reject_rows(bad, bad_event, file=file, column=event)
    return t, e.astype(int)


def cif_curve(time: np.ndarray, event: np.ndarray, cause: int) -> pd.DataFrame:
    """Cumulative incidence of ``cause`` and its variance at each distinct time it occurs.

    Returns columns ``time, cif, variance`` (one row per distinct failure time of ``cause``),
    as the corners of ``cmprsk::cuminc``'s step function.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event)
    order = np.argsort(time, kind="stable")
    t = time[order]
    e = event[order]
    n = t.size
    uniq, first, counts = np.unique(t, return_index=True, return_counts=True)
    del counts
    group = np.searchsorted(uniq, t)
    nd1 = np.bincount(group, weights=e == cause, minlength=uniq.size)
    nd_all = np.bincount(group, weights=e != 0, minlength=uniq.size)
    nd2 = nd_all - nd1
    rs = (n - first).astype(float)
    keep = nd_all > 0
    uniq, nd1, nd2, nd_all, rs = uniq[keep], nd1[keep], nd2[keep], nd_all[keep], rs[keep]

    fkn = np.cumprod((rs - nd_all) / rs)  # all-cause survival at each time
    fk = np.concatenate(([1.0], fkn[:-1]))  # ... just before it
    f = np.cumsum(fk * nd1 / rs)

    def tie_factor(nd: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(nd > 1, 1.0 - (nd - 1.0) / (rs - 1.0), 1.0)

    positive = fkn > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(positive, 1.0 / np.where(positive, fkn, 1.0), 0.0)
    # competing failures at this time (only while someone survives)
    t6 = np.where((nd2 > 0) & positive, fk * fk * tie_factor(nd2) * nd2 / (rs * rs), 0.0)
    t4 = f * inv
    v1 = t4 * t4 * t6
    v2 = inv * t4 * t6
    v3 = inv * inv * t6
    # failures from the cause itself
    t6 = np.where(nd1 > 0, fk * fk * tie_factor(nd1) * nd1 / (rs * rs), 0.0)
    t4 = 1.0 + inv * f
    v1 = np.cumsum(v1 + t4 * t4 * t6)
    v2 = np.cumsum(v2 + inv * t4 * t6)
    v3 = np.cumsum(v3 + inv * inv * t6)
    var = v1 + f * f * v3 - 2.0 * f * v2
    at = nd1 > 0
    return pd.DataFrame({"time": uniq[at], "cif": f[at], "variance": var[at]})


def _loglog_interval(f: np.ndarray, var: np.ndarray, level: float) -> tuple[np.ndarray, ...]:
    z = stats.norm.ppf(0.5 + level / 2.0)
    se = np.sqrt(var)
    inside = (f > 0) & (f < 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ff = np.where(inside, f, 0.5)
        k = np.exp(z * se / (ff * np.log(ff)))  # < 1 inside (0, 1)
        lower = np.where(inside, ff ** (1.0 / k), f)
        upper = np.where(inside, ff**k, f)
    return lower, upper


def check_times_at(at: Sequence[float]) -> np.ndarray:
    """The requested times, sorted and unique; each must be a finite number of days >= 0."""
    values = list(np.atleast_1d(np.asarray(at, dtype=object)))
    if not values:
        raise InputError("no times given for the cumulative incidence (expected e.g. 90,180,365)")
    out = []
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(
                f"time {show(value)} is not a number (expected days >= 0, e.g. 90,180,365)"
            ) from None
        if not np.isfinite(number):
            raise InputError(
                f"time {number:g} is not finite: the cumulative incidence is given at finite "
                "times (days >= 0)"
            )
        if number < 0:
            raise InputError(
                f"time {show(number)} is negative: the cumulative incidence is given at "
                "days >= 0 since the time origin"
            )
        out.append(number)
    return np.unique(np.asarray(out, dtype=float))


def cumulative_incidence(
    time: np.ndarray,
    event: np.ndarray,
    at: Sequence[float],
    *,
    causes: Sequence[int] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Aalen-Johansen cumulative incidence of each cause at given times, with pointwise CIs.

    The estimate and its variance are those of R's ``cmprsk::cuminc`` (read at ``at`` as
    ``cmprsk::timepoints`` does); the interval is the log(-log) one (see the module
    docstring). Where the estimate is 0 (or 1) the interval is that single point; a time past
    the largest follow-up time has no estimate (NaN).

    Parameters
    ----------
    time : array_like
        Follow-up time of each person, in days (>= 0; taken as given, not checked here).
    event : array_like
        Event code of each person: 0 censored, 1 the outcome, 2 the competing event (any
        positive integer is a cause).
    at : sequence of float
        Days at which to give the cumulative incidence (sorted and made unique).
    causes : sequence of int, optional
        The causes to report; by default every positive code present.
    level : float, default 0.95
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per cause and time: ``time, cause, cif, variance, ci_lower, ci_upper``; a cause
        without failures has cif 0.

    Raises
    ------
    InputError
        If ``at`` is empty or holds a time that is not a finite number >= 0, or ``level`` is
        not between 0 and 1.

    Examples
    --------
    >>> from reawaken.epi import cumulative_incidence, example_data
    >>> df = example_data("competing")
    >>> cif = cumulative_incidence(df["time"], df["event"], [90, 180, 365])
    >>> cif[["time", "cause", "cif", "ci_lower", "ci_upper"]].round(3)
        time  cause    cif  ci_lower  ci_upper
    0   90.0      1  0.214     0.026     0.520
    1  180.0      1  0.329     0.064     0.637
    2  365.0      1  0.471     0.101     0.782
    3   90.0      2  0.100     0.004     0.376
    4  180.0      2  0.100     0.004     0.376
    5  365.0      2  0.243     0.023     0.587
    """
    level = check_level(level)
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(int)
    at_arr = check_times_at(at)
    if causes is None:
        causes = sorted(int(c) for c in np.unique(event) if c > 0)
    last = time.max()
    frames = []
    for cause in causes:
        curve = cif_curve(time, event, cause)
        idx = np.searchsorted(curve["time"].to_numpy(), at_arr, side="right") - 1
        f = np.where(idx >= 0, curve["cif"].to_numpy()[np.maximum(idx, 0)], 0.0)
        v = np.where(idx >= 0, curve["variance"].to_numpy()[np.maximum(idx, 0)], 0.0)
        outside = (at_arr > last) | (at_arr < 0)
        f = np.where(outside, np.nan, f)
        v = np.where(outside, np.nan, v)
        lower, upper = _loglog_interval(f, v, level)
        frames.append(
            pd.DataFrame(
                {
                    "time": at_arr,
                    "cause": cause,
                    "cif": f,
                    "variance": v,
                    "ci_lower": lower,
                    "ci_upper": upper,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def covariate_matrix(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    *,
    file: str | Path | None = None,
    missing: str = "error",
) -> tuple[np.ndarray, dict[str, int]]:
    """Numeric (n, p) matrix of ``covariates`` and the count of missing values per column that
    has any. A non-numeric value is an InputError naming the column and the first bad row; so is
    a missing value with ``missing="error"``, while with ``"drop"`` it is NaN in the matrix (the
    caller leaves its row out)."""
    if not covariates:
        raise InputError("at least one covariate is needed", file=file)
    if missing not in ("drop", "error"):
        raise InputError(f"missing must be 'drop' or 'error', got {show(missing)}")
    columns = []
    counts: dict[str, int] = {}
    for name in covariates:
        require_columns(frame, [name], file)
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        gaps = np.array([is_missing(v) for v in frame[name]], dtype=bool)

        def bad_value(i: int, name: str = name) -> str:
            value = frame[name].iloc[i]
            if is_missing(value):
                return "missing covariate value (expected a number)"
            return f"covariate value {show(value)} is not a finite number"

        allowed = gaps if missing == "drop" else np.zeros_like(gaps)
        reject_rows(~np.isfinite(values) & ~allowed, bad_value, file=file, column=name)
        if gaps.any():
            counts[name] = int(gaps.sum())
        columns.append(values)
    return np.column_stack(columns), counts


def cause_specific_cox(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    cause: int = 1,
    ties: str = "efron",
    level: float = 0.95,
    file: str | Path | None = None,
    missing: str = "drop",
):
    """Cause-specific Cox model of one cause: failures from other causes count as censored.

    Equal to ``coxph(Surv(time, event == cause) ~ covariates)`` in R's survival package.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per person.
    time : str
        Column of the follow-up time in days (>= 0).
    event : str
        Column of the event code: 0 censored, or a positive integer cause.
    covariates : sequence of str
        Covariate columns (numeric).
    cause : int, default 1
        The cause modelled.
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied times.
    level : float, default 0.95
        Confidence level of ``estimates()``.
    file : str or path, optional
        Only names the source file in error messages.
    missing : {"drop", "error"}, default "drop"
        Rows with a missing covariate value: left out (R's ``na.omit``) or refused, as
        :func:`fit_cox`.

    Returns
    -------
    CoxResult
        The fit (ratio = cause-specific hazard ratio).

    Raises
    ------
    InputError
        If a column is missing or there are no rows; a time is missing, not a number or
        negative; an event code is not 0 or a positive integer; there is no failure of
        ``cause``; or for any reason :func:`fit_cox` gives (a bad covariate, ``ties`` or
        ``level``).

    Warns
    -----
    ConvergenceWarning
        As :func:`fit_cox`.

    Examples
    --------
    The hazard ratio of infection for the outcome (cause 1) and for the competing event
    (cause 2), side by side:

    >>> from reawaken.epi import cause_specific_cox, example_data
    >>> df = example_data("competing")
    >>> [round(float(cause_specific_cox(df, time="time", event="event", covariates=["infected"],
    ...                                 cause=c).estimates()["ratio"][0]), 3) for c in (1, 2)]
    [4.658, 1.118]
    """
    from reawaken.epi.cox import fit_cox

    t, e = check_competing_data(frame, time, event, file=file)
    if not np.any(e == cause):
        raise InputError(f"no failures of cause {cause}", file=file, column=event)
    data = pd.DataFrame({name: frame[name] for name in covariates if name in frame.columns})
    # right-censored data as intervals (0, t]: everyone at risk from the start. The partial
    # likelihood depends on the order of times only, so times of 0 are shifted by one day.
    data["__start"] = 0.0
    data["__stop"] = t + 1.0 if t.min() <= 0 else t
    data["__event"] = (e == cause).astype(int)
    return fit_cox(
        data,
        start="__start",
        stop="__stop",
        event="__event",
        covariates=list(covariates),
        ties=ties,
        level=level,
        file=file,
        missing=missing,
    )
