"""Newton-Raphson for every likelihood fit in :mod:`reawaken.epi`: one module, two step rules.

:func:`maximise` is Newton-Raphson with step halving, as the Fine-Gray model, the
self-controlled case series and the pooled logistic censoring model of the emulation use it:
from a starting value, take the step ``information^-1 score``; while the log-likelihood (or
penalised log-likelihood) falls by more than ``1e-12`` of its size, halve the step (at most
``max_halvings`` times); stop when the largest step is below ``tol`` (or, with ``loglik_tol``,
when the log-likelihood changes by less than that fraction of itself). A singular information
or a step that cannot raise the log-likelihood stops the iteration with a note: the fit is then
reported as not converged, never as numbers that look fine (:func:`report_convergence`).

:func:`coxph_newton` is the iteration of R's ``coxph`` (survival's agfit4.c: from beta = 0,
convergence when ``|1 - loglik_old / loglik_new| <= eps`` with no step halving in progress,
halving toward the last good beta when the log-likelihood falls), so that iteration counts equal
R's (Therneau and Grambsch 2000, *Modeling Survival Data*, ch. 3).

Both take ``derivatives(beta)``, returning the log-likelihood, score and information as
:class:`Derivatives`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from scipy import linalg

from reawaken.errors import ConvergenceWarning


class Derivatives(NamedTuple):
    """Log-likelihood, score vector and information matrix at one beta; ``extra`` carries
    what a fit computed along with them and needs again at the estimate."""

    loglik: float
    score: np.ndarray
    information: np.ndarray
    extra: Any = None


@dataclass(frozen=True)
class NewtonFit:
    """Where the iteration stopped: ``beta`` and the derivatives there, the log-likelihood at
    the start, the number of iterations (as R counts them for :func:`coxph_newton`), whether it
    converged, and notes on why it stopped early."""

    beta: np.ndarray
    loglik: float
    loglik_start: float
    score: np.ndarray
    information: np.ndarray
    iterations: int
    converged: bool
    singular: bool = False
    halvings: int = 0
    score_test: float = float("nan")
    extra: Any = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def stopped_at(
        cls,
        beta: np.ndarray,
        at: Derivatives,
        *,
        loglik_start: float,
        iterations: int,
        converged: bool,
        **more: Any,
    ) -> NewtonFit:
        """Where an iteration stopped: ``beta`` with the derivatives ``at`` it; ``more`` sets the
        remaining fields."""
        return cls(
            beta=beta,
            loglik=at.loglik,
            loglik_start=loglik_start,
            score=at.score,
            information=at.information,
            iterations=iterations,
            converged=converged,
            **more,
        )


def newton_step(info: np.ndarray, score: np.ndarray) -> np.ndarray | None:
    """The Newton step ``info^-1 score``, or None when the information is singular or not
    finite (the caller reports non-convergence naming the terms)."""
    if not (np.all(np.isfinite(info)) and np.all(np.isfinite(score))):
        return None
    try:
        step = np.linalg.solve(info, score)
    except np.linalg.LinAlgError:
        return None
    return step if np.all(np.isfinite(step)) else None


def inverse_or_nan(info: np.ndarray) -> np.ndarray:
    """``info^-1``, or a matrix of NaN when it is singular (no standard errors, not numbers that
    look fine)."""
    try:
        if np.all(np.isfinite(info)):
            inv = np.linalg.inv(info)
            if np.all(np.isfinite(inv)):
                return inv
    except np.linalg.LinAlgError:
        pass
    return np.full(info.shape, np.nan)


def singular_note(model: str, terms: Sequence[str], iteration: int) -> str:
    """Why no Newton step could be taken at ``iteration``."""
    return (
        f"the {model} information matrix is singular at iteration {iteration}: the terms "
        f"{', '.join(terms)} are collinear or one of them does not vary within the risk sets, "
        "so no step could be taken"
    )


def diverging_terms(
    loglik_at: Callable[[np.ndarray], float],
    beta: np.ndarray,
    loglik: float,
    terms: Sequence[str],
) -> list[str]:
    """Terms whose estimate runs off to infinity although the Newton steps became small.

    When the likelihood is monotone in a coefficient (e.g. a covariate that separates the
    failures), Newton-Raphson creeps out until the score vanishes in floating point. A large
    coefficient (|b| > 5 on the log scale) whose doubling does not lower the log-likelihood is
    reported; at a finite maximum doubling it lowers the log-likelihood by far more.
    """
    out = []
    for j, term in enumerate(terms):
        if abs(beta[j]) <= 5.0:
            continue
        pushed = beta.copy()
        pushed[j] *= 2.0
        value = loglik_at(pushed)
        if np.isfinite(value) and value >= loglik - 1e-6 * max(1.0, abs(loglik)):
            out.append(term)
    return out


def maximise(
    derivatives: Callable[[np.ndarray], Derivatives],
    beta: np.ndarray,
    *,
    loglik: Callable[[np.ndarray], float] | None = None,
    solve: Callable[[np.ndarray, np.ndarray], np.ndarray | None] = newton_step,
    tol: float = 1e-10,
    loglik_tol: float | None = None,
    max_iter: int = 50,
    max_halvings: int = 30,
    model: str = "",
    terms: Sequence[str] = (),
    at_start: Derivatives | None = None,
) -> NewtonFit:
    """Newton-Raphson with step halving from ``beta`` (see the module docstring).

    ``loglik(beta)``, when given, is a cheaper log-likelihood alone for the halving trials;
    without it each trial evaluates ``derivatives`` and keeps them when the step is taken.
    ``solve(information, score)`` gives the step or None when none can be taken. ``model`` and
    ``terms`` name the fit in its notes. Converged when the largest step is below ``tol`` or,
    with ``loglik_tol``, when the log-likelihood changed by less than ``loglik_tol`` of itself.
    ``at_start`` are the derivatives at ``beta`` when the caller has them already.
    """
    current = derivatives(beta) if at_start is None else at_start
    start = current.loglik
    notes: list[str] = []
    converged = singular = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        value = current.loglik
        step = solve(current.information, current.score)
        if step is None:
            singular = True
            notes.append(singular_note(model, terms, iterations))
            break
        for _ in range(max_halvings + 1):
            candidate = beta + step
            trial = derivatives(candidate) if loglik is None else None
            new = trial.loglik if trial is not None else loglik(candidate)
            if np.isfinite(new) and new >= value - 1e-12 * abs(value):
                break
            step = step / 2.0
        else:
            notes.append("step halving failed to increase the log-likelihood")
            break
        beta = candidate
        current = trial if trial is not None else derivatives(beta)
        small_change = loglik_tol is not None and abs(current.loglik - value) < loglik_tol * (
            abs(value) + loglik_tol
        )
        if np.max(np.abs(step)) < tol or small_change:
            converged = True
            break
    return NewtonFit.stopped_at(
        beta,
        current,
        loglik_start=start,
        iterations=iterations,
        converged=converged,
        singular=singular,
        extra=current.extra,
        notes=notes,
    )


def report_convergence(
    fit: NewtonFit,
    loglik_at: Callable[[np.ndarray], float],
    *,
    model: str,
    terms: Sequence[str],
    notes: list[str],
) -> bool:
    """Whether ``fit`` converged to a finite maximum; if not, a note and a ConvergenceWarning.

    A converged fit with a term that runs off to infinity (:func:`diverging_terms`) counts as
    not converged. ``notes`` (the fit's notes so far) gets the reasons appended; the warning
    repeats the last of them.
    """
    converged = fit.converged
    if converged:
        infinite = diverging_terms(loglik_at, fit.beta, fit.loglik, terms)
        if infinite:
            converged = False
            notes.append(
                f"coefficient may be infinite (monotone likelihood): {', '.join(infinite)}"
            )
    if not converged:
        message = f"{model} fit did not converge in {fit.iterations} iterations"
        if notes:
            message += f": {notes[-1]}"
        notes.append(message)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return converged


def _cholesky(information: np.ndarray):
    if not np.all(np.isfinite(information)):
        return None
    try:
        return linalg.cho_factor(information, lower=False, check_finite=False)
    except linalg.LinAlgError:
        return None


def coxph_newton(
    derivatives: Callable[[np.ndarray], Derivatives],
    p: int,
    *,
    max_iter: int = 20,
    eps: float = 1e-9,
) -> NewtonFit:
    """Maximise a Cox partial likelihood from beta = 0 exactly as R's coxph (agfit4.c) does.

    Convergence: ``|1 - loglik_best / loglik_new| <= eps`` with no step-halving in progress
    (``coxph.control``: eps = 1e-9, iter.max = 20). A fall in the log-likelihood halves the step
    toward the last good beta. ``iterations`` counts as R's ``fit$iter``; ``score_test`` is the
    score test at beta = 0 and ``loglik_start`` the log-likelihood there.
    """
    beta = np.zeros(p)
    d = derivatives(beta)
    loglik_null = d.loglik
    best = d.loglik
    chol = _cholesky(d.information)
    if chol is None or not np.isfinite(d.loglik):
        return NewtonFit.stopped_at(
            beta, d, loglik_start=loglik_null, iterations=0, converged=False
        )
    step = linalg.cho_solve(chol, d.score)
    score_test = float(d.score @ step)
    if max_iter == 0:
        return NewtonFit.stopped_at(
            beta, d, loglik_start=loglik_null, iterations=0, converged=False, score_test=score_test
        )
    old_beta = beta.copy()
    beta = beta + step
    halving = 0
    halvings = 0
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        d = derivatives(beta)
        chol = _cholesky(d.information)
        fail = chol is None or not np.isfinite(d.loglik)
        if not fail and halving == 0 and abs(1.0 - best / d.loglik) <= eps:
            converged = True
            break
        if iteration == max_iter:
            if max_iter > 1 and (d.loglik - best) / abs(best) < -eps:
                beta = old_beta
                d = derivatives(beta)
            break
        if fail or d.loglik < best:
            halving += 1
            halvings += 1
            beta = (old_beta * halving + beta) / (halving + 1.0)
        else:
            halving = 0
            best = d.loglik
            old_beta = beta
            beta = beta + linalg.cho_solve(chol, d.score)
    return NewtonFit.stopped_at(
        beta,
        d,
        loglik_start=loglik_null,
        iterations=iteration,
        converged=converged,
        halvings=halvings,
        score_test=score_test,
    )
