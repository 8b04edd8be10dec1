"""Deterministic solves of the within-host model (JAX, float64).

Two engines behind one function, :func:`solve`:

- ``method="rodas4"`` (default): the ensemble engine of :mod:`reawaken.simulate.rodas`, a
  Rosenbrock method with the exact sparse Jacobian, generated from the model's jaxpr and
  compiled with numba (once per machine: the compiled code is cached on disk, see
  :mod:`reawaken.simulate.engine`); each trajectory has its own step, trajectories run on parallel
  threads. Built for the model's stiffness and for large heterogeneous ensembles.
- ``method="tsit5"`` or ``"kvaerno5"``: diffrax's ``diffeqsolve`` (JAX), vmapped over
  parameter vectors in fixed-size chunks (a chunk runs until its slowest member is done),
  compiled once per save grid. The independent check of the default engine in the tests, and
  there for users who want diffrax's solvers.

Switch days and doses are inputs, so every arm of a protocol shares one compilation. A solve
that fails (step budget exhausted, step size collapse) is returned with ``ok = False`` and its
values set to NaN; callers turn that into a ``status`` column, never into numbers.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import diffrax
import jax
import jax.numpy as jnp
import numba
import numpy as np

from reawaken.errors import InputError
from reawaken.model.equations import array_field, initial_array
from reawaken.model.forcing import (
    MAX_SWITCHES,
    Forcing,
    flatten,
    switch_days,
)
from reawaken.model.states import N_STATES
from reawaken.simulate import engine, rodas
from reawaken.simulate.engine import jax_forcing
from reawaken.simulate.precision import float64


@dataclass(frozen=True)
class SolverSettings:
    """Integrator choice and tolerances for :func:`solve`.

    The settings check themselves when made (an unknown method, a tolerance that is not a
    positive finite number, a step or block count under 1 is an :class:`InputError`).

    Parameters
    ----------
    method : str, default "rodas4"
        One of ``METHODS``: ``"rodas4"`` (Rosenbrock 4(3), L-stable: the compiled ensemble
        engine), ``"tsit5"`` (diffrax, explicit Runge-Kutta 5(4)) or ``"kvaerno5"`` (diffrax,
        implicit).
    rtol, atol : float, default 1e-8
        Relative and absolute tolerances, on every state; ``atol`` is small because cell counts
        near zero matter (a few DCCs).
    max_steps : int, default 20000
        The most steps of one trajectory; a trajectory that needs more fails (``ok`` False).
    block : int, default 4096
        Ensemble engine: trajectories per block (``progress`` is called after each).
    threads : int, optional
        Ensemble engine: parallel threads (default: the number of CPUs).
    chunk_size : int, default 2048
        diffrax: trajectories solved together (vmapped) per chunk.
    stiff_fallback : bool, default True
        diffrax: trajectories that Tsit5 could not finish within ``max_steps`` are solved again
        with Kvaerno5 (at most ``stiff_max_steps`` steps) before being reported as failed.
    stiff_max_steps : int, default 100000
        The most steps of that second try.

    Raises
    ------
    InputError
        If a setting is not accepted (the message names it, its value and what is accepted).

    Examples
    --------
    >>> from reawaken.simulate import METHODS, SolverSettings
    >>> METHODS
    ('rodas4', 'tsit5', 'kvaerno5')
    >>> settings = SolverSettings(rtol=1e-6, atol=1e-6)
    >>> settings.method, settings.rtol
    ('rodas4', 1e-06)
    """

    method: str = "rodas4"
    rtol: float = 1e-8
    atol: float = 1e-8
    max_steps: int = 20_000
    block: int = 4096
    threads: int | None = None
    chunk_size: int = 2048
    stiff_fallback: bool = True
    stiff_max_steps: int = 100_000

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(
                f"solver method {self.method!r} is not known (accepted: {', '.join(METHODS)})"
            )
        for name in ("rtol", "atol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{name} {value!r} is not a number (accepted: a number > 0)")
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"{name} {value} is not accepted (accepted: a finite number > 0)")
        for name in ("max_steps", "block", "chunk_size", "stiff_max_steps", "threads"):
            value = getattr(self, name)
            if name == "threads" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(
                    f"{name} {value!r} is not accepted (accepted: a whole number >= 1)"
                )


@dataclass(frozen=True)
class Solution:
    """Solved trajectories, as :func:`solve` returns them.

    Parameters
    ----------
    days : numpy.ndarray
        The days the states were saved at, shape ``(T,)``.
    ys : numpy.ndarray
        The states, shape ``(n, T, S)``: individual, day, state (in the order of
        ``reawaken.model.STATE_IDS``; ``reawaken.model.as_state(ys[k].T)`` names them). NaN
        for a failed solve.
    ok : numpy.ndarray
        Shape ``(n,)``: False where the solve failed (step budget exhausted, step size
        collapse).
    steps : numpy.ndarray, optional
        Shape ``(n,)``: the steps each trajectory attempted (ensemble engine only).

    Examples
    --------
    >>> from reawaken.model import as_state, no_forcing, parameter_set
    >>> from reawaken.simulate import solve
    >>> sol = solve(parameter_set("mouse-influenza").vector(), no_forcing(), [0.0, 1.0, 2.0])
    >>> sol.days.tolist(), sol.ys.shape, sol.ok.tolist()
    ([0.0, 1.0, 2.0], (1, 3, 12), [True])
    >>> float(as_state(sol.ys[0].T).dcc_dormant[0])  # each state's trajectory, by name
    100.0
    """

    days: np.ndarray
    ys: np.ndarray
    ok: np.ndarray
    steps: np.ndarray | None = None


METHODS = (*rodas.TABLEAUS, "tsit5", "kvaerno5")


def _solver(method: str) -> diffrax.AbstractSolver:
    if method == "kvaerno5":
        return diffrax.Kvaerno5()
    if method == "tsit5":
        return diffrax.Tsit5()
    raise InputError(f"solver method {method!r} is not known (accepted: {', '.join(METHODS)})")


def _padded_jumps(forcing: Forcing, t1: float) -> np.ndarray:
    """Switch days inside (0, t1), padded with a day past t1 to the most a forcing can have
    (``MAX_SWITCHES``), so every arm shares one shape."""
    jumps = [d for d in switch_days(forcing) if 0.0 < d < t1]
    padding = [2.0 * t1 + 1.0] * (MAX_SWITCHES - len(jumps))
    return np.array(jumps + padding, dtype=np.float64)


@lru_cache(maxsize=64)
def _compiled(
    days: tuple[float, ...], settings: SolverSettings
) -> Callable[[jnp.ndarray, Forcing, jnp.ndarray], tuple[jnp.ndarray, jnp.ndarray]]:
    term = diffrax.ODETerm(lambda t, y, args: array_field(t, y, args[0], args[1], jnp))
    solver = _solver(settings.method)
    saveat = diffrax.SaveAt(ts=jnp.asarray(days))

    def one(
        p: jnp.ndarray, y0: jnp.ndarray, forcing: Forcing, jumps: jnp.ndarray
    ) -> tuple[jnp.ndarray, jnp.ndarray]:
        controller = diffrax.ClipStepSizeController(
            diffrax.PIDController(rtol=settings.rtol, atol=settings.atol), jump_ts=jumps
        )
        sol = diffrax.diffeqsolve(
            term,
            solver,
            t0=0.0,
            t1=days[-1],
            dt0=1e-3,
            y0=y0,
            args=(p, forcing),
            saveat=saveat,
            stepsize_controller=controller,
            max_steps=settings.max_steps,
            throw=False,
        )
        ok = sol.result == diffrax.RESULTS.successful
        ys = jnp.where(ok, sol.ys, jnp.nan)
        ok = ok & jnp.all(jnp.isfinite(ys))
        return ys, ok

    return jax.jit(jax.vmap(one, in_axes=(0, 0, None, None)))


_ENGINE_LOCK = threading.Lock()
"""numba's default threading layer runs one parallel region at a time: calls from several
Python threads take turns."""


def _stops(days: np.ndarray, forcing: Forcing) -> tuple[np.ndarray, np.ndarray]:
    """Days where steps must end (save days after 0 and switch days), and the output index of
    each (``len(days)``, past the end, for a switch day that is not saved)."""
    t1 = float(days[-1])
    switches = [d for d in switch_days(forcing) if 0.0 < d < t1]
    stops = np.union1d(days[1:], switches)
    where = {float(d): k for k, d in enumerate(days)}
    save_slot = np.array([where.get(float(d), days.size) for d in stops], dtype=np.int64)
    return stops, save_slot


def _solve_rodas(
    batch: np.ndarray,
    starts: np.ndarray,
    forcing: Forcing,
    days: np.ndarray,
    settings: SolverSettings,
    progress: Callable[[int], None] | None,
) -> Solution:
    n = batch.shape[0]
    stops, save_slot = _stops(days, forcing)
    if stops.size == 0:  # only day 0 asked for
        return Solution(days, np.array(starts[:, None, :], dtype=np.float64), np.ones(n, bool))
    module = engine.engine(settings.method)
    flat = flatten(forcing)
    ys = np.empty((n, days.size, N_STATES))
    ok = np.empty(n, dtype=np.bool_)
    steps = np.empty(n, dtype=np.int64)
    threads = min(settings.threads or os.cpu_count() or 1, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(max(1, threads))
    batch = np.ascontiguousarray(batch, dtype=np.float64)
    starts = np.ascontiguousarray(starts, dtype=np.float64)
    for lo in range(0, n, settings.block):
        hi = min(lo + settings.block, n)
        with _ENGINE_LOCK:
            module.solve_all(
                batch[lo:hi],
                starts[lo:hi],
                flat,
                stops,
                save_slot,
                stops.size,
                settings.rtol,
                settings.atol,
                1e-3,
                settings.max_steps,
                ys[lo:hi],
                ok[lo:hi],
                steps[lo:hi],
            )
        if progress is not None:
            progress(hi - lo)
    return Solution(days, ys, ok, steps)


@float64
def solve(
    params: np.ndarray,
    forcing: Forcing,
    days: Sequence[float],
    settings: SolverSettings = SolverSettings(),
    *,
    y0: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> Solution:
    """Solve the model for one parameter vector or many, under one forcing.

    The first solve on a machine compiles the engine (about 20 s; cached on disk), the first
    in a process loads it (seconds); later solves take milliseconds per trajectory.
    A failed solve is returned with ``ok`` False and its states NaN, never raised.

    Parameters
    ----------
    params : array
        Shape ``(P,)`` for one individual or ``(n, P)`` for ``n``, in the order of
        ``reawaken.model.PARAMETER_NAMES`` (``ParameterSet.vector()``).
    forcing : Forcing
        The arm's inputs (``reawaken.model.no_forcing()`` or from
        ``reawaken.model.apply_interventions``).
    days : sequence of float
        The days to save the states at: starting at 0, increasing.
    settings : SolverSettings, optional
        Method and tolerances (default: ``rodas4`` at 1e-8).
    y0 : array, optional
        Shape ``(S,)`` or ``(n, S)``: initial states in the order of ``STATE_IDS``, instead of
        the model's own (:func:`~reawaken.model.equations.initial_state`).
    progress : callable, optional
        Called as ``progress(k)`` after each block (or chunk) with the number of trajectories
        done in it.

    Returns
    -------
    Solution
        ``days``, ``ys[n, day, state]``, ``ok[n]`` and (ensemble engine) ``steps[n]``.

    Raises
    ------
    InputError
        If ``days`` does not start at 0 and increase.
    ValueError
        If ``y0`` has the wrong shape.
    IndexError
        If ``params`` has fewer entries than ``PARAMETER_NAMES``.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.model import IL6Knockout, apply_interventions, as_state, parameter_set
    >>> from reawaken.simulate import solve
    >>> ps = parameter_set("mouse-influenza")
    >>> values, knockout = apply_interventions(ps.values(), [IL6Knockout()])
    >>> sol = solve(ps.vector(), knockout, [0, 3, 15])
    >>> sol.ys.shape, bool(sol.ok.all())
    ((1, 3, 12), True)
    >>> bool(np.all(as_state(sol.ys[0].T).dcc_awake == 0))  # without IL-6 no DCC awakens
    True
    """
    days_arr = np.asarray(days, dtype=np.float64)
    if days_arr.ndim != 1 or days_arr[0] != 0.0 or np.any(np.diff(days_arr) <= 0):
        raise InputError(
            "days must start at 0 and increase (the model starts at infection, day 0), got "
            + ", ".join(f"{d:g}" for d in np.ravel(days_arr)[:8])
        )
    params = np.asarray(params, dtype=np.float64)
    batch = params[None, :] if params.ndim == 1 else params
    n = batch.shape[0]
    if y0 is None:
        starts = initial_array(batch.T, forcing, np).T
    else:
        starts = np.broadcast_to(np.asarray(y0, dtype=np.float64), (n, N_STATES))
    if settings.method in rodas.TABLEAUS:
        return _solve_rodas(batch, starts, forcing, days_arr, settings, progress)
    jumps = jnp.asarray(_padded_jumps(forcing, float(days_arr[-1])))
    fn = _compiled(tuple(float(d) for d in days_arr), settings)
    forcing_j = jax_forcing(forcing)

    # chunk shape: the configured size, or the next power of two for small batches, so that
    # few distinct shapes are ever compiled
    size = min(settings.chunk_size, 1 << (n - 1).bit_length())
    ys = np.empty((n, days_arr.size, N_STATES))
    ok = np.empty(n, dtype=bool)
    for lo in range(0, n, size):
        hi = min(lo + size, n)
        chunk, chunk_y0 = batch[lo:hi], starts[lo:hi]
        if hi - lo < size:  # pad the last chunk to the compiled shape
            pad = size - (hi - lo)
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
            chunk_y0 = np.concatenate([chunk_y0, np.repeat(chunk_y0[-1:], pad, axis=0)])
        c_ys, c_ok = fn(jnp.asarray(chunk), jnp.asarray(chunk_y0), forcing_j, jumps)
        ys[lo:hi] = np.asarray(c_ys)[: hi - lo]
        ok[lo:hi] = np.asarray(c_ok)[: hi - lo]
        if progress is not None:
            progress(hi - lo)
    if settings.stiff_fallback and settings.method == "tsit5" and not ok.all():
        failed = np.flatnonzero(~ok)
        stiff = replace(
            settings, method="kvaerno5", max_steps=settings.stiff_max_steps, stiff_fallback=False
        )
        retry = solve(batch[failed], forcing, days_arr, stiff, y0=starts[failed])
        ys[failed], ok[failed] = retry.ys, retry.ok
    return Solution(days_arr, ys, ok)
