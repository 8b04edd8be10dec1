"""Straight-line scalar Python source from a JAX function, for compilation with numba.

The model is written once (``reawaken.model.equations``, against an array module); its jaxpr
(JAX's intermediate form, including forward-mode derivatives) is translated here, equation by
equation, into assignments of scalar Python expressions. Arrays of static length (the state,
the parameter vector, padded dose schedules) become lists of scalars, so the output needs no
array operations. Identical expressions are emitted once (hash-consing), which removes the
primal recomputed by every JVP column and shares the time-only terms of the forcing between
the stages of a solver step; multiplications by 1, by 0 and additions of 0 (from JVP seeds)
are folded.

Real powers call ``power(a, b)``, which the generated module must define (the engine's returns
``a`` for ``b == 1`` and ``1`` for ``b == 0`` without calling ``pow``: Hill coefficients of 1
are common and ``pow`` is the dearest operation in a step).

Supported primitives are those the model uses (arithmetic, comparisons, ``select_n``,
``max``/``min``, powers, ``exp``/``log``/``sqrt``/``tanh``, ``slice``/``squeeze``/broadcasts
of 1-D arrays, ``reduce_sum`` and nested ``jit`` calls); anything else raises
``NotImplementedError`` naming the primitive, so a model change that needs more fails loudly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.extend import core as jcore

from reawaken.simulate.precision import float64

Value = str | list[str]
"""A scalar expression (a name or a literal) or a list of them (a 1-D array)."""

_BINARY = {
    "add": "+",
    "add_any": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "ge": ">=",
    "gt": ">",
    "le": "<=",
    "lt": "<",
    "eq": "==",
    "ne": "!=",
    "and": "&",
    "or": "|",
}
_FUNCTIONS = {"exp", "log", "sqrt", "tanh", "log1p", "expm1"}
_CALLS = ("jit", "pjit", "closed_call", "core_call")
_ATOM = re.compile(r"^[A-Za-z_]\w*(\[\d+\])?$|^-?[\d.]+(e[+-]?\d+)?$|^(True|False)$")
_SIMPLE = re.compile(r"\((\S+) ([*+-]) (\S+)\)")
_ZEROS = ("0.0", "-0.0")


class Emitter:
    """Collects assignments ``vN = expression``; :meth:`assign` returns the name holding an
    expression, reusing an earlier one for an identical expression."""

    def __init__(self, prefix: str = "v") -> None:
        self.lines: list[str] = []
        self.prefix = prefix
        self._seen: dict[str, str] = {}

    def assign(self, expr: str) -> str:
        folded = _fold(expr)
        if folded is not None:
            return folded
        if _ATOM.match(expr):
            return expr
        if expr in self._seen:
            return self._seen[expr]
        name = f"{self.prefix}{len(self._seen)}"
        self._seen[expr] = name
        self.lines.append(f"{name} = {expr}")
        return name


def _fold(expr: str) -> str | None:
    match = _SIMPLE.fullmatch(expr)
    if match is None:
        return "0.0" if expr == "(-0.0)" else None
    a, op, b = match.groups()
    if op == "*":
        if a in _ZEROS or b in _ZEROS:
            return "0.0"
        if a == "1.0":
            return b
        if b == "1.0":
            return a
    if op == "+" and a in _ZEROS:
        return b
    if op in "+-" and b in _ZEROS:
        return a
    return None


def literal(x: Any) -> Value:
    """Source text of a constant (a list for a 1-D array)."""
    a = np.asarray(x)
    if a.ndim > 1:
        raise NotImplementedError(f"constant of shape {a.shape}")
    if a.ndim == 1:
        return [str(literal(v)) for v in a]
    if a.dtype == bool:
        return "True" if bool(a) else "False"
    if a.dtype.kind in "iu":
        return repr(int(a))
    return repr(float(a))


def _map(em: Emitter, make: Callable[..., str], *values: Value) -> Value:
    """Apply a scalar expression maker elementwise, broadcasting scalars against lists."""
    sizes = {len(v) for v in values if isinstance(v, list)}
    if not sizes:
        return em.assign(make(*values))
    if len(sizes) > 1:
        raise NotImplementedError(f"operands of different lengths {sorted(sizes)}")
    (size,) = sizes
    columns = [v if isinstance(v, list) else [v] * size for v in values]
    return [em.assign(make(*row)) for row in zip(*columns, strict=True)]


def _unary(name: str, params: dict[str, Any]) -> Callable[[str], str]:
    if name == "neg":
        return lambda x: f"(-{x})"
    if name == "abs":
        return lambda x: f"abs({x})"
    if name == "integer_pow":
        power = int(params["y"])
        return lambda x: f"({x} ** {power})"
    if name == "not":
        return lambda x: f"(not {x})"
    if name == "convert_element_type":
        kind = np.dtype(params["new_dtype"]).kind
        cast = {"f": "float", "b": "bool"}.get(kind, "int")
        return lambda x: f"{cast}({x})"
    if name in _FUNCTIONS:
        return lambda x: f"math.{name}({x})"
    raise NotImplementedError(f"primitive {name}")


def emit_jaxpr(em: Emitter, jaxpr: Any, consts: Sequence[Any], inputs: Sequence[Value]) -> list:
    """Emit the equations of ``jaxpr`` with its inputs bound to ``inputs``; returns the
    values of its outputs."""
    env: dict[Any, Value] = {}
    for var, const in zip(jaxpr.constvars, consts, strict=True):
        env[var] = literal(const)
    for var, value in zip(jaxpr.invars, inputs, strict=True):
        env[var] = value

    def read(var: Any) -> Value:
        return literal(var.val) if isinstance(var, jcore.Literal) else env[var]

    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        args = [read(v) for v in eqn.invars]
        if name in _CALLS:
            sub = eqn.params.get("jaxpr") or eqn.params["call_jaxpr"]
            inner, inner_consts = (sub.jaxpr, sub.consts) if hasattr(sub, "jaxpr") else (sub, [])
            outs = emit_jaxpr(em, inner, inner_consts, args)
        elif name in _BINARY:
            op = _BINARY[name]
            outs = [_map(em, lambda a, b, op=op: f"({a} {op} {b})", *args)]
        elif name == "pow":
            outs = [_map(em, lambda a, b: f"power({a}, {b})", *args)]
        elif name in ("max", "min"):
            outs = [_map(em, lambda a, b, f=name: f"{f}({a}, {b})", *args)]
        elif name == "select_n":
            if len(args) != 3:
                raise NotImplementedError("select_n with more than two cases")
            outs = [_map(em, lambda c, a, b: f"({b} if {c} else {a})", *args)]
        elif name == "slice":
            (start,), (stop,) = eqn.params["start_indices"], eqn.params["limit_indices"]
            (stride,) = eqn.params["strides"] or (1,)
            outs = [args[0][start:stop:stride]]
        elif name == "squeeze":
            outs = [args[0][0] if isinstance(args[0], list) else args[0]]
        elif name in ("reshape", "broadcast_in_dim"):
            shape = tuple(eqn.outvars[0].aval.shape)
            if sum(d != 1 for d in shape) > 1:
                raise NotImplementedError(f"{name} to shape {shape}")
            items = args[0] if isinstance(args[0], list) else [args[0]]
            size = int(np.prod(shape)) if shape else 1
            outs = [items[0] if not shape else (items * size if len(items) == 1 else items)]
        elif name == "reduce_sum":
            x = args[0]
            outs = [em.assign("(" + " + ".join(x) + ")") if isinstance(x, list) else x]
        elif name in ("copy", "copy_p"):
            outs = [args[0]]
        else:
            outs = [_map(em, _unary(name, eqn.params), args[0])]
        for var, value in zip(eqn.outvars, outs, strict=True):
            env[var] = value
    return [read(v) for v in jaxpr.outvars]


@float64
def emit_function(
    em: Emitter, fn: Callable[..., Any], examples: Sequence[Any], inputs: Sequence[Any]
) -> list:
    """Trace ``fn`` on ``examples`` (arrays of the right shapes; pytrees are flattened) and
    emit it with the flattened arguments bound to ``inputs`` (one :data:`Value` per leaf)."""
    closed = jax.make_jaxpr(fn)(*examples)
    return emit_jaxpr(em, closed.jaxpr, closed.consts, inputs)


def indexed(name: str, size: int) -> list[str]:
    """``[name[0], ..., name[size-1]]``: an array argument as a list of scalars."""
    return [f"{name}[{k}]" for k in range(size)]
