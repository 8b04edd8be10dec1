"""Target-trial emulation of infection: sequential trials, matching, IPCW and risks.

The target trial: among people at risk on a calendar day and not yet infected, compare "infected
today" with "not infected (yet)", and follow both for the outcome (Hernan & Robins, "Using big
data to emulate a target trial when a randomized trial is not available", Am J Epidemiol
183:758-764, 2016; the sequential-trial design of Hernan et al., Epidemiology 19:766-779, 2008;
matched as in Dagan et al., "BNT162b2 mRNA Covid-19 vaccine in a nationwide mass vaccination
setting", NEJM 384:1412-1423, 2021).

Design, on integer calendar days (days since 1970-01-01 or dates):

- **Trials**: one per calendar month (or per block of ``trial_days`` days). Each person whose
  first infection falls on day ``d`` within their at-risk period is a case of that month's trial,
  with time zero ``d``. Persons infected before their at-risk period starts are left out.
- **Matching**: each case gets up to ``controls_per_case`` controls drawn without replacement
  (seeded) among persons with the same values of every ``match_on`` covariate (exact matching,
  e.g. stage and age band) who are at risk on day ``d`` (``entry <= d <= exit``) and not infected
  on or before ``d``. A person can be a control in several trials and later a case. Each control
  carries a matching weight ``1 / (controls of its case)`` so that every matched set weighs as
  much in the control arm as its case in the infected arm (the infected arm's covariate mix).
- **Follow-up**: day ``d`` is day 1; ``time`` is the last day observed counted from ``d``; an
  outcome (status 1) or a competing event (status 2, death) ends follow-up; follow-up stops at
  ``horizon`` days. A control who is infected on day ``i`` is censored at ``i - d`` (its last
  uninfected day): it no longer follows its arm's strategy.
- **Inverse probability of censoring weights** for that artificial censoring: controls'
  follow-up is cut into intervals of ``interval_days``; a pooled logistic model of the
  probability of being infected in an interval, given having been followed uncensored to its
  start, has categorical terms for the interval, the calendar month of its start (the epidemic
  waves) and each ``match_on`` covariate (denominator), and for the interval only (numerator of
  the stabilised weight; Robins, Hernan & Brumback, Epidemiology 11:550-560, 2000; Cole &
  Hernan, Am J Epidemiol 168:656-664, 2008). The weight in interval ``j`` is
  ``prod_{l<j} (1 - pn_l) / (1 - pd_l)`` times the half-interval factor
  ``((1 - pn_j) / (1 - pd_j)) ** 0.5`` (constant within the interval, centred on it). Cases are
  not artificially censored and weigh 1. The logistic model is fitted by Newton-Raphson on the
  table of distinct covariate patterns, with a small ridge penalty (``1e-4`` on every
  non-intercept coefficient) so that a calendar month without any infection gives a finite
  coefficient.
- **Risks**: weighted Aalen-Johansen cumulative incidence of the outcome with the competing
  event (the weighted Kaplan-Meier when there is none), per arm and matching stratum (each
  pattern of the ``match_on`` values), averaged over the strata with the infected arm's shares
  of them (direct standardisation to the cases' covariate mix; Makuch, "Adjusted survival
  curve estimation using covariates", J Chronic Dis 35:437-443, 1982); risk difference and
  ratio at 91, 183 and 365 days (3, 6 and 12 months of 365.25 / 12 days, rounded). Why per
  stratum: follow-up also ends at the end of the data (administrative censoring), so how long
  a trial member can be followed depends on its time zero, and time zero depends on the
  covariates through the timing of infection (those more often infected enter earlier trials).
  One curve over all strata would then follow the early-infected strata longest and take their
  risk for everyone's late follow-up. Within a stratum that censoring is independent of the
  outcome as long as the outcome's hazard, given the covariates, does not change with calendar
  time; the standardised estimate is inverse probability of censoring weighting with the
  censoring distribution estimated in each stratum (Cole & Hernan, "Adjusted survival curves
  with inverse probability weights", Comput Methods Programs Biomed 75:45-49, 2004, on the
  equivalence). Over 12 simulated cohorts of 20,000 the one-curve 365-day risks were 0.012
  too high in the infected arm and 0.005 in the other; per stratum both within Monte Carlo
  error (``tests/epi/test_emulation.py``). The censoring weights for controls' infection stay
  one pooled fit over all strata. Without ``match_on`` there is one stratum. A stratum whose
  arm has nobody left at risk before the last day compared, while some of it is event-free,
  cannot contribute its risk beyond that day; a note says so.
- **Confidence intervals**: percentile bootstrap resampling persons (a person's rows in every
  trial, as case and as control, move together), refitting the censoring weights in each
  replicate; the matching is kept fixed (Austin & Small, Stat Med 33:4306-4319, 2014, discuss
  bootstrap after matching).
- **Covariate balance** (the emulation's assumption diagnostic: the arms are exchangeable
  given the covariates): the standardized mean difference between the arms at time zero of
  each ``match_on`` covariate (level by level; 0 by construction, a check of the matching) and
  of each ``balance_on`` covariate, weighted by the matching weights
  (:mod:`reawaken.epi.balance`); a note names those above 0.1 in absolute value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from reawaken.epi._newton import Derivatives, maximise
from reawaken.epi._values import is_missing, show
from reawaken.epi.balance import BALANCE_COLUMNS, imbalance_note, standardized_differences
from reawaken.epi.tables import ESTIMATE_COLUMNS, RatioResult, check_level
from reawaken.errors import InputError

RISK_DAYS: tuple[int, ...] = (91, 183, 365)
"""3, 6 and 12 months in days (1 month = 365.25 / 12 days, rounded)."""

MATCHED_COLUMNS = [
    "trial",
    "set",
    "arm",
    "id",
    "time_zero",
    "time",
    "status",
    "switched",
    "mweight",
]


def _days(values: pd.Series) -> np.ndarray:
    """Integer-valued day numbers (days since 1970-01-01) from dates or numbers; NaN if missing."""
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=float)
    dates = pd.to_datetime(values, errors="coerce")
    return ((dates - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _trial_index(day: np.ndarray, trial_days: int | None) -> np.ndarray:
    """Calendar month (months since 1970-01) or block of ``trial_days`` days of each day."""
    if trial_days is None:
        months = day.astype("int64").astype("datetime64[D]").astype("datetime64[M]")
        return months.astype(np.int64)
    return np.floor_divide(day.astype(np.int64), int(trial_days))


def _check_persons(
    persons: pd.DataFrame, columns: Sequence[str], match_on: Sequence[str]
) -> dict[str, np.ndarray]:
    id_, entry, exit_, event, infection = columns
    for col in [*columns, *match_on]:
        if col not in persons.columns:
            raise InputError(f"no column {col!r} in the person table", column=col)
    if len(persons) == 0:
        raise InputError("no persons")
    out = {
        "entry": _days(persons[entry]),
        "exit": _days(persons[exit_]),
        "infection": _days(persons[infection]),
    }
    for name, col in (("entry", entry), ("exit", exit_)):
        bad = ~np.isfinite(out[name])
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise InputError(f"missing {name} day", row=row, column=col)
    bad = out["exit"] < out["entry"]
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InputError("exit before entry", row=row, column=exit_)
    status = pd.to_numeric(persons[event], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(status, (0.0, 1.0, 2.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        value = persons[event].iloc[row - 1]
        what = "missing event" if is_missing(value) else f"event {show(value)} is not valid"
        raise InputError(
            f"{what}; event must be 0 (censored), 1 (outcome) or 2 (competing)",
            row=row,
            column=event,
        )
    if persons[id_].duplicated().any():
        row = int(np.flatnonzero(persons[id_].duplicated().to_numpy())[0]) + 1
        raise InputError("person id repeated", row=row, column=id_)
    for col in match_on:
        missing = persons[col].isna().to_numpy()
        if missing.any():
            row = int(np.flatnonzero(missing)[0]) + 1
            raise InputError("missing value of a matching covariate", row=row, column=col)
    out["status"] = status.astype(np.int64)
    return out


def _patterns(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Number (0, 1, ... in order of appearance) of each row's pattern of values of
    ``columns``: the matching strata; all rows 0 without columns."""
    if not columns:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(list(columns), sort=False).ngroup().to_numpy(dtype=np.int64)


