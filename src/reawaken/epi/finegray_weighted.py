"""Fine-Gray regression with case weights and clustered rows, as a weighted Cox model.

:func:`reawaken.epi.finegray.fit_fine_gray` is R's ``cmprsk::crr``: one row per person, no
weights. Matched designs need more: a person can be a control in several trials and later a
case (rows clustered by person), controls carry matching weights, and the censoring differs
between the arms (controls are censored when they are infected). R's answer is
``survival::finegray`` (Geskus, "Cause-specific cumulative incidence estimation and the
Fine and Gray model under both left truncation and right censoring", Biometrics 67:39-49,
2011): a person who failed from a competing cause stays at risk after the failure in rows
weighted ``G(t-) / G(T-)``, ``G`` the Kaplan-Meier estimate of the censoring distribution
(per stratum when asked), and a weighted Cox model on those rows gives the subdistribution
hazard ratios; ``cluster()`` gives the robust variance (it treats ``G`` as known).

:func:`finegray_rows` builds those rows (times of a censoring and a failure that tie count the
failure first, as ``finegray``); rows of a competing failure are only made for the intervals
between censoring times that hold failures of the cause modelled (elsewhere they cannot
contribute to a risk set, so ``finegray``'s compression changes nothing).
:func:`fit_fine_gray_weighted` fits the model with :func:`reawaken.epi.cox.fit_cox`. Equal to
``coxph(Surv(fgstart, fgstop, fgstatus) ~ x + cluster(id), weights = fgwt,
data = finegray(Surv(time, event) ~ ., data, weights = w))`` with Breslow ties
(``tests/data/competing/make_finegray_weighted_reference.R``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reawaken.epi.cox import CoxResult, fit_cox
from reawaken.epi.finegray import check_cause
from reawaken.errors import InputError


def _censoring_steps(time: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier of the censoring distribution: the times it drops and its value after each
    drop. A censoring tied with a failure counts after it: at risk of censoring at ``t`` are
    those followed beyond ``t`` and those censored at ``t``, not those failing at ``t``."""
    cens_times, cens_counts = np.unique(time[status == 0], return_counts=True)
    if not cens_times.size:
        return np.empty(0), np.empty(0)
    order = np.sort(time)
    at_risk = order.size - np.searchsorted(order, cens_times, side="right") + cens_counts
    return cens_times, np.cumprod(1.0 - cens_counts / at_risk)


def finegray_rows(
    time: np.ndarray,
    status: np.ndarray,
    *,
    cause: int = 1,
    strata: np.ndarray | None = None,
) -> pd.DataFrame:
    """The counting-process rows of a Fine-Gray model (``survival::finegray``).

    Parameters
    ----------
    time : numpy.ndarray
        Follow-up time of each row (> 0; the rows start at 0).
    status : numpy.ndarray
        0 censored, ``cause`` the failure modelled, any other positive code a competing failure.
    cause : int, default 1
        The failure modelled.
    strata : numpy.ndarray, optional
        Groups with their own censoring distribution (e.g. the arms of a trial). The model
        itself is not stratified: a competing failure stays in the risk sets of every
        stratum's failures (``finegray`` with ``strata()`` keeps it only at its own stratum's,
        which suits a stratified model only).

    Returns
    -------
    pandas.DataFrame
        ``row`` (index into the input), ``start``, ``stop``, ``status`` (1 a failure of
        ``cause``), ``weight`` (``G(t-) / G(T-)`` on a competing failure's added rows, else 1).

    Examples
    --------
    >>> import numpy as np
    >>> rows = finegray_rows(np.array([1.0, 2, 3, 4]), np.array([2, 0, 1, 0]))
    >>> rows.round(3).to_dict(orient="list")  # doctest: +NORMALIZE_WHITESPACE
    {'row': [0, 0, 1, 2, 3], 'start': [0.0, 2.0, 0.0, 0.0, 0.0],
     'stop': [1.0, 4.0, 2.0, 3.0, 4.0], 'status': [0, 0, 0, 1, 0],
     'weight': [1.0, 0.667, 1.0, 1.0, 1.0]}
    """
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    check_cause(status, cause)
    if time.size and not (np.isfinite(time).all() and time.min() > 0):
        raise InputError("Fine-Gray rows need follow-up times > 0 (the rows start at 0)")
    n = time.size
    groups = np.zeros(n, dtype=np.int64) if strata is None else pd.factorize(strata)[0]
    base = pd.DataFrame(
        {
            "row": np.arange(n),
            "start": 0.0,
            "stop": time,
            "status": (status == cause).astype(np.int64),
            "weight": 1.0,
        }
    )
    added = []
    failures = np.unique(time[status == cause])  # every stratum's: the model is not stratified
    for g in np.unique(groups):
        mine = np.flatnonzero(groups == g)
        t, s = time[mine], status[mine]
        cuts, surv = _censoring_steps(t, s)
        competing = mine[(s != 0) & (s != cause)]
        if not failures.size or not competing.size:
            continue
        g_before = np.concatenate([[1.0], surv])  # G(u-) for u in interval k: (cuts[k-1], cuts[k]]
        edges = np.concatenate([[0.0], cuts, [max(t.max(), failures[-1])]])
        k_fail = np.searchsorted(cuts, failures, side="left")  # cuts strictly below a failure
        holding = np.unique(k_fail)  # intervals holding a failure of the cause
        tc = time[competing]
        k_own = np.searchsorted(cuts, tc, side="left")  # G(T-) of the competing failure
        first = np.searchsorted(holding, k_own, side="left")
        counts = holding.size - first
        person = np.repeat(np.arange(competing.size), counts)
        offset = np.arange(person.size) - np.repeat(np.cumsum(counts) - counts, counts)
        k = holding[first[person] + offset]
        start = np.maximum(edges[k], tc[person])
        stop = np.maximum(edges[k + 1], start)
        keep = (stop > start) & (failures[-1] > start)
        added.append(
            pd.DataFrame(
                {
                    "row": competing[person][keep],
                    "start": start[keep],
                    "stop": stop[keep],
                    "status": 0,
                    "weight": (g_before[k] / g_before[k_own[person]])[keep],
                }
            )
        )
    rows = pd.concat([base, *added], ignore_index=True) if added else base
    return rows.sort_values(["row", "start"], kind="stable").reset_index(drop=True)


