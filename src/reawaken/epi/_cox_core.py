"""Vectorised risk-set sums for the counting-process Cox model, and R's Newton-Raphson.

The data are intervals ``(start, stop]`` with an event flag at ``stop``, case weights and
strata. A row is at risk at an event time ``t`` of its stratum when ``start < t <= stop``, so
every risk-set sum is a difference of two running sums::

    S(t) = sum over rows with start < t  -  sum over rows with stop < t      (same stratum)

Both running sums come from one ``cumsum`` over the rows sorted once by (stratum, start) and
once by (stratum, stop); the positions of each event time in those orders are found once with
``searchsorted``. Tied events are handled with grouped reductions (``np.add.reduceat``): the
Efron approximation expands each tied group into one pseudo-event per death, as in R's
``survival`` (agfit4.c, agscore3.c; Therneau and Grambsch 2000, Modeling Survival Data, ch. 3).
No Python loop runs over events or rows.

The iteration copies R's ``coxph`` (Newton-Raphson from beta = 0, convergence when
``|1 - loglik_old / loglik_new| <= eps`` with no step-halving in progress, step-halving toward
the last good beta when the log-likelihood falls), so iteration counts equal R's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg


@dataclass(frozen=True)
class Derivatives:
    """Log partial likelihood, score vector and information matrix at one beta."""

    loglik: float
    score: np.ndarray
    information: np.ndarray


@dataclass(frozen=True)
class NewtonResult:
    beta: np.ndarray
    loglik_null: float
    loglik: float
    score_test: float
    information: np.ndarray
    score: np.ndarray
    iterations: int
    converged: bool
    step_halvings: int


def _pair_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(p)


class RiskSets:
    """Everything about the data that does not depend on beta, prepared once.

    ``x`` is (n, p) float; ``event`` is boolean; ``weights`` nonnegative; ``strata`` integer
    codes (all zero for an unstratified model); ``efron`` selects Efron's tie handling,
    otherwise Breslow's.
    """

    def __init__(
        self,
        start: np.ndarray,
        stop: np.ndarray,
        event: np.ndarray,
        x: np.ndarray,
        weights: np.ndarray,
        strata: np.ndarray,
        *,
        efron: bool,
    ) -> None:
        n, p = x.shape
        self.n, self.p = n, p
        self.efron = efron
        strata = np.asarray(strata, dtype=np.int64)
        self.start, self.stop, self.event = start, stop, event
        self.weights, self.strata = weights, strata

        # Centre each covariate within its stratum (weighted), as R does; the likelihood is
        # unchanged and the sums are better conditioned.
        n_strata = int(strata.max()) + 1 if n else 1
        wsum = np.bincount(strata, weights=weights, minlength=n_strata)
        wsum[wsum == 0] = 1.0
        self.x = np.empty_like(x, dtype=float)
        for j in range(p):
            mean = np.bincount(strata, weights=weights * x[:, j], minlength=n_strata) / wsum
            self.x[:, j] = x[:, j] - mean[strata]

        # Time keys that sort by stratum first: integer codes when there are several strata.
        if n_strata > 1:
            times, codes = np.unique(np.concatenate([start, stop]), return_inverse=True)
            span = np.int64(len(times) + 1)
            key_start = strata * span + codes[:n]
            key_stop = strata * span + codes[n:]
        else:
            key_start, key_stop = start, stop

        self.order_start = np.argsort(key_start, kind="stable")
        self.order_stop = np.argsort(key_stop, kind="stable")
        sorted_start = key_start[self.order_start]
        sorted_stop = key_stop[self.order_stop]

        # Event groups: distinct (stratum, stop time) among events, in stratum-major order.
        ev_rows = self.order_stop[event[self.order_stop]]
        ev_keys = key_stop[ev_rows]
        new_group = np.ones(len(ev_rows), dtype=bool)
        new_group[1:] = ev_keys[1:] != ev_keys[:-1]
        self.ev_rows = ev_rows
        self.group_first = np.flatnonzero(new_group)
        self.group_of_death = np.cumsum(new_group) - 1
        self.deaths = np.diff(np.append(self.group_first, len(ev_rows)))
        group_keys = ev_keys[self.group_first]
        self.group_stratum = strata[ev_rows[self.group_first]]
        self.group_time = stop[ev_rows[self.group_first]]

        # Positions: number of rows before the event time within the sorted orders, and the
        # first position of each stratum (the same in both orders).
        stratum_counts = np.bincount(strata, minlength=n_strata)
        stratum_begin = np.concatenate([[0], np.cumsum(stratum_counts)[:-1]])
        self.begin = stratum_begin[self.group_stratum]
        self.pos_start = np.searchsorted(sorted_start, group_keys, side="left")
        self.pos_stop = np.searchsorted(sorted_stop, group_keys, side="left")
        self.group_keys, self.key_start, self.key_stop = group_keys, key_start, key_stop
        self.n_strata = n_strata

        # Per-row design blocks [1, x, x_i x_j] in both orders (with a leading zero row for the
        # running sums), and for the event rows.
        iu, ju = _pair_index(p)
        self._iu, self._ju = iu, ju
        self.z_start = self._design(self.x[self.order_start], leading_zero=True)
        self.z_stop = self._design(self.x[self.order_stop], leading_zero=True)
        self.z_event = self._design(self.x[ev_rows], leading_zero=False)
        self.w_start = np.concatenate([[0.0], weights[self.order_start]])
        self.w_stop = np.concatenate([[0.0], weights[self.order_stop]])
        self.w_event = weights[ev_rows]
        self.death_weight = np.add.reduceat(self.w_event, self.group_first)
        self._buffer = np.empty_like(self.z_start)

        # Expansion of tied groups into one pseudo-event per death (Efron); Breslow uses
        # fraction 0 throughout, which is the same sum.
        within = np.arange(len(ev_rows)) - self.group_first[self.group_of_death]
        d = self.deaths[self.group_of_death].astype(float)
        self.fraction = within / d if efron else np.zeros(len(ev_rows))
        self.mean_weight = self.death_weight[self.group_of_death] / d

    def _design(self, x: np.ndarray, *, leading_zero: bool) -> np.ndarray:
        m = 1 + self.p + len(self._iu)
        rows = x.shape[0] + (1 if leading_zero else 0)
        z = np.empty((rows, m))
        off = 1 if leading_zero else 0
        if leading_zero:
            z[0] = 0.0
        z[off:, 0] = 1.0
        z[off:, 1 : 1 + self.p] = x
        z[off:, 1 + self.p :] = x[:, self._iu] * x[:, self._ju]
        return z

    def _running(self, z: np.ndarray, risk: np.ndarray, pos: np.ndarray) -> np.ndarray:
        buf = self._buffer
        np.multiply(z, risk[:, None], out=buf)
        np.add.accumulate(buf, axis=0, out=buf)
        return buf[pos] - buf[self.begin]

    def _eta_shift(self, beta: np.ndarray) -> tuple[np.ndarray, float]:
        eta = self.x @ beta
        if eta.size == 0:
            return eta, 0.0
        shift = 0.5 * (float(eta.max()) + float(eta.min()))
        return eta, shift

    def _expanded(self, beta: np.ndarray):
        """Per-death denominators ``den``, first moments ``a`` and second moments ``c``."""
        eta, shift = self._eta_shift(beta)
        risk = np.exp(eta - shift)
        r_start = np.concatenate([[0.0], risk[self.order_start]]) * self.w_start
        r_stop = np.concatenate([[0.0], risk[self.order_stop]]) * self.w_stop
        # Rows with start < t minus rows with stop < t (position p counts rows before it; the
        # cumulative sum at index p includes the leading zero row and p data rows).
        at_risk = self._running(self.z_start, r_start, self.pos_start)
        at_risk -= self._running(self.z_stop, r_stop, self.pos_stop)
        r_event = risk[self.ev_rows] * self.w_event
        dead = np.add.reduceat(self.z_event * r_event[:, None], self.group_first, axis=0)
        g = self.group_of_death
        moments = at_risk[g] - self.fraction[:, None] * dead[g]
        return eta, shift, risk, moments

    def derivatives(self, beta: np.ndarray) -> Derivatives:
        """Log partial likelihood, score and information at ``beta`` (R's agfit4 sums)."""
        p = self.p
        eta, shift, _, moments = self._expanded(beta)
        den = moments[:, 0]
        a = moments[:, 1 : 1 + p]
        c = moments[:, 1 + p :]
        mw = self.mean_weight
        with np.errstate(divide="ignore", invalid="ignore"):
            loglik = float(
                np.dot(self.w_event, eta[self.ev_rows] - shift) - np.dot(mw, np.log(den))
            )
            mean = a / den[:, None]
            score = self.w_event @ self.x[self.ev_rows] - mw @ mean
            second = (mw / den) @ c
            info = np.zeros((p, p))
            info[self._iu, self._ju] = second
            info[self._ju, self._iu] = second
            info -= (mean * mw[:, None]).T @ mean
        return Derivatives(loglik, score, info)

    def score_residuals(self, beta: np.ndarray) -> np.ndarray:
        """Unweighted score residuals per row, (n, p), as R's agscore3 (Breslow or Efron)."""
        p = self.p
        eta, shift, risk, moments = self._expanded(beta)
        den = moments[:, 0]
        mean = moments[:, 1 : 1 + p] / den[:, None]
        hazard = self.mean_weight / den
        gf = self.group_first
        d_haz = np.add.reduceat(hazard, gf)
        d_xhaz = np.add.reduceat(mean * hazard[:, None], gf, axis=0)
        frac = self.fraction
        mh1 = np.add.reduceat(hazard * frac, gf)
        mh2 = np.add.reduceat(mean * (hazard * frac)[:, None], gf, axis=0)
        mh3 = np.add.reduceat(mean, gf, axis=0) / self.deaths[:, None]

        # Cumulative hazard and hazard-weighted mean over event times <= t, per stratum.
        cum_haz = np.concatenate([[0.0], np.cumsum(d_haz)])
        cum_xhaz = np.vstack([np.zeros((1, p)), np.cumsum(d_xhaz, axis=0)])
        n_groups = len(gf)
        g_stratum = self.group_stratum
        first_group = np.searchsorted(g_stratum, np.arange(self.n_strata), side="left")
        base = first_group[self.strata]
        upto_stop = np.searchsorted(self.group_keys, self.key_stop, side="right")
        upto_start = np.searchsorted(self.group_keys, self.key_start, side="right")
        # Only groups of the row's own stratum count: clip to the stratum's range.
        upto_stop = np.maximum(upto_stop, base)
        upto_start = np.maximum(upto_start, base)
        del n_groups
        h = cum_haz[upto_stop] - cum_haz[upto_start]
        xh = cum_xhaz[upto_stop] - cum_xhaz[upto_start]
        score_i = np.exp(eta - shift)
        resid = -score_i[:, None] * (self.x * h[:, None] - xh)
        rows = self.ev_rows
        g = self.group_of_death
        resid[rows] += (self.x[rows] - mh3[g]) + score_i[rows, None] * (
            self.x[rows] * mh1[g][:, None] - mh2[g]
        )
        del risk
        return resid


def _cholesky(information: np.ndarray):
    if not np.all(np.isfinite(information)):
        return None
    try:
        return linalg.cho_factor(information, lower=False, check_finite=False)
    except linalg.LinAlgError:
        return None


def newton_raphson(risk_sets: RiskSets, *, max_iter: int = 20, eps: float = 1e-9) -> NewtonResult:
    """Maximise the partial likelihood from beta = 0 exactly as R's coxph (agfit4.c) does.

    Convergence: ``|1 - loglik_best / loglik_new| <= eps`` with no step-halving in progress
    (``coxph.control``: eps = 1e-9, iter.max = 20). A fall in the log-likelihood halves the step
    toward the last good beta. ``iterations`` counts as R's ``fit$iter``.
    """
    p = risk_sets.p
    beta = np.zeros(p)
    d = risk_sets.derivatives(beta)
    loglik_null = d.loglik
    best = d.loglik
    chol = _cholesky(d.information)
    if chol is None or not np.isfinite(d.loglik):
        return NewtonResult(
            beta, loglik_null, d.loglik, np.nan, d.information, d.score, 0, False, 0
        )
    step = linalg.cho_solve(chol, d.score)
    score_test = float(d.score @ step)
    if max_iter == 0:
        return NewtonResult(
            beta, loglik_null, d.loglik, score_test, d.information, d.score, 0, False, 0
        )
    old_beta = beta.copy()
    beta = beta + step
    halving = 0
    halvings = 0
    converged = False
    iteration = 0
    for iteration in range(1, max_iter + 1):
        d = risk_sets.derivatives(beta)
        chol = _cholesky(d.information)
        fail = chol is None or not np.isfinite(d.loglik)
        if not fail and halving == 0 and abs(1.0 - best / d.loglik) <= eps:
            converged = True
            break
        if iteration == max_iter:
            if max_iter > 1 and (d.loglik - best) / abs(best) < -eps:
                beta = old_beta
                d = risk_sets.derivatives(beta)
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
    return NewtonResult(
        beta,
        loglik_null,
        d.loglik,
        score_test,
        d.information,
        d.score,
        iteration,
        converged,
        halvings,
    )
