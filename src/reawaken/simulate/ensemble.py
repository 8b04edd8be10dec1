"""Ensembles of individuals: lognormal parameter draws around an arm's values.

Ensembles draw each individual's parameters from a lognormal around the arm's values
(coefficient of variation ``cv`` on the parameters listed in ``VARIABLE_PARAMETERS``), with an
explicit seed. Individual ``k`` gets the same draw in every arm, so arms are compared on the
same virtual animals and fold changes are paired.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reawaken.errors import InputError
from reawaken.model.parameters import PARAMETER_NAMES
from reawaken.simulate.ode import Solution

VARIABLE_PARAMETERS: tuple[str, ...] = (
    "infectivity",
    "virus_production",
    "virus_clearance",
    "il6_per_infected",
    "il6_per_damaged",
    "dcc_dormant_0",
    "awakening_max",
    "awakening_ec50",
    "return_to_dormancy",
    "dcc_proliferation",
    "cd8_kill_dcc",
    "cd4_shield_half",
    "cd8_expansion",
    "cd4_expansion",
)
"""Parameters that vary between individuals in an ensemble (biological variability)."""


@dataclass(frozen=True)
class ArmResult:
    """The solution of one arm: one trajectory, or one per individual of an ensemble.

    What :func:`reawaken.experiments.run_protocol` returns per arm, and what
    :func:`~reawaken.simulate.summary.summarise` and
    :func:`~reawaken.simulate.summary.trajectories` read.

    Parameters
    ----------
    arm : str
        The arm's name.
    solution : Solution
        Its solved trajectories (:func:`~reawaken.simulate.ode.solve`).

    Examples
    --------
    >>> from reawaken.model import no_forcing, parameter_set
    >>> from reawaken.simulate import ArmResult, lognormal_factors, solve, summarise
    >>> p = parameter_set("mouse-influenza").vector()
    >>> batch = p * lognormal_factors(3, cv=0.3, seed=0)  # three individuals
    >>> result = ArmResult("influenza", solve(batch, no_forcing(), [0.0, 15.0]))
    >>> result.solution.ys.shape
    (3, 2, 12)
    >>> [c for c in summarise([result]).columns if c.startswith("dcc_total")]
    ['dcc_total', 'dcc_total_q05', 'dcc_total_q25', 'dcc_total_q50', 'dcc_total_q75',
     'dcc_total_q95']
    """

    arm: str
    solution: Solution


def check_cv(cv: object) -> float:
    """The ensemble's coefficient of variation as a float >= 0, else an InputError saying so."""
    try:
        value = float(cv)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(
            f"cv must be a number >= 0 (the coefficient of variation of the individuals' "
            f"parameter draws), got {cv!s}"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise InputError(
            "cv must be >= 0 and finite (the coefficient of variation of the individuals' "
            f"parameter draws; 0 makes every individual alike), got {value:g}"
        )
    return value


def check_ensemble_size(n: object) -> int:
    """The ensemble size as an int >= 0 (0: each arm solved once with its own parameters)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 0:
        raise InputError(
            f"ensemble size n must be a whole number >= 0 (0 solves each arm once), got {n!s}"
        )
    return int(n)


def lognormal_factors(
    n: int, cv: float, seed: int, names: Sequence[str] = VARIABLE_PARAMETERS
) -> np.ndarray:
    """Lognormal multiplicative factors on the parameters of ``n`` individuals.

    Each factor has mean 1 and coefficient of variation ``cv`` on the parameters ``names``
    (biological variability), and is exactly 1 elsewhere. The same ``seed`` gives the same
    factors, so individual ``k`` is the same animal in every arm.

    Parameters
    ----------
    n : int
        Number of individuals (>= 1).
    cv : float
        Coefficient of variation of each factor (>= 0; 0 makes every individual alike).
    seed : int
        Seed of the random draws.
    names : sequence of str, optional
        The parameters that vary (default ``VARIABLE_PARAMETERS``).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, len(PARAMETER_NAMES))``: multiply a parameter vector by it
        (``vector[None, :] * factors``) for the ensemble's parameters.

    Raises
    ------
    InputError
        If ``n`` is not a whole number >= 1 or ``cv`` is not a finite number >= 0.
    ValueError
        If a name in ``names`` is not a model parameter.

    Examples
    --------
    >>> from reawaken.model import PARAMETER_NAMES, parameter_set
    >>> from reawaken.simulate import lognormal_factors
    >>> factors = lognormal_factors(1000, cv=0.3, seed=1)
    >>> factors.shape
    (1000, 35)
    >>> column = PARAMETER_NAMES.index
    >>> round(float(factors[:, column("infectivity")].mean()), 1)
    1.0
    >>> float(factors[:, column("target_0")].std())  # not in VARIABLE_PARAMETERS
    0.0
    >>> batch = parameter_set("mouse-influenza").vector() * factors  # (1000, 35), for solve
    """
    cv = check_cv(cv)
    if check_ensemble_size(n) < 1:
        raise InputError(f"ensemble size must be at least 1, got {n}")
    sigma = np.sqrt(np.log1p(cv**2))
    rng = np.random.default_rng(seed)
    factors = np.ones((n, len(PARAMETER_NAMES)))
    columns = [PARAMETER_NAMES.index(name) for name in names]
    draws = rng.standard_normal((n, len(columns)))
    factors[:, columns] = np.exp(sigma * draws - sigma**2 / 2.0)
    return factors
