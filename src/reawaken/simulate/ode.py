"""Deterministic solves of the within-host model with diffrax (JAX, float64).

One compiled solver per (save grid, switch days, settings), vmapped over parameter vectors and
run in fixed-size chunks so ensembles of any size use bounded memory and compile once. A solve
that fails (step budget exhausted, step size collapse) is returned with ``ok = False`` and its
values set to NaN; callers turn that into a ``status`` column, never into numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import jax

jax.config.update("jax_enable_x64", True)

import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from reawaken.model.equations import MAX_EVENTS, Forcing, initial_state, vector_field  # noqa: E402
from reawaken.model.interventions import event_days  # noqa: E402
from reawaken.model.states import N_STATES  # noqa: E402


@dataclass(frozen=True)
class SolverSettings:
    """Integrator choice and tolerances.

    ``method``: ``"tsit5"`` (explicit Runge-Kutta 5(4), the default: the model is only mildly
    stiff and Tsit5 is several times faster here) or ``"kvaerno5"`` (implicit, L-stable, for
    stiff variants such as very high antibody doses). Tolerances apply to every state; ``atol``
    is small because cell counts near zero matter (a few DCCs). With ``stiff_fallback``,
    trajectories that the explicit method could not finish within ``max_steps`` (stiff
    parameter draws) are solved again with Kvaerno5 before being reported as failed.
    """

    method: str = "tsit5"
    rtol: float = 1e-8
    atol: float = 1e-8
    max_steps: int = 20_000
    chunk_size: int = 2048
    stiff_fallback: bool = True
    stiff_max_steps: int = 100_000


@dataclass(frozen=True)
class Solution:
    """Solved trajectories: ``ys[n, time, state]``, ``ok[n]`` (False = failed solve)."""

    days: np.ndarray
    ys: np.ndarray
    ok: np.ndarray


def _solver(method: str) -> diffrax.AbstractSolver:
    if method == "kvaerno5":
        return diffrax.Kvaerno5()
    if method == "tsit5":
        return diffrax.Tsit5()
    raise ValueError(f"unknown solver method {method!r} (use 'kvaerno5' or 'tsit5')")


MAX_JUMPS = 4 * MAX_EVENTS + 3
"""Length of the padded array of switch days handed to the step-size controller."""


def _padded_jumps(forcing: Forcing, t1: float) -> np.ndarray:
    """Switch days inside (0, t1), padded with a day past t1 so every arm shares one shape."""
    jumps = [d for d in event_days(forcing) if 0.0 < d < t1]
    return np.array(jumps + [2.0 * t1 + 1.0] * (MAX_JUMPS - len(jumps)), dtype=np.float64)


@lru_cache(maxsize=64)
def _compiled(
    days: tuple[float, ...], settings: SolverSettings
) -> Callable[[jnp.ndarray, Forcing, jnp.ndarray], tuple[jnp.ndarray, jnp.ndarray]]:
    term = diffrax.ODETerm(lambda t, y, args: vector_field(t, y, args[0], args[1], jnp))
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


def solve(
    params: np.ndarray,
    forcing: Forcing,
    days: Sequence[float],
    settings: SolverSettings = SolverSettings(),
    *,
    y0: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> Solution:
    """Solve for one parameter vector (shape ``(P,)``) or many (shape ``(n, P)``).

    ``days`` must start at 0 and increase. ``y0`` (shape ``(S,)`` or ``(n, S)``) replaces the
    model's own initial state (:func:`initial_state`) when given. ``progress(k)`` is called
    after each chunk with the number of trajectories done in it.
    """
    days_arr = np.asarray(days, dtype=np.float64)
    if days_arr.ndim != 1 or days_arr[0] != 0.0 or np.any(np.diff(days_arr) <= 0):
        raise ValueError("days must be increasing and start at 0")
    params = np.asarray(params, dtype=np.float64)
    batch = params[None, :] if params.ndim == 1 else params
    n = batch.shape[0]
    if y0 is None:
        starts = initial_state(batch.T, forcing, np).T
    else:
        starts = np.broadcast_to(np.asarray(y0, dtype=np.float64), (n, N_STATES))
    jumps = jnp.asarray(_padded_jumps(forcing, float(days_arr[-1])))
    fn = _compiled(tuple(float(d) for d in days_arr), settings)
    forcing_j = Forcing(*(jnp.asarray(np.asarray(x, dtype=np.float64)) for x in forcing))

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
    if settings.stiff_fallback and settings.method != "kvaerno5" and not ok.all():
        failed = np.flatnonzero(~ok)
        stiff = replace(
            settings, method="kvaerno5", max_steps=settings.stiff_max_steps, stiff_fallback=False
        )
        retry = solve(batch[failed], forcing, days_arr, stiff, y0=starts[failed])
        ys[failed], ok[failed] = retry.ys, retry.ok
    return Solution(days_arr, ys, ok)
