"""Vectorised risk-set sums for the counting-process Cox model.

The data are intervals ``(start, stop]`` with an event flag at ``stop``, case weights and
strata. The distinct event times ("groups", sorted by stratum then time) are numbered once. A
row is at risk at group ``k`` of its stratum when ``start < t_k <= stop``, which is a contiguous
range of group numbers ``a_i <= k < b_i`` (found once with ``searchsorted``). Every risk-set
sum is then a difference array: add the row's term at ``a_i`` (entry), subtract it at ``b_i``
(exit), and take one ``cumsum`` over the groups; the additions are ``np.bincount`` calls, so an
iteration costs a few passes over the rows and no sort. Tied events are grouped reductions: the
Efron approximation expands each tied group into one pseudo-event per death, as in R's
``survival`` (agfit4.c, agscore3.c; Therneau and Grambsch 2000, Modeling Survival Data, ch. 3).
No Python loop runs over events or rows.

:meth:`RiskSets.derivatives` is what :func:`reawaken.epi._newton.coxph_newton` (R's ``coxph``
iteration, so iteration counts equal R's) maximises.
"""

from __future__ import annotations

import numpy as np

from reawaken.epi._estimable import flat_in_risk_sets
from reawaken.epi._newton import Derivatives


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
        self.weights, self.strata = weights, strata
        n_strata = int(strata.max()) + 1 if n else 1
        self.n_strata = n_strata

        # Centre each covariate within its stratum (weighted), as R does; the likelihood is
        # unchanged and the sums are better conditioned.
        wsum = np.bincount(strata, weights=weights, minlength=n_strata)
        wsum[wsum == 0] = 1.0
        self.x = np.empty((n, p))
        for j in range(p):
            mean = np.bincount(strata, weights=weights * x[:, j], minlength=n_strata) / wsum
            self.x[:, j] = x[:, j] - mean[strata]

        # Keys ordering (stratum, time): integer codes against the distinct event times when
        # there are several strata (code = number of distinct event times <= t).
        ev_rows = np.flatnonzero(event)
        if n_strata > 1:
            times = np.unique(stop[ev_rows])
            span = np.int64(len(times) + 1)
            key_start = strata * span + np.searchsorted(times, start, side="right")
            key_stop = strata * span + np.searchsorted(times, stop, side="right")
        else:
            key_start, key_stop = start, stop

        # Event groups: distinct (stratum, stop time) among events, in increasing order.
        ev_rows = ev_rows[np.argsort(key_stop[ev_rows], kind="stable")]
        ev_keys = key_stop[ev_rows]
        new_group = np.ones(len(ev_rows), dtype=bool)
        new_group[1:] = ev_keys[1:] != ev_keys[:-1]
        self.ev_rows = ev_rows
        self.group_first = np.flatnonzero(new_group)
        self.group_of_death = np.cumsum(new_group) - 1
        self.deaths = np.diff(np.append(self.group_first, len(ev_rows)))
        self.group_keys = ev_keys[self.group_first]
        self.n_groups = len(self.group_first)

        # Row i is at risk for groups entry[i] <= k < exit[i] (groups of its own stratum only,
        # since keys sort by stratum first).
        self.entry = np.searchsorted(self.group_keys, key_start, side="right")
        self.exit = np.searchsorted(self.group_keys, key_stop, side="right")
        active = np.flatnonzero(self.entry < self.exit)
        self._active = active
        self._entry_a = self.entry[active]
        self._exit_a = self.exit[active]
        self._w_a = weights[active]

        iu, ju = np.triu_indices(p)
        self._iu, self._ju = iu, ju
        # Column blocks [1, x, x_i x_j] stored column-major (one contiguous row per term).
        self._z_active = self._design(self.x[active])
        self.z_event = self._design(self.x[ev_rows]).T
        self.w_event = weights[ev_rows]
        self.death_weight = np.add.reduceat(self.w_event, self.group_first)

        # Expansion of tied groups into one pseudo-event per death (Efron); Breslow uses
        # fraction 0 throughout, which is the same sum.
        within = np.arange(len(ev_rows)) - self.group_first[self.group_of_death]
        d = self.deaths[self.group_of_death].astype(float)
        self.fraction = within / d if efron else np.zeros(len(ev_rows))
        self.mean_weight = self.death_weight[self.group_of_death] / d

    def _design(self, x: np.ndarray) -> np.ndarray:
        """Terms [1, x_1..x_p, x_i x_j (i <= j)] as an (m, rows) array."""
        z = np.empty((1 + self.p + len(self._iu), x.shape[0]))
        z[0] = 1.0
        z[1 : 1 + self.p] = x.T
        for k, (i, j) in enumerate(zip(self._iu, self._ju, strict=True)):
            np.multiply(x[:, i], x[:, j], out=z[1 + self.p + k])
        return z

    def _eta_shift(self, beta: np.ndarray) -> tuple[np.ndarray, float]:
        eta = self.x @ beta
        if eta.size == 0:
            return eta, 0.0
        shift = 0.5 * (float(eta.max()) + float(eta.min()))
        return eta, shift

    def _expanded(self, beta: np.ndarray):
        """Per-death denominators, first and second moments of the risk set, (deaths, m)."""
        eta, shift = self._eta_shift(beta)
        risk = np.exp(eta - shift)
        r_active = risk[self._active] * self._w_a
        k = self.n_groups + 1
        at_risk = np.empty((self.n_groups, self._z_active.shape[0]))
        term = np.empty_like(r_active)
        for c, z in enumerate(self._z_active):
            np.multiply(z, r_active, out=term)
            diff = np.bincount(self._entry_a, weights=term, minlength=k)
            diff -= np.bincount(self._exit_a, weights=term, minlength=k)
            at_risk[:, c] = np.cumsum(diff[:-1])
        r_event = risk[self.ev_rows] * self.w_event
        dead = np.add.reduceat((self.z_event * r_event[:, None]), self.group_first, axis=0)
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

    def time_weighted(
        self, beta: np.ndarray, group_weight: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Score and information sums with each event group's terms weighted by a function of
        its time, for the proportional-hazards test (R's zph2.c, survival >= 3).

        ``group_weight`` (one value per event group) is ``g(t_k)``. Returns the information
        ``I`` (unweighted), the score ``sum g (x - xbar)``, and the information sums weighted by
        ``g`` and by ``g**2``; Efron's pseudo-events of a tied group share its ``g``.
        """
        p = self.p
        _, _, _, moments = self._expanded(beta)
        den = moments[:, 0]
        mean = moments[:, 1 : 1 + p] / den[:, None]
        c = moments[:, 1 + p :] / den[:, None]
        mw = self.mean_weight
        g = group_weight[self.group_of_death]

        def information(weight: np.ndarray) -> np.ndarray:
            info = np.zeros((p, p))
            second = weight @ c
            info[self._iu, self._ju] = second
            info[self._ju, self._iu] = second
            return info - (mean * weight[:, None]).T @ mean

        score = (self.w_event * g) @ self.x[self.ev_rows] - (mw * g) @ mean
        return information(mw), score, information(mw * g), information(mw * g * g)

    def score_residuals(self, beta: np.ndarray) -> np.ndarray:
        """Unweighted score residuals per row, (n, p), as R's agscore3 (Breslow or Efron)."""
        p = self.p
        eta, shift, _, moments = self._expanded(beta)
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

        # Cumulative hazard and hazard-weighted mean over the groups each row is at risk for.
        cum_haz = np.concatenate([[0.0], np.cumsum(d_haz)])
        cum_xhaz = np.vstack([np.zeros((1, p)), np.cumsum(d_xhaz, axis=0)])
        h = cum_haz[self.exit] - cum_haz[self.entry]
        xh = cum_xhaz[self.exit] - cum_xhaz[self.entry]
        score_i = np.exp(eta - shift)
        resid = -score_i[:, None] * (self.x * h[:, None] - xh)
        rows = self.ev_rows
        g = self.group_of_death
        resid[rows] += (self.x[rows] - mh3[g]) + score_i[rows, None] * (
            self.x[rows] * mh1[g][:, None] - mh2[g]
        )
        return resid


def not_estimable(risk_sets: RiskSets, terms, *, tol: float = 1e-10) -> dict[str, str]:
    """Terms that cannot be estimated from these risk sets, with the reason (empty when all
    can; see :mod:`reawaken.epi._estimable`).

    The information at beta = 0 sums, over the event times, the (weighted) variance of the
    covariates among those at risk. A term whose variance vanishes in every risk set (a function
    of the time scale alone, or one that differs only in rows never at risk at an event) carries
    no information; a term whose information is a combination of the earlier terms' is collinear
    with them within the risk sets. R's ``coxph`` reports such coefficients as NA.
    """
    p = risk_sets.p
    if p == 0 or risk_sets.n_groups == 0:
        return {}
    info = risk_sets.derivatives(np.zeros(p)).information
    if not np.all(np.isfinite(info)):
        return {}  # left to the Newton iteration, which reports non-convergence
    return flat_in_risk_sets(
        info, risk_sets.x, risk_sets.weights, float(risk_sets.w_event.sum()), terms, tol=tol
    )
