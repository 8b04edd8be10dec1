"""Fine-Gray proportional subdistribution hazards regression in O(n log n).

The model (Fine & Gray, JASA 94:496-509, 1999) regresses the subdistribution hazard of one cause
of failure on covariates. People who failed from a competing cause stay in the risk set after
their failure, weighted by ``G(t-) / G(T_j-)``, where ``G`` is the Kaplan-Meier estimate of the
censoring distribution. The estimates, the model-based information and the sandwich variance
(with the ``psi`` term for the estimated ``G``) are those of R's ``cmprsk::crr`` (Gray's Fortran
routines ``crrfsv`` and ``crrvv``), with Breslow's handling of tied failure times.

``crr`` sums over the whole risk set at each failure time, O(n^2). Here every sum is a cumulative
sum over people sorted by time: the weights factor as ``G(t-) * [1 / G(T_j-)]`` so the competing
part of the risk set at ``t`` is ``G(t-)`` times a running sum over earlier competing failures
(the inverse-weight decomposition of Kawaguchi, Shen, Li & Suchard, "A fast and scalable
implementation method for competing risks data with the R package fastcmprsk", R Journal 12(2),
2021). One score/information evaluation and the sandwich variance cost O(n p^2) after one sort.

Times are in any unit (days in reawaken); ``G`` is evaluated just before each time, as ``crr``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import pandas as pd

from reawaken.epi._cox_input import unestimable_in_data
from reawaken.epi._estimable import INFINITE, flat_in_risk_sets, na_notes
from reawaken.epi._newton import Derivatives, diverging_terms, inverse_or_nan, maximise
from reawaken.epi.tables import NewtonRatioFit
from reawaken.errors import ConvergenceWarning, InputError


@dataclass(frozen=True, kw_only=True)
class FineGrayFit(NewtonRatioFit):
    """A fitted Fine-Gray model, as :func:`fit_fine_gray` returns it.

    ``estimates()`` gives the standard table (``term, coef, se, ratio, ci_lower, ci_upper,
    p_value``; ratio = subdistribution hazard ratio); ``summary()`` the fit statistics as
    plain values; ``write(out)`` both as files.

    Parameters
    ----------
    information : numpy.ndarray
        The model-based information matrix.
    n, events, competing, censored : int
        Numbers of persons, failures of ``cause``, competing failures and censored persons.
    cause : int
        The cause modelled.
    missing : dict
        Rows left out for missing covariate values: ``rows_deleted`` and ``by_variable``.
    **fit
        The fields of every Newton-Raphson fit (:class:`reawaken.epi.tables.NewtonRatioFit`):
        ``terms``, ``coef`` (log subdistribution hazard ratios), ``var`` (the sandwich
        variance of Fine & Gray (1999), as ``cmprsk::crr`` reports it), ``loglik`` and
        ``loglik_null`` (the weighted partial log-likelihood), ``iterations``, ``converged``,
        ``notes`` and ``not_estimable`` (terms reported as NA: constant, aliased, flat within
        the risk sets or infinite; their ``coef`` is NaN when they were left out).

    Examples
    --------
    >>> from reawaken.epi import example_data, fit_fine_gray
    >>> df = example_data("competing")
    >>> fit = fit_fine_gray(df, time="time", event="event", covariates=["infected"])
    >>> fit.events, fit.competing, fit.censored, fit.converged
    (4, 2, 4, True)
    """

    model: ClassVar[str] = "fine-gray"
    counted: ClassVar[tuple[str, ...]] = ("cause", "n", "events", "competing", "censored")
    information: np.ndarray
    n: int
    events: int
    competing: int
    censored: int
    cause: int
    missing: dict = field(default_factory=lambda: {"rows_deleted": 0, "by_variable": {}})

    def summary(self) -> dict[str, object]:
        """Fit statistics, the terms reported as NA, rows left out and the notes."""
        return {
            **super().summary(),
            "not_estimable": self.not_estimable,
            "missing": self.missing,
            "notes": self.notes,
        }


class _Design:
    """People sorted by time, grouped by distinct time, with the censoring KM ``G(t-)``."""

    def __init__(self, time: np.ndarray, status: np.ndarray, z: np.ndarray) -> None:
        order = np.argsort(time, kind="stable")
        self.time = time[order]
        self.status = status[order]  # 1 cause of interest, 2 competing, 0 censored
        self.z = z[order] - z.mean(axis=0)  # centring leaves every estimate unchanged
        n = self.time.size
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(self.time[1:], self.time[:-1], out=new[1:])
        self.starts = np.flatnonzero(new)
        self.group = np.cumsum(new) - 1
        ngroups = self.starts.size
        self.at_risk = (n - self.starts).astype(float)
        self.censored = np.bincount(self.group, weights=self.status == 0, minlength=ngroups)
        self.failed = np.bincount(self.group, weights=self.status == 1, minlength=ngroups)
        # Kaplan-Meier of censoring (failures at a tied time stay at risk), just before each time
        surv = np.cumprod(1.0 - self.censored / self.at_risk)
        self.g_minus_group = np.concatenate(([1.0], surv[:-1]))
        self.g_minus = self.g_minus_group[self.group]
        self.is_competing = self.status == 2
        self.fail_groups = np.flatnonzero(self.failed > 0)

    def _group_sums(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.starts, axis=0)

    def risk_sums(self, weights: np.ndarray, moments: list[np.ndarray]) -> list[np.ndarray]:
        """Weighted risk-set sums at each distinct time for each moment (``w * m`` summed).

        The risk set at ``t``: everyone with ``T >= t`` (weight ``w``) and everyone who failed
        from the competing cause before ``t`` (weight ``w * G(t-) / G(T-)``).
        """
        out = []
        comp_w = np.where(self.is_competing, weights / self.g_minus, 0.0)
        for m in moments:
            shape = (-1,) + (1,) * (m.ndim - 1)
            at_or_after = self._group_sums(weights.reshape(shape) * m)
            at_or_after = np.cumsum(at_or_after[::-1], axis=0)[::-1]
            comp = self._group_sums(comp_w.reshape(shape) * m)
            before = np.cumsum(comp, axis=0) - comp
            gm = self.g_minus_group.reshape(shape)
            out.append(at_or_after + gm * before)
        return out


def _linear_predictor(design: _Design, beta: np.ndarray) -> tuple[np.ndarray, float]:
    eta = design.z @ beta
    shift = float(eta.max()) if eta.size else 0.0
    return np.exp(eta - shift), shift


def _loglik(design: _Design, beta: np.ndarray) -> float:
    w, shift = _linear_predictor(design, beta)
    (s0,) = design.risk_sums(w, [np.ones(w.size)])
    fg = design.fail_groups
    eta_events = float(design.z[design.status == 1].sum(axis=0) @ beta)
    return eta_events - float(design.failed[fg] @ (np.log(s0[fg]) + shift))


def _score_information(
    design: _Design, beta: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    z = design.z
    w, shift = _linear_predictor(design, beta)
    zz = z[:, :, None] * z[:, None, :]
    s0, s1, s2 = design.risk_sums(w, [np.ones(w.size), z, zz])
    fg = design.fail_groups
    d = design.failed[fg]
    zbar = s1[fg] / s0[fg, None]
    events = design.status == 1
    loglik = float(z[events].sum(axis=0) @ beta) - float(d @ (np.log(s0[fg]) + shift))
    score = z[events].sum(axis=0) - d @ zbar
    cov = s2[fg] / s0[fg, None, None] - zbar[:, :, None] * zbar[:, None, :]
    info = np.einsum("k,kij->ij", d, cov)
    parts = {"w": w, "s0": s0[fg], "zbar": zbar}
    return loglik, score, info, parts


def _sandwich_middle(design: _Design, parts: dict[str, np.ndarray]) -> np.ndarray:
    """Sum over people of (eta_i + psi_i)(eta_i + psi_i)^T, Fine & Gray (1999) eq. (A.3)."""
    z, w = design.z, parts["w"]
    ngroups = design.starts.size
    p = z.shape[1]
    fg = design.fail_groups
    # per distinct time: d_k / S0(t_k) and its products with zbar and G(t_k-)
    a = np.zeros(ngroups)
    a[fg] = design.failed[fg] / parts["s0"]
    az = np.zeros((ngroups, p))
    az[fg] = a[fg, None] * parts["zbar"]
    gm = design.g_minus_group
    g = design.group
    zbar_person = np.zeros((ngroups, p))
    zbar_person[fg] = parts["zbar"]

    # eta: dN part minus the integral of the person's share of the risk set
    c0 = np.cumsum(a)[g]
    cz = np.cumsum(az, axis=0)[g]
    later0 = np.cumsum((a * gm)[::-1])[::-1]  # sum over t_k >= u of a_k G(t_k-)
    laterz = np.cumsum((az * gm[:, None])[::-1], axis=0)[::-1]
    strictly0 = np.append(later0[1:], 0.0)[g]  # t_k > T_i
    strictlyz = np.vstack([laterz[1:], np.zeros((1, p))])[g]
    comp = design.is_competing
    inv_g = np.where(comp, 1.0 / design.g_minus, 0.0)
    r0 = c0 + inv_g * strictly0
    rz = cz + inv_g[:, None] * strictlyz
    eta = -(w[:, None] * (z * r0[:, None] - rz))
    events = design.status == 1
    eta[events] += z[events] - zbar_person[g[events]]

    # psi: the censoring-martingale part, q(u) at each censoring time
    comp_w = np.where(comp, w / design.g_minus, 0.0)
    e0 = np.add.reduceat(comp_w, design.starts)
    e1 = np.add.reduceat(comp_w[:, None] * z, design.starts, axis=0)
    e0 = np.cumsum(e0) - e0  # competing failures strictly before u
    e1 = np.cumsum(e1, axis=0) - e1
    q = e1 * later0[:, None] - e0[:, None] * laterz
    y = design.at_risk
    cens = design.censored
    drift = np.cumsum(q * (cens / y**2)[:, None], axis=0)
    psi = -drift[g]
    censored = design.status == 0
    psi[censored] += q[g[censored]] / y[g[censored], None]
    total = eta + psi
    return total.T @ total


def fine_gray(
    time: np.ndarray,
    event: np.ndarray,
    covariates: np.ndarray,
    *,
    terms: list[str] | None = None,
    cause: int = 1,
    tol: float = 1e-10,
    max_iter: int = 50,
) -> FineGrayFit:
    """Fit a Fine-Gray model by Newton-Raphson with step halving.

    ``time`` (n,) non-negative, ``event`` (n,) integer codes with 0 censored, ``cause`` the failure
    of interest and any other positive code a competing failure; ``covariates`` (n, p).
    Converges when the largest Newton step is below ``tol`` (log-ratio units).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event)
    z = np.asarray(covariates, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    n, p = z.shape
    terms = [f"x{j + 1}" for j in range(p)] if terms is None else list(terms)
    check_cause(event, cause)
    status = np.where(event == cause, 1, np.where(event == 0, 0, 2))
    ones, zeros = np.ones(n), np.zeros(n, dtype=np.int64)
    dropped = unestimable_in_data(z, ones, zeros, terms)
    keep = [j for j, term in enumerate(terms) if term not in dropped]
    if keep:
        design = _Design(time, status, _columns(z, keep))
        info0 = _score_information(design, np.zeros(len(keep)))[2]
        flat = flat_in_risk_sets(
            info0, design.z, ones, float(np.sum(status == 1)), [terms[j] for j in keep]
        )
        dropped.update(flat)
        keep = [j for j in keep if terms[j] not in flat]
    if not keep:
        reasons = "; ".join(f"{t!r}: {r}" for t, r in dropped.items())
        raise InputError(f"no covariate can be estimated ({reasons})")
    fitted = [terms[j] for j in keep]
    design = _Design(time, status, _columns(z, keep))

    def derivatives(beta: np.ndarray) -> Derivatives:
        loglik, score, info, parts = _score_information(design, beta)
        return Derivatives(loglik, score, info, parts)

    def loglik_at(beta: np.ndarray) -> float:
        return _loglik(design, beta)

    fit = maximise(
        derivatives,
        np.zeros(len(keep)),
        loglik=loglik_at,
        tol=tol,
        max_iter=max_iter,
        model="Fine-Gray",
        terms=fitted,
    )
    if fit.singular and fit.iterations == 1:
        raise InputError(
            "the information matrix is singular at the start: the covariates "
            f"{', '.join(fitted)} are collinear within the risk sets, so their "
            "subdistribution hazard ratios cannot be estimated: drop one of them"
        )
    notes = list(fit.notes)
    infinite = diverging_terms(loglik_at, fit.beta, fit.loglik, fitted)
    dropped.update({term: INFINITE for term in infinite})
    if not fit.converged:
        message = f"Fine-Gray fit did not converge in {fit.iterations} iterations"
        notes.append(message + (f": {notes[-1]}" if notes else ""))
        warnings.warn(notes[-1], ConvergenceWarning, stacklevel=2)
    elif infinite:
        warnings.warn(
            f"coefficient(s) {', '.join(infinite)} infinite (monotone likelihood): reported as NA",
            ConvergenceWarning,
            stacklevel=2,
        )
    not_estimable = {t: dropped[t] for t in terms if t in dropped}
    hinv = inverse_or_nan(fit.information)
    var = hinv @ _sandwich_middle(design, fit.extra) @ hinv.T
    coef = np.full(p, np.nan)
    coef[keep] = fit.beta
    full_var = np.full((p, p), np.nan)
    full_var[np.ix_(keep, keep)] = var
    full_info = np.full((p, p), np.nan)
    full_info[np.ix_(keep, keep)] = fit.information
    return FineGrayFit(
        terms=terms,
        coef=coef,
        var=full_var,
        information=full_info,
        loglik=fit.loglik,
        loglik_null=fit.loglik_start,
        n=n,
        events=int(np.sum(status == 1)),
        competing=int(np.sum(status == 2)),
        censored=int(np.sum(status == 0)),
        cause=cause,
        iterations=fit.iterations,
        converged=fit.converged,
        notes=na_notes(not_estimable) + notes,
        not_estimable=not_estimable,
    )


def _columns(z: np.ndarray, keep: list[int]) -> np.ndarray:
    """The kept columns of ``z`` (``z`` itself when all are kept, so that the sums run in the
    same order as before any were left out)."""
    return z if len(keep) == z.shape[1] else np.ascontiguousarray(z[:, keep])


def check_cause(event: np.ndarray, cause: int, *, file=None, column: str | None = None) -> None:
    """The cause modelled must be an event code present in the data other than the censoring
    code 0; else an InputError listing the codes present."""
    present = sorted({int(c) for c in np.unique(event) if c != 0})
    codes = ", ".join(map(str, present)) or "none"
    if cause == 0:
        raise InputError(
            "cause 0 is the censoring code: the cause modelled must be a failure code "
            f"(present: {codes})",
            file=file,
            column=column,
        )
    if cause not in present:
        raise InputError(
            f"no failures of cause {cause}: the failure codes present are {codes}",
            file=file,
            column=column,
        )


def fit_fine_gray(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: list[str],
    cause: int = 1,
    file: str | None = None,
    tol: float = 1e-10,
    max_iter: int = 50,
    missing: str = "drop",
) -> FineGrayFit:
    """Fit a Fine-Gray subdistribution hazards model of one cause from a table.

    Equal to R's ``crr(time, event, cov1 = covariates, failcode = cause, cencode = 0)``
    (``cmprsk``), in O(n log n) (see the module docstring).

    Parameters
    ----------
    frame, time, event : pandas.DataFrame, str, str
        The data, one row per person, and its columns of follow-up time (days, >= 0) and event
        code (0 censored, ``cause`` the failure modelled, any other positive integer a
        competing failure), checked as :func:`reawaken.epi.competing.check_competing_data`
        does.
    covariates : list of str
        Covariate columns (numeric). One that cannot be estimated (constant, aliased with
        others, flat within the risk sets, infinite) is reported as NA, the others fitted
        without it.
    cause : int, default 1
        The cause modelled: an event code present in the data, not the censoring code 0.
    file : str, optional
        Only names the source file in error messages.
    tol : float, default 1e-10
        Convergence when the largest Newton step (log scale) is below ``tol``.
    max_iter : int, default 50
        Most Newton-Raphson iterations.
    missing : {"drop", "error"}, default "drop"
        Rows with a missing covariate value: ``drop`` leaves them out (R's ``na.omit``;
        ``missing`` of the fit counts them per column), ``error`` refuses them. A missing time
        or event code is always an error.

    Returns
    -------
    FineGrayFit
        The fit: ``estimates()`` (ratio = subdistribution hazard ratio), ``summary()``,
        ``write(out)``.

    Raises
    ------
    InputError
        If a column is missing or there are no rows; a time is missing, not a number or
        negative; an event code is not 0 or a positive integer; a covariate is not a number,
        or missing with ``missing="error"``; ``cause`` is 0 or has no failures; no covariate
        can be estimated; or the information matrix is singular at the start. The message
        names the file, row and column where known.

    Warns
    -----
    ConvergenceWarning
        If the fit did not converge in ``max_iter`` iterations or a coefficient runs off to
        infinity; the fit's ``notes`` say which.

    Examples
    --------
    >>> from reawaken.epi import example_data, fit_fine_gray
    >>> df = example_data("competing")
    >>> fit = fit_fine_gray(df, time="time", event="event", covariates=["infected"])
    >>> fit.estimates()[["term", "ratio", "ci_lower", "ci_upper"]].round(3)
           term  ratio  ci_lower  ci_upper
    0  infected  4.681     0.669     32.73
    """
    from reawaken.epi.competing import check_competing_data, covariate_matrix

    t, e = check_competing_data(frame, time, event, file=file)
    x, counts = covariate_matrix(frame, covariates, file=file, missing=missing)
    complete = ~np.isnan(x).any(axis=1)
    check_cause(e[complete], cause, file=file, column=event)
    fit = fine_gray(
        t[complete],
        e[complete],
        x[complete],
        terms=list(covariates),
        cause=cause,
        tol=tol,
        max_iter=max_iter,
    )
    return replace(fit, missing={"rows_deleted": int((~complete).sum()), "by_variable": counts})
