"""Run a protocol: every arm solved deterministically, or as an ensemble of individuals, and
the stochastic DCC clones of one arm.

An arm's inputs are its parameter set (with user overrides, then its interventions applied)
and the forcing its interventions give. Ensembles use
:func:`~reawaken.simulate.ensemble.lognormal_factors`: individual ``k`` gets the same draw in
every arm, so arms are compared on the same virtual animals and fold changes are paired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from reawaken.experiments.protocols import Protocol
from reawaken.model.equations import Forcing
from reawaken.model.interventions import apply_interventions
from reawaken.model.parameters import PARAMETER_NAMES, parameter_set
from reawaken.simulate.ensemble import (
    ArmResult,
    check_cv,
    check_ensemble_size,
    lognormal_factors,
)
from reawaken.simulate.ode import SolverSettings, solve
from reawaken.simulate.stochastic import DEFAULT_DT, CloneResult, simulate_clones


def arm_inputs(
    protocol: Protocol,
    arm_name: str,
    overrides: Mapping[str, float] | None = None,
    calibrated: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, Forcing]:
    """The parameter vector and forcing of one arm, with user overrides applied first.

    ``calibrated`` replaces the stored calibration (see
    :func:`~reawaken.model.parameters.parameter_set`).
    """
    arm = protocol.arm(arm_name)
    params = parameter_set(arm.parameter_set, calibrated)
    if overrides:
        params = params.with_values(**overrides)
    values, forcing = apply_interventions(params.values(), arm.interventions)
    return np.array([values[n] for n in PARAMETER_NAMES]), forcing


def run_protocol(
    protocol: Protocol,
    *,
    arms: Sequence[str] | None = None,
    days: Sequence[float] | None = None,
    overrides: Mapping[str, float] | None = None,
    calibrated: Mapping[str, float] | None = None,
    n: int = 0,
    cv: float = 0.3,
    seed: int = 0,
    settings: SolverSettings = SolverSettings(),
    progress: Callable[[int], None] | None = None,
) -> list[ArmResult]:
    """Solve each arm (all by default) at ``days`` (the protocol's by default).

    ``n = 0`` solves the arm's own parameters once; ``n >= 1`` solves an ensemble of ``n``
    individuals drawn with :func:`lognormal_factors` (same draws in every arm).
    """
    n = check_ensemble_size(n)
    cv = check_cv(cv)
    names = list(protocol.arm_names if arms is None else arms)
    for name in names:
        protocol.arm(name)
    grid = protocol.days if days is None else tuple(days)
    factors = lognormal_factors(n, cv, seed) if n > 0 else None
    results = []
    for name in names:
        vector, forcing = arm_inputs(protocol, name, overrides, calibrated)
        batch = vector[None, :] if factors is None else vector[None, :] * factors
        results.append(ArmResult(name, solve(batch, forcing, grid, settings, progress=progress)))
    return results


def run_clones(
    protocol: Protocol,
    arm: str,
    days: Sequence[float],
    *,
    replicates: int = 500,
    seed: int = 0,
    dt: float = DEFAULT_DT,
) -> CloneResult:
    """Stochastic DCC clones of ``replicates`` animals of one arm of ``protocol``
    (:func:`~reawaken.simulate.stochastic.simulate_clones` on the arm's inputs)."""
    params, forcing = arm_inputs(protocol, arm)
    return simulate_clones(params, forcing, days, arm=arm, replicates=replicates, seed=seed, dt=dt)
