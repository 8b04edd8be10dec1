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
    """The DCC clones of many animals of one arm, as :func:`simulate_clones` gives them.

    Parameters
    ----------
    arm : str
        The arm's name.
    days : numpy.ndarray
        The reported days, sorted, shape ``(D,)``.
    dormant, awake : numpy.ndarray
        Dormant and awake cells of each clone, shape ``(replicates, D, clones)``: replicate
        animal, reported day, clone (one per DCC dormant at day 0).
    largest_ever : numpy.ndarray
        Shape ``(replicates, D)``: the largest clone size an animal reached at or before each
        reported day.
    seed : int
        Seed of the random draws.
    dt : float
        The tau-leaping step (days).

    Examples
    --------
    >>> from reawaken.model import no_forcing, parameter_set
    >>> from reawaken.simulate import simulate_clones
    >>> p = parameter_set("mouse-influenza").vector()
    >>> clones = simulate_clones(p, no_forcing(), [0, 3], replicates=10, seed=1)
    >>> clones.days.tolist(), clones.dormant.shape, clones.largest_ever.shape
    ([0.0, 3.0], (10, 2, 100), (10, 2))
    """

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
    """Tau-leap the DCC clones of ``replicates`` animals of one arm up to ``max(days)``.

    The host (virus, IL-6, T cells) is solved deterministically (:func:`solve`) and drives
    each clone (one per DCC dormant at day 0) with the model's own per-cell rates (see this
    module's docstring).

    Parameters
    ----------
    params : array
        The arm's parameter vector, shape ``(P,)``, in the order of ``PARAMETER_NAMES``.
    forcing : Forcing
        The arm's inputs.
    days : sequence of float
        Days to report (finite, >= 0; sorted and deduplicated).
    arm : str, optional
        The arm's name, in the result and in messages.
    replicates : int, default 500
        Number of animals (>= 1).
    seed : int, default 0
        Seed of the random draws.
    dt : float, default 0.02
        Tau-leaping step (days), in (0, 0.5].

    Returns
    -------
    CloneResult
        Each animal's clone sizes at each reported day, and the largest clone so far.

    Raises
    ------
    InputError
        If ``replicates < 1``, ``dt`` is outside (0, 0.5], ``days`` is empty or holds a
        negative or non-finite day, or the host's dynamics fail to solve.

    Examples
    --------
    >>> from reawaken.model import no_forcing, parameter_set
    >>> from reawaken.simulate import simulate_clones
    >>> p = parameter_set("mouse-influenza").vector()
    >>> clones = simulate_clones(p, no_forcing(), [0, 3], arm="influenza", replicates=10)
    >>> clones.dormant.shape  # replicate, day, clone
    (10, 2, 100)
    >>> int(clones.dormant[:, 0].sum() + clones.awake[:, 0].sum())  # day 0: 100 dormant each
    1000
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
    """Per day: the distribution of total DCCs per animal, and the probability of a lesion.

    Parameters
    ----------
    result : CloneResult
        Clones from :func:`simulate_clones`.
    threshold : int, default 100
        Cells a clone needs to count as a lesion (an assumption: a micrometastasis visible in
        a lung section).

    Returns
    -------
    pandas.DataFrame
        One row per reported day: ``arm, day, replicates``, the mean and 5%, 50% and 95%
        quantiles of total DCCs per animal (``dcc_total_mean``, ``dcc_total_q05``, ...), the
        mean awake DCCs (``dcc_awake_mean``), ``p_lesion_now`` (some clone has at least
        ``threshold`` cells that day), ``p_lesion_by_day`` (some clone reached it at or before
        that day), and ``lesion_threshold_cells``, ``seed``, ``dt_days``.

    Raises
    ------
    InputError
        If ``threshold`` is below 1.

    Examples
    --------
    >>> from reawaken.model import no_forcing, parameter_set
    >>> from reawaken.simulate import lesion_summary, simulate_clones
    >>> p = parameter_set("mouse-influenza").vector()
    >>> clones = simulate_clones(p, no_forcing(), [0, 3], replicates=10)
    >>> lesion_summary(clones, threshold=100)[["day", "replicates", "p_lesion_by_day"]]
       day  replicates  p_lesion_by_day
    0  0.0          10              0.0
    1  3.0          10              0.0
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