def match_trials(
    persons: pd.DataFrame,
    *,
    id: str = "id",
    entry: str = "entry",
    exit: str = "exit",
    event: str = "event",
    infection: str = "infection",
    match_on: Sequence[str] = (),
    controls_per_case: int = 5,
    trial_days: int | None = None,
    horizon: int = 365,
    seed: int,
) -> pd.DataFrame:
    """Build the matched sequential trials from one row per person.

    ``persons``: ``id``; ``entry`` and ``exit``, the first and last day at risk (integer day
    numbers or dates); ``event``, what ends follow-up on ``exit`` (0 censored, 1 outcome,
    2 competing event); ``infection``, the day of the first infection (missing if none); and the
    ``match_on`` covariates (categorical). ``trial_days=None`` makes one trial per calendar
    month. Returns one row per trial member with columns ``trial`` (month as ``YYYY-MM`` or block
    start day), ``set`` (matched set = case number), ``arm`` (1 infected, 0 control), ``id``,
    ``time_zero`` (day), ``time`` (days followed, day ``time_zero`` is day 1), ``status``
    (0 censored, 1 outcome, 2 competing), ``switched`` (1 if a control was censored because it
    got infected), ``mweight`` (matching weight) and the ``match_on`` columns.
    """
    if controls_per_case < 1:
        raise InputError(f"controls per case must be at least 1, got {controls_per_case}")
    if horizon < 1:
        raise InputError(f"horizon must be at least 1 day, got {horizon}")
    match_on = list(match_on)
    arr = _check_persons(persons, (id, entry, exit, event, infection), match_on)
    ent, ext, inf, status = arr["entry"], arr["exit"], arr["infection"], arr["status"]
    stratum = _patterns(persons, match_on)
    never = np.where(np.isfinite(inf), inf, np.inf)
    is_case = np.isfinite(inf) & (inf >= ent) & (inf <= ext)
    case_idx = np.flatnonzero(is_case)
    case_idx = case_idx[np.lexsort((case_idx, inf[case_idx]))]
    rng = np.random.default_rng(seed)
    by_stratum = {s: np.flatnonzero(stratum == s) for s in np.unique(stratum)}
    sets, members = [], []
    for c in case_idx:
        d = inf[c]
        pool = by_stratum[stratum[c]]
        ok = pool[(ent[pool] <= d) & (ext[pool] >= d) & (never[pool] > d)]
        if ok.size == 0:
            continue
        chosen = rng.choice(ok, size=min(controls_per_case, ok.size), replace=False)
        sets.append(c)
        members.append(np.sort(chosen))
    if not sets:
        raise InputError("no infected person has an eligible control: nothing to emulate")
    set_case = np.asarray(sets)
    n_ctrl = np.array([m.size for m in members])
    rows = np.concatenate([set_case, np.concatenate(members)])
    set_no = np.concatenate([np.arange(len(sets)), np.repeat(np.arange(len(sets)), n_ctrl)])
    arm = np.concatenate([np.ones(len(sets), np.int64), np.zeros(n_ctrl.sum(), np.int64)])
    t0 = inf[set_case][set_no]
    # follow-up: last observed day counted from time zero (day 1), ended by exit, by a control's
    # own infection (censored on its last uninfected day) or by the horizon
    switch_day = np.where(arm == 0, never[rows], np.inf)
    last = np.minimum(ext[rows], switch_day - 1)
    time = last - t0 + 1
    st = np.where(ext[rows] <= last, status[rows], 0)
    switched = (arm == 0) & (switch_day - 1 < ext[rows])
    beyond = time > horizon
    st = np.where(beyond, 0, st)
    switched = switched & ~beyond
    time = np.minimum(time, horizon)
    mweight = np.where(arm == 1, 1.0, 1.0 / n_ctrl[set_no])
    trial = _trial_index(t0, trial_days)
    if trial_days is None:
        label = trial.astype("datetime64[M]").astype(str)
    else:
        label = (trial * int(trial_days)).astype(str)
    out = pd.DataFrame(
        {
            "trial": label,
            "set": set_no,
            "arm": arm,
            "id": persons[id].to_numpy()[rows],
            "time_zero": t0.astype(np.int64),
            "time": time.astype(np.int64),
            "status": st.astype(np.int64),
            "switched": switched.astype(np.int64),
            "mweight": mweight,
        }
    )
    for col in match_on:
        out[col] = persons[col].to_numpy()[rows]
    out.attrs["cases_without_controls"] = int(case_idx.size - len(sets))
    return out.sort_values(["set", "arm", "id"], ascending=[True, False, True], kind="stable")


