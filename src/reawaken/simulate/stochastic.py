"""Stochastic DCC clones driven by the deterministic host: few cells, so chance matters.

The host (virus, IL-6, T cells) is solved deterministically for the arm; it does not depend on
the DCCs, so it drives them exactly. Each of the ``dcc_dormant_0`` dormant cells founds a clone.
Clones evolve by binomial/Poisson tau-leaping with step ``dt`` (days) under the ODE's own
per-cell rates, computed by the model (:func:`reawaken.model.equations.dcc_rates` on the host's
trajectory, :func:`~reawaken.model.equations.crowding`):

- awakening, dormant -> awake: probability ``1 - exp(-a(IL-6) dt)`` per dormant cell;
- return to dormancy: ``1 - exp(-b(IL-6) dt)`` per awake cell;
- CD8+ killing: ``1 - exp(-kd CD8 / (1 + CD4/Ks) dt)`` per awake cell;
- division: Poisson with mean ``rho * max(1 - N/K, 0) * awake * dt`` (``N`` the animal's total
  DCCs, the sum of its clones).

Loss events are binomial, so counts never go negative; the mean over replicates converges to
the ODE solution as ``dt -> 0`` (checked in the tests) while the DCCs stay below the carrying
capacity ``K`` (above it the ODE's growth term turns negative, here births stop instead).
A *lesion* is a clone of at least
``threshold`` cells (default 100, an assumption: a micrometastasis visible in a lung section).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reawaken.errors import InputError
from reawaken.model.equations import crowding, dcc_rates
from reawaken.model.forcing import Forcing
from reawaken.model.parameters import PARAMETER_INDEX
from reawaken.model.states import as_state
from reawaken.simulate.ode import solve

DEFAULT_DT = 0.02
DEFAULT_THRESHOLD = 100
_P = PARAMETER_INDEX


@dataclass(frozen=True)
class CloneResult:
    """Clone sizes ``dormant[r, day, clone]``, ``awake[...]``; ``largest_ever[r, day]`` is the
    largest clone size reached at or before each reported day."""

    arm: str
    days: np.ndarray
    dormant: np.ndarray
    awake: np.ndarray
    largest_ever: np.ndarray
    seed: int
    dt: float


def simulate_clones(
    params: np.ndarray,
    forcing: Forcing,
    days: Sequence[float],
    *,
    arm: str = "",
    replicates: int = 500,
    seed: int = 0,
    dt: float = DEFAULT_DT,
) -> CloneResult:
    """Tau-leap the DCC clones of ``replicates`` animals up to ``max(days)``.

    ``params`` (order of ``PARAMETER_NAMES``) and ``forcing`` are one arm's inputs; ``arm``
    names it in the result and in messages.
    """
    if replicates < 1:
        raise InputError(f"replicates must be at least 1, got {replicates}")
    if not 0 < dt <= 0.5:
        raise InputError(f"dt must be in (0, 0.5] days, got {dt}")
    report = np.asarray(sorted(set(float(d) for d in days)), dtype=float)
    if report.size == 0 or report[0] < 0 or not np.all(np.isfinite(report)):
        shown = ", ".join(f"{d:g}" for d in report) or "none"
        raise InputError(f"days must be finite, non-negative and not empty, got {shown}")
    p = np.asarray(params, dtype=np.float64)
    steps = int(np.ceil(report[-1] / dt))
    grid = np.arange(steps + 1) * dt
    host = solve(p, forcing, grid)
    if not host.ok[0]:
        raise InputError(f"the host dynamics of arm {arm!r} failed to solve")
    rates = dcc_rates(as_state(host.ys[0].T), p, np)  # per-cell rates at every step
    awaken, back, kill = rates.awakening, rates.dormancy, rates.killing

    clones = int(round(p[_P["dcc_dormant_0"]]))
    rng = np.random.default_rng(seed)
    dormant = np.ones((replicates, clones), dtype=np.int64)
    awake = np.zeros((replicates, clones), dtype=np.int64)
    largest = np.ones(replicates, dtype=np.int64)
    report_steps = np.rint(report / dt).astype(int)
    out_d = np.empty((replicates, report.size, clones), dtype=np.int64)
    out_a = np.empty_like(out_d)
    out_l = np.empty((replicates, report.size), dtype=np.int64)
    k = 0
    for step in range(steps + 1):
        while k < report.size and report_steps[k] == step:
            out_d[:, k], out_a[:, k], out_l[:, k] = dormant, awake, largest
            k += 1
        if step == steps:
            break
        total = (dormant + awake).sum(axis=1, keepdims=True)
        woke = rng.binomial(dormant, -np.expm1(-awaken[step] * dt))
        slept = rng.binomial(awake, -np.expm1(-back[step] * dt))
        died = rng.binomial(awake - slept, -np.expm1(-kill[step] * dt))
        birth_rate = rates.proliferation * np.maximum(crowding(total, p), 0.0) * dt
        born = rng.poisson(birth_rate * awake)
        dormant = dormant - woke + slept
        awake = awake + woke - slept - died + born
        largest = np.maximum(largest, (dormant + awake).max(axis=1))
    return CloneResult(arm, report, out_d, out_a, out_l, seed, dt)


def lesion_summary(result: CloneResult, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Per day: quantiles of total DCCs per animal, and the probability of a lesion.

    ``p_lesion_now``: some clone has >= ``threshold`` cells that day; ``p_lesion_by_day``: some
    clone reached it at or before that day.
    """
    if threshold < 1:
        raise InputError(f"lesion threshold must be at least 1 cell, got {threshold}")
    total = result.dormant.sum(axis=2) + result.awake.sum(axis=2)
    biggest_now = (result.dormant + result.awake).max(axis=2)
    rows = []
    for j, day in enumerate(result.days):
        t = total[:, j]
        rows.append(
            {
                "arm": result.arm,
                "day": float(day),
                "replicates": t.size,
                "dcc_total_mean": float(t.mean()),
                "dcc_total_q05": float(np.quantile(t, 0.05)),
                "dcc_total_q50": float(np.quantile(t, 0.5)),
                "dcc_total_q95": float(np.quantile(t, 0.95)),
                "dcc_awake_mean": float(result.awake[:, j].sum(axis=1).mean()),
                "p_lesion_now": float((biggest_now[:, j] >= threshold).mean()),
                "p_lesion_by_day": float((result.largest_ever[:, j] >= threshold).mean()),
                "lesion_threshold_cells": threshold,
                "seed": result.seed,
                "dt_days": result.dt,
            }
        )
    return pd.DataFrame(rows)
