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
    """The solution of one arm (one trajectory, or one per individual of an ensemble)."""

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
    """Multiplicative factors ``(n, len(PARAMETER_NAMES))``, mean 1 and coefficient of variation
    ``cv`` on ``names``, exactly 1 elsewhere."""
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