# ----- pooled logistic censoring model ------------------------------------------------------


def fit_logistic(
    columns: np.ndarray,
    n_params: int,
    events: np.ndarray,
    trials: np.ndarray,
    *,
    ridge: float = 1e-4,
    beta0: np.ndarray | None = None,
    max_iter: int = 50,
    tol: float = 1e-9,
) -> np.ndarray:
    """Binomial logistic regression with an indicator design, on grouped data.

    Row ``r`` of the design has ones in the columns ``columns[r]`` (``-1`` = no column) and
    zeros elsewhere; column 0 is the intercept. ``events`` of ``trials`` per row. Newton-Raphson
    with step halving on the penalised log-likelihood
    ``sum(y * eta - m * log(1 + exp(eta))) - ridge / 2 * |beta[1:]|^2``; the information matrix
    is assembled from counts over pairs of columns (no dense design). Rows with ``trials == 0``
    are ignored. ``beta0`` is a starting value. Stops when the step or the relative change of
    the objective is below ``tol`` (:func:`reawaken.epi._newton.maximise`). Returns ``beta``
    (``n_params``).
    """
    keep = trials > 0
    cols = np.where(columns[keep] < 0, n_params, columns[keep])  # column n_params: always 0
    y, m = events[keep].astype(float), trials[keep].astype(float)
    p = n_params
    pen = np.full(p + 1, ridge)
    pen[0] = 0.0
    beta = np.zeros(p + 1)
    if beta0 is not None:
        beta[:p] = beta0
    else:
        rate = y.sum() / max(m.sum(), 1e-300)
        beta[0] = np.log(max(rate, 1e-12) / max(1 - rate, 1e-12))
    q = cols.shape[1]
    pairs = [(a, b) for a in range(q) for b in range(q)]
    # the columns of one position are one factor's levels: their block of the information is
    # diagonal; the largest such block is eliminated by its Schur complement (small solves)
    slots = [np.unique(cols[:, a][cols[:, a] < p]) for a in range(q)]
    diag_block = max(slots, key=len)

    def derivatives(coef: np.ndarray) -> Derivatives:
        eta = coef[cols].sum(axis=1)
        value = float(y @ eta - m @ np.logaddexp(0.0, eta) - 0.5 * pen @ (coef * coef))
        prob = 1.0 / (1.0 + np.exp(-eta))
        resid = y - m * prob
        w = m * prob * (1 - prob)
        score = sum(np.bincount(cols[:, a], weights=resid, minlength=p + 1) for a in range(q))
        score = score - pen * coef
        info = sum(
            np.bincount(cols[:, a] * (p + 1) + cols[:, b], weights=w, minlength=(p + 1) ** 2)
            for a, b in pairs
        ).reshape(p + 1, p + 1)
        return Derivatives(value, score, info[:p, :p] + np.diag(pen[:p] + 1e-12))

    def solve(info: np.ndarray, score: np.ndarray) -> np.ndarray:
        return np.append(_solve_with_diagonal_block(info, score[:p], diag_block), 0.0)

    fit = maximise(
        derivatives, beta, solve=solve, tol=tol, loglik_tol=tol, max_iter=max_iter, max_halvings=39
    )
    return fit.beta[:p]


