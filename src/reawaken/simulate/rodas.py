"""Ensemble engine: a Rosenbrock method (RODAS, order 4(3), stiffly accurate, L-stable) run on
many trajectories at once, each with its own adaptive step, in slots that are refilled.

Why a dedicated engine: the within-host model is stiff (IL-6 cleared with a half-life of about
an hour, CD8+ T cells killing infected cells hundreds of times a day), so an explicit method
takes thousands of steps and a vmapped solve waits for the slowest member of each chunk. Here
``slots`` trajectories advance together, one (accepted or rejected) step per iteration, and a
slot whose trajectory has reached the last day is refilled at once from the queue, so the only
idle work is at the very end of the queue.

Method: Hairer & Wanner's RODAS (Solving ODEs II, 2nd ed., Springer 1996, section IV.7; the
coefficients of ``rodas.f``, METH = 1), six stages with the exact Jacobian (forward-mode
automatic differentiation of the vector field). Each stage solves ``(I/(h*gamma) - J) k_i =
f(Y_i) + sum_j c_ij k_j / h``; the solution is ``Y_6 + k_6`` and ``k_6`` is the error estimate
of the embedded order-3 solution. The model's forcing (doses, depletion, antiviral,
re-inoculation) is piecewise constant in time, and steps never cross a switch day, so the
vector field is autonomous within a step and the time-derivative term of the method is zero.

Steps end exactly on every save day and switch day; the values saved are the step end points
themselves (no interpolation). Step size control: ``h_new = h * clip(0.9 * err**(-1/4), 0.2,
6)`` with the weighted RMS norm of the error over ``atol + rtol * max(|y0|, |y1|)``; a step with
``err > 1`` or a non-finite result is rejected and retried with the smaller step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

GAMMA = 0.25
A = (
    (),
    (1.544,),
    (0.9466785280815826, 0.2557011698983284),
    (3.314825187068521, 2.896124015972201, 0.9986419139977817),
    (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950),
)
"""Stage weights ``a_ij`` of stages 2-5 (stage 6 starts from ``Y_5 + k_5``)."""
C = (
    (),
    (-5.6688,),
    (-2.430093356833875, -0.2063599157091915),
    (-0.1073529058151375, -9.594562251023355, -20.47028614809616),
    (7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160),
    (
        8.083246795921522,
        -7.981132988064893,
        -31.52159432874371,
        16.31930543123136,
        -6.058818238834054,
    ),
)
"""Coupling coefficients ``c_ij`` of stages 2-6."""

SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 6.0
"""Step size controller: safety factor and bounds on the change of the step per step."""


Field = Callable[[jnp.ndarray, list[jnp.ndarray], jnp.ndarray, Any], Sequence[jnp.ndarray]]
"""``field(t, [y_0, ..., y_n-1], p, args) -> [dy_0/dt, ..., dy_n-1/dt]`` for one trajectory;
``args`` (a pytree) is shared by the whole batch."""

Pattern = tuple[tuple[bool, ...], ...]
"""Structural nonzeros of a Jacobian, ``pattern[i][j]`` for ``d f_i / d y_j``."""


def jacobian_pattern(
    field: Field, ts: np.ndarray, ys: np.ndarray, ps: np.ndarray, args: Sequence[Any]
) -> Pattern:
    """Union of the finite nonzero entries of ``d field / d y`` over sample points (``ts[m]``,
    ``ys[m, n]``, ``ps[m, P]``) and every ``args`` in turn, with the diagonal."""
    n = ys.shape[1]

    def jacobian(t: jnp.ndarray, y: jnp.ndarray, p: jnp.ndarray, a: Any) -> jnp.ndarray:
        return jax.jacfwd(lambda v: jnp.stack(list(field(t, [v[k] for k in range(n)], p, a))))(y)

    batched = jax.jit(jax.vmap(jacobian, in_axes=(0, 0, 0, None)))
    found = np.eye(n, dtype=bool)
    for a in args:
        jac = batched(jnp.asarray(ts), jnp.asarray(ys), jnp.asarray(ps), a)
        jac = np.asarray(jac)
        found |= np.any((jac != 0.0) & np.isfinite(jac), axis=0)
    return tuple(tuple(bool(v) for v in row) for row in found)


def _markowitz(nz: set[tuple[int, int]], left: list[int], k: int) -> int:
    rows = sum((i, k) in nz for i in left) - 1
    cols = sum((k, j) in nz for j in left) - 1
    return rows * cols


def elimination_order(pattern: Pattern) -> tuple[int, ...]:
    """Pivot order for a sparse LU on the diagonal: greedy Markowitz (fewest
    ``(row nonzeros - 1) * (column nonzeros - 1)`` in the remaining submatrix, ties by index)."""
    n = len(pattern)
    nz = {(i, j) for i in range(n) for j in range(n) if pattern[i][j]}
    left = list(range(n))
    order: list[int] = []
    while left:
        k = min(left, key=lambda k: (_markowitz(nz, left, k), k))
        left.remove(k)
        order.append(k)
        rows = [i for i in left if (i, k) in nz]
        cols = [j for j in left if (k, j) in nz]
        nz |= {(i, j) for i in rows for j in cols}
    return tuple(order)


class SparseLU:
    """LU factors, on the diagonal in a fixed pivot order, of a matrix with a known pattern.

    Built from traced entries ``m[(i, j)]``; fill-in is worked out while tracing, so only the
    structural nonzeros cost anything. No numerical pivoting: the matrices here are
    ``I/(h*gamma) - J``, dominated by their diagonal for small steps, and a step whose factors
    break down gives non-finite stages and is rejected (and retried smaller).
    """

    def __init__(self, m: dict[tuple[int, int], jnp.ndarray], order: tuple[int, ...]) -> None:
        m = dict(m)
        self.order = order
        self.lower: dict[tuple[int, int], jnp.ndarray] = {}
        self.upper: dict[tuple[int, int], jnp.ndarray] = {}
        self.inv_pivot: dict[int, jnp.ndarray] = {}
        for pos, k in enumerate(order):
            rest = order[pos + 1 :]
            inv = 1.0 / m[(k, k)]
            self.inv_pivot[k] = inv
            cols = [j for j in rest if (k, j) in m]
            for j in cols:
                self.upper[(k, j)] = m[(k, j)]
            for i in rest:
                if (i, k) not in m:
                    continue
                factor = m[(i, k)] * inv
                self.lower[(i, k)] = factor
                for j in cols:
                    update = factor * m[(k, j)]
                    m[(i, j)] = m[(i, j)] - update if (i, j) in m else -update

    def solve(self, b: list[jnp.ndarray]) -> list[jnp.ndarray]:
        x = list(b)
        for pos, i in enumerate(self.order):
            for k in self.order[:pos]:
                if (i, k) in self.lower:
                    x[i] = x[i] - self.lower[(i, k)] * x[k]
        for pos in reversed(range(len(self.order))):
            i = self.order[pos]
            for j in self.order[pos + 1 :]:
                if (i, j) in self.upper:
                    x[i] = x[i] - self.upper[(i, j)] * x[j]
            x[i] = x[i] * self.inv_pivot[i]
        return x


def rodas_step(
    field: Field,
    pattern: Pattern,
    order: tuple[int, ...],
    t: jnp.ndarray,
    y: jnp.ndarray,
    h: jnp.ndarray,
    p: jnp.ndarray,
    args: Any,
) -> tuple[jnp.ndarray, jnp.ndarray]:
    """One RODAS step of one trajectory (vmap it for a batch): state ``y`` ``(n,)``, parameters
    ``p``. Returns ``(y1, error estimate)``, each ``(n,)``."""
    n = y.shape[0]
    tm = t + 0.5 * h  # the forcing is constant within a step; evaluate it inside
    y0 = [y[k] for k in range(n)]
    # Jacobian column by column, each a JVP in one state only, so only the entries that
    # depend on that state are computed
    m: dict[tuple[int, int], jnp.ndarray] = {}
    for k in range(n):

        def along(v: jnp.ndarray, k: int = k) -> list[jnp.ndarray]:
            return list(field(tm, y0[:k] + [v] + y0[k + 1 :], p, args))

        column = jax.jvp(along, (y0[k],), (jnp.ones_like(y0[k]),))[1]
        for i in range(n):
            if pattern[i][k]:
                # a non-finite derivative (0 * inf, e.g. a power below 1 at zero) counts as 0
                m[(i, k)] = -jnp.where(jnp.isfinite(column[i]), column[i], 0.0)
    diag = 1.0 / (h * GAMMA)
    for k in range(n):
        m[(k, k)] = m[(k, k)] + diag if (k, k) in m else diag
    lu = SparseLU(m, order)
    inv_h = 1.0 / h
    ks: list[jnp.ndarray] = []
    stage = y
    for i in range(6):
        if 0 < i < 5:
            stage = y + sum(a * k for a, k in zip(A[i], ks, strict=True))
        elif i == 5:
            stage = stage + ks[4]
        rhs = jnp.stack(list(field(tm, [stage[j] for j in range(n)], p, args)))
        if i:
            rhs = rhs + inv_h * sum(c * k for c, k in zip(C[i], ks, strict=True))
        ks.append(jnp.stack(lu.solve([rhs[j] for j in range(n)])))
    return stage + ks[5], ks[5]


@partial(jax.jit, static_argnames=("field", "pattern", "slots", "n_saves", "max_steps"))
def run_queue(
    field: Field,
    pattern: Pattern,
    params: jnp.ndarray,
    y0: jnp.ndarray,
    args: Any,
    stops: jnp.ndarray,
    save_slot: jnp.ndarray,
    n_stops: jnp.ndarray,
    rtol: float,
    atol: float,
    h0: float,
    *,
    slots: int,
    n_saves: int,
    max_steps: int,
) -> tuple[jnp.ndarray, jnp.ndarray, jnp.ndarray]:
    """Solve every row of ``params`` (``(q, P)``, starts ``y0`` ``(q, n)``) from day 0, with
    ``args`` handed to the field.

    ``stops``: increasing days > 0 at which steps must end (save days and switch days), the
    ``n_stops``-th one the final day (entries after it are padding); ``save_slot[j]``: index in
    the output of the value at ``stops[j]``, or ``n_saves`` (dropped) for a switch day that is
    not saved. Day 0 is saved as output 0.
    Returns ``ys[q, n_saves, n]``, ``ok[q]``, ``steps[q]`` (attempted steps).
    """
    q, n = y0.shape
    step = jax.vmap(
        partial(rodas_step, field, pattern, elimination_order(pattern)),
        in_axes=(0, 0, 0, 0, None),
    )
    ys = jnp.full((q, n_saves, n), jnp.nan).at[:, 0].set(y0)

    first = jnp.arange(slots)
    live = first < q
    safe = jnp.minimum(first, q - 1)
    state = dict(
        idx=jnp.where(live, first, q),
        live=live,
        t=jnp.zeros(slots),
        h=jnp.full(slots, h0),
        y=y0[safe],
        p=params[safe],
        stop=jnp.zeros(slots, dtype=jnp.int32),
        steps=jnp.zeros(slots, dtype=jnp.int32),
        next=jnp.int32(min(slots, q)),
        ys=ys,
        ok=jnp.ones(q, dtype=bool),
        count=jnp.zeros(q, dtype=jnp.int32),
    )

    def cond(s: dict) -> jnp.ndarray:
        return jnp.any(s["live"])

    def body(s: dict) -> dict:
        target = stops[s["stop"]]
        room = target - s["t"]
        clipped = s["h"] >= room
        h = jnp.where(clipped, room, s["h"])
        y1, err = step(s["t"], s["y"], h, s["p"], args)
        scale = atol + rtol * jnp.maximum(jnp.abs(s["y"]), jnp.abs(y1))
        norm = jnp.sqrt(jnp.mean((err / scale) ** 2, axis=1))
        finite = jnp.all(jnp.isfinite(y1), axis=1) & jnp.isfinite(norm)
        accept = s["live"] & finite & (norm <= 1.0)
        factor = jnp.where(
            finite,
            jnp.clip(SAFETY * jnp.maximum(norm, 1e-10) ** -0.25, MIN_FACTOR, MAX_FACTOR),
            MIN_FACTOR,
        )
        factor = jnp.where(accept, factor, jnp.minimum(factor, 1.0))
        h_next = h * factor
        # keep the unclipped proposal when a step was shortened only to land on a stop
        h_next = jnp.where(accept & clipped, jnp.maximum(h_next, s["h"]), h_next)
        t = jnp.where(accept, jnp.where(clipped, target, s["t"] + h), s["t"])
        y = jnp.where(accept[:, None], y1, s["y"])
        landed = accept & clipped
        out_slot = jnp.where(landed, save_slot[s["stop"]], n_saves)
        ys = s["ys"].at[s["idx"], out_slot].set(y, mode="drop")
        stop = s["stop"] + landed.astype(jnp.int32)
        steps = s["steps"] + s["live"].astype(jnp.int32)
        finished = landed & (stop >= n_stops)
        failed = s["live"] & ((steps >= max_steps) | (h_next < 1e-14 * jnp.maximum(t, 1.0)))
        failed = failed & ~finished
        done = finished | failed
        ok = s["ok"].at[jnp.where(failed, s["idx"], q)].set(False, mode="drop")
        count = s["count"].at[jnp.where(done, s["idx"], q)].set(steps, mode="drop")
        # refill finished slots from the queue, in slot order
        new_idx = s["next"] + jnp.cumsum(done.astype(jnp.int32)) - 1
        refill = done & (new_idx < q)
        load = jnp.minimum(new_idx, q - 1)
        return dict(
            idx=jnp.where(done, jnp.where(refill, new_idx, q), s["idx"]),
            live=jnp.where(done, refill, s["live"]),
            t=jnp.where(done, 0.0, t),
            h=jnp.where(done, h0, h_next),
            y=jnp.where(refill[:, None], y0[load], y),
            p=jnp.where(refill[:, None], params[load], s["p"]),
            stop=jnp.where(done, 0, stop).astype(jnp.int32),
            steps=jnp.where(done, 0, steps).astype(jnp.int32),
            next=jnp.minimum(s["next"] + jnp.sum(done, dtype=jnp.int32), q).astype(jnp.int32),
            ys=ys,
            ok=ok,
            count=count,
        )

    final = jax.lax.while_loop(cond, body, state)
    ys = jnp.where(final["ok"][:, None, None], final["ys"], jnp.nan)
    return ys, final["ok"], final["count"]