def fit_fine_gray_weighted(
    data: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    cause: int = 1,
    weights: str | None = None,
    cluster: str | None = None,
    censoring_strata: str | None = None,
    level: float = 0.95,
) -> CoxResult:
    """Fit a Fine-Gray model with case weights and clustered rows (robust variance).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person (or per trial member); ``time`` > 0, ``event`` 0 censored,
        ``cause`` the failure modelled, any other positive code a competing failure.
    covariates : sequence of str
        Numeric covariate columns.
    weights : str, optional
        Case weights (e.g. matching weights), multiplying the censoring weights.
    cluster : str, optional
        Rows of the same cluster (a person in several trials) for the robust variance; without
        it each input row is its own cluster.
    censoring_strata : str, optional
        A column whose groups get their own censoring distribution (e.g. the arm).
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    reawaken.epi.cox.CoxResult
        Its ``ratio`` is the subdistribution hazard ratio; the variance is the robust one.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.integers(0, 2, 400)
    >>> t1, t2 = rng.exponential(10 / np.exp(0.7 * x)), rng.exponential(12, 400)
    >>> c = rng.uniform(0, 25, 400)
    >>> t = np.ceil(np.minimum.reduce([t1, t2, c]))
    >>> ev = np.where(t1 <= np.minimum(t2, c), 1, np.where(t2 <= c, 2, 0))
    >>> data = pd.DataFrame({"time": t, "event": ev, "x": x, "id": np.arange(400) // 2})
    >>> fit = fit_fine_gray_weighted(data, time="time", event="event", covariates=["x"],
    ...                              cluster="id")
    >>> round(float(fit.estimates()["ratio"].iloc[0]), 3)
    2.012
    """
    missing = [c for c in [time, event, *covariates, weights, cluster, censoring_strata] if c]
    absent = [c for c in missing if c not in data.columns]
    if absent:
        raise InputError(f"column(s) {', '.join(absent)} not found")
    strata = None if censoring_strata is None else data[censoring_strata].to_numpy()
    rows = finegray_rows(data[time].to_numpy(), data[event].to_numpy(), cause=cause, strata=strata)
    source = data.reset_index(drop=True).iloc[rows["row"].to_numpy()].reset_index(drop=True)
    frame = source[list(covariates)].copy()
    frame["_start"] = rows["start"].to_numpy()
    frame["_stop"] = rows["stop"].to_numpy()
    frame["_status"] = rows["status"].to_numpy()
    case = 1.0 if weights is None else source[weights].to_numpy(dtype=float)
    frame["_weight"] = rows["weight"].to_numpy() * case
    frame["_cluster"] = rows["row"].to_numpy() if cluster is None else source[cluster].to_numpy()
    return fit_cox(
        frame,
        start="_start",
        stop="_stop",
        event="_status",
        covariates=list(covariates),
        weights="_weight",
        cluster="_cluster",
        ties="breslow",
        level=level,
    )