def _solve_with_diagonal_block(info: np.ndarray, rhs: np.ndarray, diag: np.ndarray) -> np.ndarray:
    """Solve ``info x = rhs`` where ``info[diag][:, diag]`` is diagonal (block elimination).

    Only the Schur complement of the diagonal block, of the size of the other columns, is
    factorised: small dense solves do not start threaded BLAS, which stalls on busy machines.
    """
    rest = np.setdiff1d(np.arange(rhs.size), diag)
    d = np.diag(info)[diag]
    b = info[np.ix_(rest, diag)]
    schur = info[np.ix_(rest, rest)] - (b / d) @ b.T
    x = np.empty_like(rhs)
    try:
        x[rest] = np.linalg.solve(schur, rhs[rest] - b @ (rhs[diag] / d))
    except np.linalg.LinAlgError:  # ridge-penalised, so only in degenerate data: least squares
        x[rest] = np.linalg.lstsq(schur, rhs[rest] - b @ (rhs[diag] / d), rcond=None)[0]
    x[diag] = (rhs[diag] - b.T @ x[rest]) / d
    return x


def _design(factors: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """Column indices of the ones of an intercept plus treatment-coded indicators (first level
    = reference) of integer factors; returns (columns, number of parameters)."""
    n = len(factors[0]) if factors else 0
    cols = [np.zeros(n, dtype=np.int64)]
    offset = 1
    for f in factors:
        levels = int(f.max()) + 1 if f.size else 1
        cols.append(np.where(f > 0, offset + f - 1, -1))
        offset += levels - 1
    return np.column_stack(cols), offset


@dataclass
class _CensoringRows:
    """Control follow-up cut into intervals: one row per (control row, interval)."""

    row: np.ndarray  # index into the matched table
    interval: np.ndarray  # j = 0, 1, ...
    censored: np.ndarray  # 1 if the control was censored (infected) in this interval
    pattern: np.ndarray  # covariate pattern (denominator model)
    interval_code: np.ndarray  # numerator pattern
    x_den: tuple[np.ndarray, int]  # design of the distinct denominator patterns
    x_num: tuple[np.ndarray, int]  # design of the distinct numerator patterns
    beta: dict = field(default_factory=dict)  # full-data fits, starting values of refits


def _censoring_rows(
    matched: pd.DataFrame, interval_days: int, factors: Sequence[str]
) -> _CensoringRows:
    ctrl = np.flatnonzero(matched["arm"].to_numpy() == 0)
    time = matched["time"].to_numpy()[ctrl]
    n_int = (time + interval_days - 1) // interval_days  # intervals with some follow-up
    row = np.repeat(ctrl, n_int)
    start = np.repeat(np.cumsum(n_int) - n_int, n_int)
    j = np.arange(row.size) - start
    last = j == np.repeat(n_int - 1, n_int)
    censored = (last & (matched["switched"].to_numpy()[row] == 1)).astype(np.int64)
    day = matched["time_zero"].to_numpy()[row] + j * interval_days
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    codes = [pd.factorize(j, sort=True)[0], pd.factorize(month, sort=True)[0]]
    for col in factors:
        codes.append(pd.factorize(matched[col].to_numpy()[row], sort=True)[0])
    uniq, pattern = _unique_rows(codes)
    uniq_j, interval_code = np.unique(codes[0], return_inverse=True)
    return _CensoringRows(
        row=row,
        interval=j,
        censored=censored,
        pattern=pattern,
        interval_code=interval_code.ravel(),
        x_den=_design(uniq),
        x_num=_design([uniq_j]),
    )


def _unique_rows(codes: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns ``codes`` (non-negative integers) in lexicographic order,
    as columns, and each row's number among them (``np.unique(axis=0)``, through one integer
    key per row when it fits in 62 bits: a sort of numbers instead of rows)."""
    sizes = [int(c.max()) + 1 if c.size else 1 for c in codes]
    if np.prod(np.asarray(sizes, dtype=float)) >= 2.0**62:
        uniq, inverse = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
        return [uniq[:, k] for k in range(uniq.shape[1])], inverse.ravel()
    key = np.zeros(codes[0].size, dtype=np.int64)
    for c, size in zip(codes, sizes, strict=True):
        key = key * size + c
    uniq_key, inverse = np.unique(key, return_inverse=True)
    columns = []
    for size in reversed(sizes):
        columns.append(uniq_key % size)
        uniq_key = uniq_key // size
    return columns[::-1], inverse.ravel()


def _interval_weights(cr: _CensoringRows, freq: np.ndarray) -> np.ndarray:
    """Stabilised IPC weight of each (control row, interval), given row frequencies ``freq``."""
    f = freq[cr.row]
    probs = []
    for name, (cols, n_params), pat in (
        ("den", cr.x_den, cr.pattern),
        ("num", cr.x_num, cr.interval_code),
    ):
        k = cols.shape[0]
        ev = np.bincount(pat, weights=f * cr.censored, minlength=k)
        tr = np.bincount(pat, weights=f, minlength=k)
        beta = fit_logistic(cols, n_params, ev, tr, beta0=cr.beta.get(name))
        cr.beta.setdefault(name, beta)
        eta = np.where(cols < 0, 0.0, np.append(beta, 0.0)[cols]).sum(axis=1)
        probs.append(1.0 / (1.0 + np.exp(-eta))[pat])
    p_den, p_num = probs
    log_ratio = np.log1p(-p_num) - np.log1p(-p_den)
    cum = np.cumsum(log_ratio)
    starts = np.flatnonzero(cr.interval == 0)  # each control row's intervals are contiguous
    before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    offset = np.repeat(before, np.diff(np.append(starts, cum.size)))
    return np.exp(cum - offset - 0.5 * log_ratio)


# ----- weighted cumulative incidence, standardised over the matching strata -----------------


def _aalen_johansen(
    at_risk: np.ndarray, d1: np.ndarray, d2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Aalen-Johansen CIFs of cause 1 and 2 (stacked on a new first axis) and the all-cause
    survival, from weighted numbers at risk and events per day (``(..., horizon)``: one curve
    per leading index). With no cause 2 the CIF is one minus the weighted Kaplan-Meier."""
    with np.errstate(divide="ignore", invalid="ignore"):
        h1 = np.where(at_risk > 0, d1 / at_risk, 0.0)
        h2 = np.where(at_risk > 0, d2 / at_risk, 0.0)
    surv = np.cumprod(np.clip(1.0 - h1 - h2, 0.0, 1.0), axis=-1)
    before = np.concatenate((np.ones((*surv.shape[:-1], 1)), surv[..., :-1]), axis=-1)
    cif = np.stack([np.cumsum(before * h1, axis=-1), np.cumsum(before * h2, axis=-1)])
    return cif, surv


@dataclass(frozen=True)
class _StratumCurves:
    """Curves per arm and matching stratum, and their standardisation."""

    cif: np.ndarray  # standardised CIFs (arm 0/1, cause 1/2, day 1..horizon)
    share: np.ndarray  # infected arm's weight share of each stratum
    at_risk: np.ndarray  # weighted number at risk (arm, stratum, day)
    surv: np.ndarray  # all-cause survival (arm, stratum, day)


def _stratum_curves(
    matched: pd.DataFrame,
    cr: _CensoringRows | None,
    freq: np.ndarray,
    interval_days: int,
    horizon: int,
    stratum: np.ndarray,
) -> _StratumCurves:
    """Weighted Aalen-Johansen CIFs per arm and stratum (``stratum``: 0, 1, ... per matched
    row), averaged over the strata with the infected arm's stratum shares; row frequencies
    ``freq`` (bootstrap). Rows without interval weights weigh ``mweight * freq`` on days
    1..time; controls' intervals, when censoring weights are used, their interval weights."""
    time = matched["time"].to_numpy()
    status = matched["status"].to_numpy()
    arm = matched["arm"].to_numpy()
    base_w = matched["mweight"].to_numpy() * freq
    n_strata = int(stratum.max()) + 1
    cell = arm * n_strata + stratum  # (arm, stratum) of each row
    width = horizon + 2  # difference arrays over days 0..horizon+1
    size = 2 * n_strata * width
    plain = np.ones(len(matched), dtype=bool) if cr is None else arm == 1
    start = cell[plain] * width
    diff = np.bincount(start + 1, weights=base_w[plain], minlength=size)
    diff -= np.bincount(start + time[plain] + 1, weights=base_w[plain], minlength=size)
    event_w = base_w.copy()
    if cr is not None:
        w = _interval_weights(cr, freq) * base_w[cr.row]
        lo = cr.interval * interval_days + 1
        hi = np.minimum((cr.interval + 1) * interval_days, time[cr.row])
        start = cell[cr.row] * width
        diff += np.bincount(start + lo, weights=w, minlength=size)
        diff -= np.bincount(start + hi + 1, weights=w, minlength=size)
        last = np.r_[cr.row[1:] != cr.row[:-1], True]
        event_w[cr.row[last]] = w[last]
    at_risk = np.cumsum(diff.reshape(2, n_strata, width), axis=-1)[..., 1 : horizon + 1]
    day = cell * (horizon + 1) + time
    d1, d2 = (
        np.bincount(
            day, weights=event_w * (status == c), minlength=2 * n_strata * (horizon + 1)
        ).reshape(2, n_strata, horizon + 1)[..., 1:]
        for c in (1, 2)
    )
    cif, surv = _aalen_johansen(at_risk, d1, d2)  # cif: (cause, arm, stratum, day)
    share = np.bincount(stratum[arm == 1], weights=base_w[arm == 1], minlength=n_strata)
    share = share / share.sum()
    standardised = np.tensordot(cif, share, axes=([2], [0])).transpose(1, 0, 2)
    return _StratumCurves(standardised, share, at_risk, surv)


def _curves(
    matched: pd.DataFrame,
    cr: _CensoringRows | None,
    freq: np.ndarray,
    interval_days: int,
    horizon: int,
    stratum: np.ndarray,
) -> np.ndarray:
    """Standardised CIFs (arm 0/1, cause 1/2, day 1..horizon) with row frequencies ``freq``."""
    return _stratum_curves(matched, cr, freq, interval_days, horizon, stratum).cif


def _unfollowed_strata(
    fitted: _StratumCurves,
    matched: pd.DataFrame,
    match_on: list[str],
    stratum: np.ndarray,
    day: int,
) -> list[str]:
    """Notes on strata whose arm has nobody left at risk before ``day`` while some of it is
    still event-free: the stratum's risk in that arm stays flat from there (underestimated)."""
    idx = day - 1
    empty = (fitted.at_risk[..., idx] <= 0) & (fitted.surv[..., idx] > 0) & (fitted.share > 0)
    notes = []
    arm = matched["arm"].to_numpy()
    for a, s in sorted(zip(*np.nonzero(empty), strict=True), key=lambda cell: -cell[0]):
        row = np.flatnonzero((arm == a) & (stratum == s))[0]
        label = ", ".join(f"{c}={show(matched[c].iloc[row])}" for c in match_on) or "all"
        last = int(np.flatnonzero(fitted.at_risk[a, s] > 0).max(initial=-1)) + 1
        notes.append(
            f"nobody of stratum {label} is followed beyond day {last} in the "
            f"{'infected' if a == 1 else 'not infected'} arm: its risk (share "
            f"{fitted.share[s]:.3f} of the standardised risks) is not estimated after that day"
        )
    return notes


def percentile_interval(
    values: np.ndarray, level: float, bootstrap: int
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval at ``level`` over the first axis of bootstrap ``values`` (replicates
    that gave no value, NaN, are left out); NaN without replicates."""
    alpha = (1.0 - level) / 2.0
    if bootstrap == 0:
        nan = np.full(values.shape[1:], np.nan)
        return nan, nan
    if np.isnan(values).any():
        return np.nanquantile(values, alpha, axis=0), np.nanquantile(values, 1 - alpha, axis=0)
    return np.quantile(values, alpha, axis=0), np.quantile(values, 1 - alpha, axis=0)


@dataclass(frozen=True)
class EmulationResult(RatioResult):
    """An emulated target trial: matched trials, curves per arm, risks and the weights used.

    ``estimates(level=)`` gives the risk ratio at each day of ``risks`` in the standard columns
    (``term`` is ``risk_ratio_<day>d``): ``coef`` its log, the interval the bootstrap
    percentile interval, ``se`` the interval's width on the log scale over ``2 z`` and
    ``p_value`` the Wald p from those. ``summary()`` gives the trials, matched persons,
    censoring weights, replicates and seed; ``write(out)`` both as files.

    Parameters
    ----------
    matched : pandas.DataFrame
        The matched trials, one row per trial member (see :func:`match_trials`).
    curves : pandas.DataFrame
        Cumulative incidence per arm and day: ``arm`` (``infected``, ``not infected``),
        ``day, cif, ci_lower, ci_upper, competing_cif``.
    risks : pandas.DataFrame
        One row per day compared: ``day``, ``risk_exposed``, ``risk_unexposed``,
        ``risk_difference``, ``risk_ratio``, each with its bootstrap interval (``*_lower``,
        ``*_upper``; ``rd_``, ``rr_`` for the difference and ratio), ``events_exposed``,
        ``events_unexposed``, ``persons_exposed``, ``persons_unexposed``.
    weights : dict
        Whether censoring weights were used, and their mean, min, max and 99th percentile.
    seed : int
        The seed of matching and bootstrap.
    bootstrap : int
        Number of bootstrap replicates.
    notes : list of str
        What was left out and why (cases without an eligible control).
    level : float, default 0.95
        Confidence level of the intervals.
    ratio_replicates : numpy.ndarray
        Bootstrap risk ratios (replicates x days; NaN where a replicate has no ratio).
    balance : pandas.DataFrame
        Covariate balance of the arms at time zero, weighted by the matching weights
        (:func:`reawaken.epi.balance.standardized_differences`; ``mean_1`` the infected arm).

    Examples
    --------
    >>> from reawaken.epi import emulate, example_data
    >>> persons = example_data("emulation")
    >>> result = emulate(persons, bootstrap=20, seed=1)
    >>> result.summary()["matched_cases"], result.summary()["matched_controls"]
    (56, 280)
    >>> result.estimates()[["term", "ratio"]].round(3)
                  term  ratio
    0   risk_ratio_91d  1.192
    1  risk_ratio_183d  1.114
    2  risk_ratio_365d  0.845
    """

    matched: pd.DataFrame
    curves: pd.DataFrame  # arm, day, cif, ci_lower, ci_upper, competing
    risks: pd.DataFrame  # day, risk_exposed, risk_unexposed, risk_difference, risk_ratio, CIs
    weights: dict
    seed: int
    bootstrap: int
    notes: list[str] = field(default_factory=list)
    level: float = 0.95
    ratio_replicates: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    balance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BALANCE_COLUMNS))

    def estimates(self, *, level: float | None = None) -> pd.DataFrame:
        """Risk ratios ``risk_ratio_<day>d`` in the standard columns at ``level``."""
        level = check_level(self.level if level is None else level)
        ratio = self.risks["risk_ratio"].to_numpy(dtype=float)
        if level == self.level:
            lower = self.risks["rr_lower"].to_numpy(dtype=float)
            upper = self.risks["rr_upper"].to_numpy(dtype=float)
        else:
            lower, upper = percentile_interval(self.ratio_replicates, level, self.bootstrap)
        z = stats.norm.ppf(0.5 + level / 2.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.log(ratio)
            se = (np.log(upper) - np.log(lower)) / (2 * z)
            p = 2 * stats.norm.sf(np.abs(coef / se))
        return pd.DataFrame(
            {
                "term": [f"risk_ratio_{d}d" for d in self.risks["day"]],
                "coef": coef,
                "se": se,
                "ratio": self.risks["risk_ratio"],
                "ci_lower": lower,
                "ci_upper": upper,
                "p_value": p,
            },
            columns=ESTIMATE_COLUMNS,
        )

    def summary(self) -> dict:
        """Trials, matched persons, censoring weights, bootstrap replicates, seed and covariate
        balance (each covariate's or level's standardized mean difference, and the largest in
        absolute value)."""
        m = self.matched
        smd = self.balance["smd"].to_numpy(dtype=float)
        return {
            "trials": int(m["trial"].nunique()),
            "matched_cases": int((m["arm"] == 1).sum()),
            "matched_controls": int((m["arm"] == 0).sum()),
            "censoring_weights": self.weights,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "balance": [
                {
                    "covariate": row.covariate,
                    "level": None if pd.isna(row.level) else row.level,
                    "smd": None if np.isnan(row.smd) else float(row.smd),
                }
                for row in self.balance.itertuples(index=False)
            ],
            "max_abs_smd": float(np.abs(smd).max())
            if smd.size and not np.isnan(smd).any()
            else None,
        }


def emulate(
    persons: pd.DataFrame,
    *,
    id: str = "id",
    entry: str = "entry",
    exit: str = "exit",
    event: str = "event",
    infection: str = "infection",
    match_on: Sequence[str] = (),
    balance_on: Sequence[str] = (),
    controls_per_case: int = 5,
    trial_days: int | None = None,
    horizon: int = 365,
    interval_days: int = 30,
    weighted: bool = True,
    at: Sequence[int] = RISK_DAYS,
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int,
) -> EmulationResult:
    """Emulate a target trial of infection: matched sequential trials, censoring weights, risks.

    Each person infected while at risk is a case of that month's trial (or ``trial_days``
    block's), matched to persons at risk and not (yet) infected that day; controls who get
    infected are censored and weighted back by inverse probability of censoring weights; the
    arms' cumulative incidences are compared at the days ``at`` (see the module docstring for
    the design and its references). The seed drives the matching and, through a derived
    stream, the bootstrap.

    Parameters
    ----------
    persons : pandas.DataFrame
        One row per person.
    id : str, default "id"
        Column of the person identifier (unique).
    entry, exit : str, default "entry", "exit"
        Columns of the first and last day at risk (integer day numbers or dates).
    event : str, default "event"
        Column of what ends follow-up on ``exit``: 0 censored, 1 outcome, 2 competing event.
    infection : str, default "infection"
        Column of the day of the first infection (missing if none).
    match_on : sequence of str, optional
        Categorical columns matched exactly (e.g. stage and age band).
    balance_on : sequence of str, optional
        Further columns whose balance between the arms is reported, beside the ``match_on``
        ones (numeric columns as numbers, others level by level; see ``balance``).
    controls_per_case : int, default 5
        Controls drawn for each case (fewer when fewer are eligible).
    trial_days : int, optional
        Length of a trial's enrolment in days; by default one trial per calendar month.
    horizon : int, default 365
        Follow-up in days.
    interval_days : int, default 30
        Length of the intervals of the censoring model, in days.
    weighted : bool, default True
        Use the censoring weights (False skips them, for comparison).
    at : sequence of int, default (91, 183, 365)
        Days at which the risks are compared (1 to ``horizon``).
    bootstrap : int, default 200
        Bootstrap replicates (0: no intervals).
    level : float, default 0.95
        Confidence level of the percentile intervals.
    seed : int
        Seed of the matching and the bootstrap.

    Returns
    -------
    EmulationResult
        The matched trials, curves, risks, weights and covariate balance; ``estimates()`` gives
        the risk ratios. A note says which covariates have an absolute standardized mean
        difference above 0.1.

    Raises
    ------
    InputError
        If ``level`` is not between 0 and 1; ``interval_days``, ``controls_per_case`` or
        ``horizon`` is below 1; a day of ``at`` lies outside 1 to ``horizon``; a column (of
        ``balance_on`` too) is missing or there are no persons; an entry or exit day is
        missing, or exit comes before entry; an event is not 0, 1 or 2; a person id is
        repeated; a matching covariate is missing; or no infected person has an eligible
        control.

    Examples
    --------
    >>> from reawaken.epi import emulate, example_data
    >>> persons = example_data("emulation")
    >>> result = emulate(persons, bootstrap=20, seed=1)
    >>> result.risks[["day", "risk_exposed", "risk_unexposed", "risk_ratio"]].round(3)
       day  risk_exposed  risk_unexposed  risk_ratio
    0   91         0.037           0.031       1.192
    1  183         0.061           0.054       1.114
    2  365         0.117           0.139       0.845
    """
    check_level(level)
    for col in balance_on:
        if col not in persons.columns:
            raise InputError(f"no column {col!r} in the person table", column=col)
    if interval_days < 1:
        raise InputError(f"interval length must be at least 1 day, got {interval_days}")
    at = sorted(int(t) for t in at)
    if any(t < 1 or t > horizon for t in at):
        raise InputError(f"risk days {at} must lie in 1..horizon ({horizon})")
    matched = match_trials(
        persons,
        id=id,
        entry=entry,
        exit=exit,
        event=event,
        infection=infection,
        match_on=match_on,
        controls_per_case=controls_per_case,
        trial_days=trial_days,
        horizon=horizon,
        seed=seed,
    ).reset_index(drop=True)
    notes = []
    if matched.attrs.get("cases_without_controls"):
        notes.append(f"{matched.attrs['cases_without_controls']} cases had no eligible control")
    cr = (
        _censoring_rows(matched, interval_days, list(match_on))
        if weighted and (matched["switched"] == 1).any()
        else None
    )
    ones = np.ones(len(matched))
    stratum = _patterns(matched, match_on)
    fitted = _stratum_curves(matched, cr, ones, interval_days, horizon, stratum)
    point = fitted.cif
    notes.extend(_unfollowed_strata(fitted, matched, list(match_on), stratum, max(at)))
    weights = {"weighted": cr is not None}
    if cr is not None:
        w = _interval_weights(cr, ones)
        weights.update(
            mean=float(w.mean()),
            min=float(w.min()),
            max=float(w.max()),
            p99=float(np.quantile(w, 0.99)),
        )
    person = pd.factorize(matched["id"])[0]
    boot = np.empty((bootstrap, 2, 2, horizon))
    rng = np.random.default_rng([seed, 2])
    n_persons = int(person.max()) + 1
    for b in range(bootstrap):
        counts = rng.multinomial(n_persons, np.full(n_persons, 1.0 / n_persons))
        freq = counts[person].astype(float)
        boot[b] = _curves(matched, cr, freq, interval_days, horizon, stratum)

    def interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return percentile_interval(values, level, bootstrap)

    days = np.arange(1, horizon + 1)
    frames = []
    for a in (1, 0):
        lo, hi = interval(boot[:, a, 0])
        frames.append(
            pd.DataFrame(
                {
                    "arm": "infected" if a == 1 else "not infected",
                    "day": days,
                    "cif": point[a, 0],
                    "ci_lower": lo,
                    "ci_upper": hi,
                    "competing_cif": point[a, 1],
                }
            )
        )
    curves = pd.concat(frames, ignore_index=True)
    idx = np.asarray(at) - 1
    r1, r0 = point[1, 0, idx], point[0, 0, idx]
    b1, b0 = boot[:, 1, 0][:, idx], boot[:, 0, 0][:, idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        rr, brr = r1 / r0, b1 / b0
    rd_lo, rd_hi = interval(b1 - b0)
    ratio_replicates = np.where(np.isfinite(brr), brr, np.nan)
    rr_lo, rr_hi = interval(ratio_replicates)
    lo1, hi1 = interval(b1)
    lo0, hi0 = interval(b0)
    risks = pd.DataFrame(
        {
            "day": at,
            "risk_exposed": r1,
            "risk_exposed_lower": lo1,
            "risk_exposed_upper": hi1,
            "risk_unexposed": r0,
            "risk_unexposed_lower": lo0,
            "risk_unexposed_upper": hi0,
            "risk_difference": r1 - r0,
            "rd_lower": rd_lo,
            "rd_upper": rd_hi,
            "risk_ratio": rr,
            "rr_lower": rr_lo,
            "rr_upper": rr_hi,
        }
    )
    arm = matched["arm"].to_numpy()
    time = matched["time"].to_numpy()
    status = matched["status"].to_numpy()
    for name, a in (("exposed", 1), ("unexposed", 0)):
        hit = (arm == a) & (status == 1)
        risks[f"events_{name}"] = [int((hit & (time <= t)).sum()) for t in at]
        risks[f"persons_{name}"] = int((arm == a).sum())
    balance = _balance(persons, id, matched, list(match_on), list(balance_on))
    imbalance = imbalance_note(balance)
    if imbalance:
        notes.append(imbalance)
    return EmulationResult(
        matched, curves, risks, weights, seed, bootstrap, notes, level, ratio_replicates, balance
    )


def _balance(
    persons: pd.DataFrame, id: str, matched: pd.DataFrame, match_on: list[str], others: list[str]
) -> pd.DataFrame:
    """Standardized mean differences between the arms at time zero, weighted by the matching
    weights: the ``match_on`` covariates level by level (0 by construction, a check), then the
    ``others`` (the persons' values, looked up by id)."""
    others = [c for c in others if c not in match_on]
    frame = matched[match_on].copy()
    rows = pd.Index(persons[id]).get_indexer(matched["id"])
    for col in others:
        frame[col] = persons[col].to_numpy()[rows]
    return standardized_differences(
        frame,
        match_on + others,
        group=matched["arm"].to_numpy() == 1,
        weights=matched["mweight"].to_numpy(),
        categorical=match_on,
    )
