"""Ensemble engine: a Rosenbrock method (RODAS, order 4(3), stiffly accurate, L-stable) with
the exact sparse Jacobian, generated as straight-line code from the model and compiled with
numba; every trajectory has its own adaptive step and trajectories run on parallel threads.

Why a dedicated engine: the within-host model is stiff (IL-6 cleared with a half-life of about
an hour, CD8+ T cells killing infected cells hundreds of times a day), so an explicit method
takes thousands of steps; a vmapped solve (diffrax) also waits for the slowest member of each
chunk, and on a CPU the array program spends most of its time between small kernels. Here the
model is written once (``reawaken.model.equations``), traced by JAX, and its jaxpr translated
(:mod:`reawaken.simulate.codegen`) into one scalar function per step: the Jacobian (a JVP per
state, only at the structural nonzeros found by :func:`jacobian_pattern`), its LU factors on
the diagonal in a Markowitz order (fill-in resolved while generating), and the six stages.

Method: Hairer & Wanner's RODAS (Solving ODEs II, 2nd ed., Springer 1996, section IV.7; the
coefficients of ``rodas.f``, METH = 1). Each stage solves ``(I/(h*gamma) - J) k_i =
f(Y_i) + sum_j c_ij k_j / h``; the solution is ``Y_6 + k_6`` and ``k_6`` is the error estimate
of the embedded order-3 solution. The model's forcing (doses, depletion, antiviral,
re-inoculation) is piecewise constant in time, and steps never cross a switch day, so the
vector field is autonomous within a step and the time-derivative term of the method is zero
(the forcing is evaluated at the middle of the step).

Steps end exactly on every save day and switch day; the values saved are the step end points
themselves (no interpolation). Step size control: ``h_new = h * clip(0.9 * err**(-1/4), 0.2,
6)`` with the weighted RMS norm of the error over ``atol + rtol * max(|y0|, |y1|)``; a step with
``err > 1`` or a non-finite result is rejected and retried with the smaller step. A trajectory
that exhausts ``max_steps`` or whose step collapses is reported as failed (``ok = False``,
values NaN).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from reawaken.simulate import codegen
from reawaken.simulate.precision import float64


@dataclass(frozen=True)
class Tableau:
    """A Rosenbrock method in the form of Hairer & Wanner (and KPP): with
    ``W = I/(h*gamma) - J``, stage ``i`` solves ``W k_i = f(y + sum_j a_ij k_j) +
    sum_j c_ij k_j / h``; the step gives ``y + sum_i m_i k_i`` with error estimate
    ``sum_i e_i k_i``. ``new_f[i]`` is False where stage ``i`` reuses the previous stage's
    function value (its ``a_ij`` row equals the previous one)."""

    name: str
    gamma: float
    a: tuple[tuple[float, ...], ...]
    c: tuple[tuple[float, ...], ...]
    m: tuple[float, ...]
    e: tuple[float, ...]
    new_f: tuple[bool, ...]


_R4A = (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950)
RODAS4 = Tableau(
    name="rodas4",
    gamma=0.25,
    a=(
        (),
        (1.544,),
        (0.9466785280815826, 0.2557011698983284),
        (3.314825187068521, 2.896124015972201, 0.9986419139977817),
        _R4A,
        (*_R4A, 1.0),
    ),
    c=(
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
    ),
    m=(*_R4A, 1.0, 1.0),
    e=(0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
    new_f=(True,) * 6,
)
"""RODAS (Hairer & Wanner 1996, section IV.7; ``rodas.f`` METH = 1): six stages, order 4(3),
stiffly accurate, L-stable."""

TABLEAUS = {t.name: t for t in (RODAS4,)}

SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 6.0
"""Step size controller: safety factor and bounds on the change of the step per step."""


Field = Callable[[jnp.ndarray, list[jnp.ndarray], jnp.ndarray, Any], Sequence[jnp.ndarray]]
"""``field(t, [y_0, ..., y_n-1], p, args) -> [dy_0/dt, ..., dy_n-1/dt]`` for one trajectory;
``args`` (a pytree) is shared by the whole batch."""

Pattern = tuple[tuple[bool, ...], ...]
"""Structural nonzeros of a Jacobian, ``pattern[i][j]`` for ``d f_i / d y_j``."""


@float64
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


def _emit_lu(
    em: codegen.Emitter, jac: dict[tuple[int, int], str], diag: str, order: tuple[int, ...]
) -> tuple[dict, dict, dict]:
    """LU factors of ``W = diag * I - J`` on the diagonal, in ``order``, without numerical
    pivoting: W is dominated by its diagonal for small steps, and a step whose factors break
    down gives non-finite values and is rejected (and retried smaller). Fill-in is worked out
    here, so only structural nonzeros cost anything."""
    m = {key: em.assign(f"(-{value})") for key, value in jac.items() if key[0] != key[1]}
    for k in order:
        m[(k, k)] = em.assign(f"({diag} - {jac[(k, k)]})") if (k, k) in jac else diag
    lower: dict[tuple[int, int], str] = {}
    upper: dict[tuple[int, int], str] = {}
    inverse: dict[int, str] = {}
    for pos, k in enumerate(order):
        rest = order[pos + 1 :]
        inverse[k] = em.assign(f"(1.0 / {m[(k, k)]})")
        cols = [j for j in rest if (k, j) in m]
        for j in cols:
            upper[(k, j)] = m[(k, j)]
        for i in rest:
            if (i, k) not in m:
                continue
            factor = em.assign(f"({m[(i, k)]} * {inverse[k]})")
            lower[(i, k)] = factor
            for j in cols:
                update = f"{factor} * {m[(k, j)]}"
                m[(i, j)] = em.assign(
                    f"({m[(i, j)]} - {update})" if (i, j) in m else f"(-{update})"
                )
    return lower, upper, inverse


def _emit_solve(
    em: codegen.Emitter, factors: tuple[dict, dict, dict], order: tuple[int, ...], b: list[str]
) -> list[str]:
    lower, upper, inverse = factors
    x = list(b)
    for pos, i in enumerate(order):
        for k in order[:pos]:
            if (i, k) in lower:
                x[i] = em.assign(f"({x[i]} - {lower[(i, k)]} * {x[k]})")
    for pos in reversed(range(len(order))):
        i = order[pos]
        for j in order[pos + 1 :]:
            if (i, j) in upper:
                x[i] = em.assign(f"({x[i]} - {upper[(i, j)]} * {x[j]})")
        x[i] = em.assign(f"({x[i]} * {inverse[i]})")
    return x


def _combination(base: str | None, terms: Sequence[tuple[float, str]]) -> str:
    parts = [base] if base is not None else []
    parts += [f"{w!r} * {k}" for w, k in terms if w != 0.0]
    return "(" + " + ".join(parts) + ")" if parts else "0.0"


@dataclass(frozen=True)
class ModelSource:
    """What the generator needs to know of a model.

    ``field(t, y, p, *args)`` is the model for one trajectory (``y`` a list of scalars);
    ``examples`` are arguments of the right shapes for tracing it; ``inputs`` the source names
    of the flattened arguments (``"tm"``, the state list ``codegen.indexed("y", n)``, the
    parameters, then the rest); ``pattern`` the structural nonzeros of its Jacobian.
    """

    field: Callable[..., Sequence[Any]]
    examples: Sequence[Any]
    inputs: Sequence[Any]
    pattern: Pattern


@float64
def step_source(model: ModelSource, tableau: Tableau = RODAS4) -> str:
    """Source of ``step(tm, h, y, p, <args>, y1, err)``: one Rosenbrock step from state ``y``
    with step ``h``, the field evaluated at time ``tm``; writes the new state to ``y1`` and the
    error estimate to ``err``. The Jacobian is computed column by column (a JVP in one state
    each) and only at the structural nonzeros of ``model.pattern``.
    """
    field, examples, inputs, pattern = model.field, model.examples, model.inputs, model.pattern
    n = len(pattern)
    order = elimination_order(pattern)
    entries = [(i, k) for k in range(n) for i in range(n) if pattern[i][k]]

    def jacobian(t: Any, y: Any, p: Any, *args: Any) -> list:
        ys = [y[k] for k in range(n)]
        columns = [
            jax.jvp(
                lambda v, k=k: list(field(t, ys[:k] + [v] + ys[k + 1 :], p, *args)),
                (ys[k],),
                (jnp.ones_like(ys[k]),),
            )[1]
            for k in range(n)
        ]
        return [columns[k][i] for i, k in entries]

    def derivative(t: Any, y: Any, p: Any, *args: Any) -> list:
        return list(field(t, [y[k] for k in range(n)], p, *args))

    em = codegen.Emitter()
    values = codegen.emit_function(em, jacobian, examples, inputs)
    # a non-finite derivative (0 * inf, e.g. a power below 1 at zero) counts as 0
    jac = {
        e: em.assign(f"({v} if math.isfinite({v}) else 0.0)")
        for e, v in zip(entries, values, strict=True)
    }
    diag = em.assign(f"(1.0 / (h * {tableau.gamma!r}))")
    inv_h = em.assign("(1.0 / h)")
    factors = _emit_lu(em, jac, diag, order)
    y0 = list(inputs[1])
    ks: list[list[str]] = []
    f: list[str] = []
    for i, (a_row, c_row) in enumerate(zip(tableau.a, tableau.c, strict=True)):
        if tableau.new_f[i]:
            stage = [
                em.assign(_combination(y0[j], [(a, k[j]) for a, k in zip(a_row, ks, strict=False)]))
                for j in range(n)
            ]
            f = codegen.emit_function(em, derivative, examples, [inputs[0], stage, *inputs[2:]])
        rhs = list(f)
        if i:
            rhs = [
                em.assign(
                    f"({f[j]} + {inv_h} * "
                    + _combination(None, [(c, k[j]) for c, k in zip(c_row, ks, strict=True)])
                    + ")"
                )
                for j in range(n)
            ]
        ks.append(_emit_solve(em, factors, order, rhs))
    lines = list(em.lines)
    for j in range(n):
        lines.append(
            f"y1[{j}] = "
            + _combination(y0[j], [(w, k[j]) for w, k in zip(tableau.m, ks, strict=True)])
        )
        lines.append(
            f"err[{j}] = "
            + _combination(None, [(w, k[j]) for w, k in zip(tableau.e, ks, strict=True)])
        )
    names = ", ".join(str(x) for x in _argument_names(inputs))
    body = "\n".join("    " + line for line in lines)
    head = "@numba.njit(cache=True, error_model='numpy')\n"
    return f"{head}def step(tm, h, {names}, y1, err):\n{body}\n"


def _argument_names(inputs: Sequence[Any]) -> list[str]:
    """The distinct argument names behind the flattened inputs (``y`` for ``["y[0]", ...]``,
    ``f`` for ``"f[3]"``), in order, after the leading time."""
    names: list[str] = []
    for value in inputs[1:]:
        name = (value[0] if isinstance(value, list) else value).split("[")[0]
        if name not in names:
            names.append(name)
    return names


POWER = '''@numba.njit(cache=True, error_model="numpy", inline="always")
def power(a, b):
    """a ** b, exact, without calling pow for the exponents 1 and 0."""
    if b == 1.0:
        return a
    if b == 0.0:
        return 1.0
    return a**b


'''

DRIVER = '''
@numba.njit(parallel=True, cache=True, error_model="numpy")
def solve_all(params, starts, {args}, stops, save_slot, n_stops, rtol, atol, h0, max_steps,
              out, ok, steps):
    """Every trajectory (rows of params, starts) from day 0 to stops[n_stops - 1]."""
    count, n = starts.shape
    for q in numba.prange(count):
        p = params[q]
        y = starts[q].copy()
        y1 = np.empty(n)
        err = np.empty(n)
        out[q, 0, :] = y
        t = 0.0
        h = h0
        stop = 0
        taken = 0
        good = True
        while True:
            target = stops[stop]
            room = target - t
            clipped = h >= room
            hh = room if clipped else h
            step(t + 0.5 * hh, hh, {call}, y1, err)
            total = 0.0
            finite = True
            for j in range(n):
                scale = atol + rtol * max(abs(y[j]), abs(y1[j]))
                total += (err[j] / scale) ** 2
                if not math.isfinite(y1[j]):
                    finite = False
            norm = math.sqrt(total / n)
            finite = finite and math.isfinite(norm)
            accept = finite and norm <= 1.0
            factor = {min_factor}
            if finite:
                factor = min(max({safety} * max(norm, 1e-10) ** -0.25, {min_factor}), {max_factor})
            if not accept:
                factor = min(factor, 1.0)
            h_next = hh * factor
            taken += 1
            if accept:
                for j in range(n):
                    y[j] = y1[j]
                if clipped:
                    h_next = max(h_next, h)
                    t = target
                    slot = save_slot[stop]
                    if slot < out.shape[1]:
                        out[q, slot, :] = y
                    stop += 1
                    if stop >= n_stops:
                        break
                else:
                    t = t + hh
            h = h_next
            if taken >= max_steps or h < 1e-14 * max(t, 1.0):
                good = False
                break
        ok[q] = good
        steps[q] = taken
        if not good:
            out[q, :, :] = np.nan
'''


@float64
def engine_source(model: ModelSource, tableau: Tableau = RODAS4) -> str:
    """Source of a module with ``step`` (:func:`step_source`) and ``solve_all(params, starts,
    <args>, stops, save_slot, n_stops, rtol, atol, h0, max_steps, out, ok, steps)``, which
    solves every trajectory in parallel threads (numba ``prange``), each with its own step
    size. ``stops`` are the days where steps must end (the first ``n_stops``; save days and
    switch days), ``save_slot[j]`` the index in ``out`` of the value at ``stops[j]`` (past the
    end for a switch day only); ``out[:, 0]`` receives the start."""
    args = _argument_names(model.inputs)[2:]
    call = ", ".join(["y", "p", *args])
    driver = DRIVER.format(
        args=", ".join(args),
        call=call,
        safety=repr(SAFETY),
        min_factor=repr(MIN_FACTOR),
        max_factor=repr(MAX_FACTOR),
    )
    header = (
        '"""Generated by reawaken.simulate.rodas; do not edit."""\n'
        "import math\n\nimport numba\nimport numpy as np\n\n\n" + POWER
    )
    return header + step_source(model, tableau) + "\n" + driver


def load_engine(key: str, generate: Callable[[], str], directory: Path) -> ModuleType:
    """Import the generated engine for ``key`` (a description of everything the code depends
    on) from ``directory``, writing ``generate()`` there first if it is not there yet. numba
    caches the compiled code beside the file, so later processes skip both generation and
    compilation."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"rosenbrock_{digest}.py"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(generate())
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(f"reawaken_rosenbrock_{digest}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # numba's cache finds functions by module name
    spec.loader.exec_module(module)
    return module
