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
    """The parameter vector and forcing of one arm: its parameter set, with ``overrides``
    applied first and then its interventions.

    Parameters
    ----------
    protocol : Protocol
        The experiment.
    arm_name : str
        One of its arms.
    overrides : mapping of str to float, optional
        Parameter values to use instead of the parameter set's.
    calibrated : mapping of str to float, optional
        Values to use instead of the calibration file (see
        :func:`reawaken.model.parameter_set`).

    Returns
    -------
    params : numpy.ndarray
        The parameter vector, in the order of ``reawaken.model.PARAMETER_NAMES``.
    forcing : Forcing
        The arm's inputs.

    Raises
    ------
    InputError
        If the arm, its parameter set or an override's name is unknown, an override is not a
        finite number >= 0, or an intervention is impossible.
    KeyError
        If ``calibrated`` lacks a parameter the set takes from the calibration.

    Examples
    --------
    >>> from reawaken.experiments import MOUSE_LUNG, arm_inputs
    >>> params, forcing = arm_inputs(MOUSE_LUNG, "influenza+il6_ko")
    >>> params.shape, float(forcing.il6_production_scale)
    ((35,), 0.0)
    >>> params, _ = arm_inputs(MOUSE_LUNG, "influenza", overrides={"virus_inoculum": 10.0})
    >>> float(params[1])  # virus_inoculum, second in PARAMETER_NAMES
    10.0
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
    """Solve the arms of a protocol, each once or as an ensemble of individuals.

    Parameters
    ----------
    protocol : Protocol
        The experiment.
    arms : sequence of str, optional
        The arms to solve (default: all, in the protocol's order).
    days : sequence of float, optional
        The days to save (from 0, increasing; default: the protocol's sampling days).
    overrides : mapping of str to float, optional
        Parameter values to use instead of each arm's parameter set's.
    calibrated : mapping of str to float, optional
        Values to use instead of the calibration file (see
        :func:`reawaken.model.parameter_set`).
    n : int, default 0
        0 solves each arm's own parameters once; ``n >= 1`` solves an ensemble of ``n``
        individuals drawn with :func:`reawaken.simulate.lognormal_factors`, the same draws in
        every arm (paired fold changes).
    cv : float, default 0.3
        Coefficient of variation of the individuals' parameter draws.
    seed : int, default 0
        Seed of the draws.
    settings : SolverSettings, optional
        Method and tolerances.
    progress : callable, optional
        Called as ``progress(k)`` after each block with the number of trajectories done.

    Returns
    -------
    list of ArmResult
        One per arm, in the order asked for; summarise them with
        :func:`reawaken.simulate.summarise`.

    Raises
    ------
    InputError
        If ``n`` is not a whole number >= 0, ``cv`` is not a finite number >= 0, or an arm,
        override or intervention is not accepted (see :func:`arm_inputs`).
    ValueError
        If ``days`` does not start at 0 and increase.

    Examples
    --------
    >>> from reawaken.experiments import MOUSE_LUNG, run_protocol
    >>> results = run_protocol(MOUSE_LUNG, arms=["mock", "influenza"], days=[0, 3, 15])
    >>> [(r.arm, r.solution.ys.shape) for r in results]
    [('mock', (1, 3, 12)), ('influenza', (1, 3, 12))]
    >>> ensemble = run_protocol(MOUSE_LUNG, arms=["influenza"], days=[0, 15], n=4, seed=1)
    >>> ensemble[0].solution.ys.shape
    (4, 2, 12)
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
    """Stochastic DCC clones of ``replicates`` animals of one arm of a protocol.

    :func:`reawaken.simulate.simulate_clones` on the arm's inputs (:func:`arm_inputs`); see
    :func:`reawaken.simulate.lesion_summary` for the probability of a lesion.

    Parameters
    ----------
    protocol : Protocol
        The experiment.
    arm : str
        One of its arms.
    days, replicates, seed, dt
        Days to report, animals, seed and tau-leaping step, as for
        :func:`reawaken.simulate.simulate_clones`.

    Returns
    -------
    CloneResult
        What :func:`reawaken.simulate.simulate_clones` gives for the arm.

    Raises
    ------
    InputError
        If the arm is unknown or its inputs are not accepted (see :func:`arm_inputs`),
        ``replicates < 1``, ``dt`` is outside (0, 0.5], or ``days`` is empty or holds a
        negative or non-finite day.

    Examples
    --------
    >>> from reawaken.experiments import MOUSE_LUNG, run_clones
    >>> clones = run_clones(MOUSE_LUNG, "influenza", [0, 3], replicates=10, seed=1)
    >>> clones.arm, clones.dormant.shape  # replicate, day, clone
    ('influenza', (10, 2, 100))
    """
    params, forcing = arm_inputs(protocol, arm)
    return simulate_clones(params, forcing, days, arm=arm, replicates=replicates, seed=seed, dt=dt)
