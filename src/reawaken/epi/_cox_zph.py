"""Test of proportional hazards for a Cox fit, as R's ``cox.zph`` (survival >= 3).

The test is the score test of adding ``beta_j * g(t)`` terms, one per covariate, to the fitted
model (Grambsch and Therneau, Biometrika 81:515-526, 1994; the score-test form of survival 3.0,
Therneau, "Testing proportional hazards", survival's vignette and ``noweb/zph.Rnw``). At the
fitted coefficients, with ``g`` the transformed event time centred on its mean over the events,
it needs the score of the time-weighted terms ``U = sum_k g(t_k) (x_k - xbar(t_k))`` and the
information of the augmented model ``[[I, I_g], [I_g, I_gg]]`` (sums of each event's information
weighted by 1, ``g`` and ``g**2``; R's zph2.c). The statistic of a term uses the rows and columns
of every coefficient plus its own time-weighted one, ``u' imat^-1 u`` with the first ``p``
entries of ``u`` zero (chi-square, 1 df); GLOBAL uses all ``2p`` (``p`` df).

Time transforms, as ``cox.zph(transform=)``: ``km`` (default) ``1 - S(t-)`` with ``S`` the
unweighted Kaplan-Meier of all rows, ignoring strata; ``rank`` the rank of the stop time among
all rows; ``identity`` the stop time; ``log`` its logarithm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, stats

from reawaken.epi._cox_core import RiskSets

TRANSFORMS = ("km", "rank", "identity", "log")
ZPH_COLUMNS = ["term", "chisq", "df", "p"]


@dataclass(frozen=True)
class ZphInput:
    """What the test needs from the data a Cox model was fitted on: its risk sets and each
    row's start, stop and event flag."""

    risk_sets: RiskSets
    start: np.ndarray
    stop: np.ndarray
    event: np.ndarray


def transformed_times(
    start: np.ndarray, stop: np.ndarray, event: np.ndarray, transform: str
) -> np.ndarray:
    """Each row's stop time under ``transform`` (see the module docstring)."""
    if transform == "identity":
        return stop.astype(float)
    if transform == "log":
        return np.log(stop)
    if transform == "rank":
        return stats.rankdata(stop)
    # km: the product-limit estimate just before each stop time, at risk start < t <= stop
    times, deaths = np.unique(stop[event], return_counts=True)
    # rows with start < t, less those with stop < t (which started before t too)
    at_risk = np.searchsorted(np.sort(start), times, side="left") - np.searchsorted(
        np.sort(stop), times, side="left"
    )
    surv = np.cumprod(1.0 - deaths / at_risk)
    before = np.searchsorted(times, stop, side="left")  # event times strictly before each stop
    return 1.0 - np.concatenate(([1.0], surv))[before]


def zph_table(data: ZphInput, beta: np.ndarray, terms: list[str], transform: str) -> pd.DataFrame:
    """The test per term and GLOBAL (``term, chisq, df, p``) at the fitted ``beta``."""
    ttimes = transformed_times(data.start, data.stop, data.event, transform)
    g_rows = ttimes - ttimes[data.event].mean()
    rs = data.risk_sets
    g_group = g_rows[rs.ev_rows[rs.group_first]]
    info, u, info_g, info_gg = rs.time_weighted(beta, g_group)
    p = len(terms)
    imat = np.block([[info, info_g], [info_g, info_gg]])
    score = np.concatenate([np.zeros(p), u])
    rows = []
    for j, term in enumerate([*terms, "GLOBAL"]):
        keep = np.r_[np.arange(p), p + j] if j < p else np.arange(2 * p)
        stat = float(score[keep] @ linalg.solve(imat[np.ix_(keep, keep)], score[keep]))
        df = 1 if j < p else p
        rows.append((term, stat, df, float(stats.chi2.sf(stat, df))))
    return pd.DataFrame(rows, columns=ZPH_COLUMNS)
