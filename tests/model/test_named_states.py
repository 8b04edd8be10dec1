"""States are named: the equations read and build them by name, so the order of the fields of
the state type is only a layout. Permuting it gives the same derivatives, the same initial
state, the same Jacobian structure and the same solution, number for number."""

from __future__ import annotations

import ast
import inspect
from typing import Any, NamedTuple

import numpy as np

from reawaken.model import equations
from reawaken.model.forcing import Forcing, no_forcing
from reawaken.model.interventions import AntiIL6, CD4Depletion, apply_interventions
from reawaken.model.parameters import parameter_set
from reawaken.model.states import STATE_IDS, STATES, ModelState
from reawaken.simulate import rodas
from reawaken.simulate.engine import jax_forcing
from reawaken.simulate.ode import SolverSettings, solve

PERMUTATION = tuple(np.random.default_rng(5).permutation(len(STATE_IDS)))
Shuffled = NamedTuple("Shuffled", [(STATE_IDS[k], Any) for k in PERMUTATION])
BASE = parameter_set("mouse-influenza").vector()


def _treated() -> Forcing:
    values = parameter_set("mouse-influenza").values()
    interventions = [AntiIL6(((0.0, 10.0), (1.5, 10.0))), CD4Depletion(2.0)]
    return apply_interventions(values, interventions)[1]


def _named(state: Any) -> dict[str, Any]:
    return dict(state._asdict())


def test_states_carry_their_units_in_one_definition():
    assert tuple(s.id for s in STATES) == ModelState._fields
    units = {s.id: s.unit for s in STATES}
    assert units["il6"] == "pg/mL" and units["virus"] == "TCID50/mL"
    assert units["antibody_depot"] == "mg/kg" and units["dcc_awake"] == "cells"


def test_permuted_states_give_the_same_derivatives_and_start(monkeypatch):
    assert Shuffled._fields != STATE_IDS and sorted(Shuffled._fields) == sorted(STATE_IDS)
    rng = np.random.default_rng(3)
    cases = []
    for forcing in (no_forcing(), _treated()):
        for _ in range(20):
            values = dict(zip(STATE_IDS, 10.0 ** rng.uniform(-3, 7, len(STATE_IDS)), strict=True))
            p = BASE * np.exp(rng.normal(0.0, 0.3, BASE.size))
            t = float(rng.uniform(0.0, 4.0))
            dy = equations.vector_field(t, ModelState(**values), p, forcing)
            cases.append((t, values, p, forcing, _named(dy)))
    starts = [_named(equations.initial_state(BASE, f)) for f in (no_forcing(), _treated())]

    monkeypatch.setattr(equations, "ModelState", Shuffled)
    for forcing, start in zip((no_forcing(), _treated()), starts, strict=True):
        shuffled_start = equations.initial_state(BASE, forcing)
        assert type(shuffled_start) is Shuffled and _named(shuffled_start) == start
    for t, values, p, forcing, want in cases:
        got = equations.vector_field(t, Shuffled(**values), p, forcing)
        assert type(got) is Shuffled
        assert _named(got) == want  # exactly: the same arithmetic, by name


def _rk4(forcing: Forcing, days: float, h: float) -> dict[str, np.ndarray]:
    """Classical Runge-Kutta with a fixed step on whatever state type the equations build,
    for a few individuals at once; returns each state's path by name."""
    rng = np.random.default_rng(1)
    p = (BASE[:, None] * np.exp(rng.normal(0.0, 0.2, (BASE.size, 3)))).astype(np.float64)
    y = equations.initial_state(p, forcing)
    kind = type(y)

    def f(t: float, y: Any) -> Any:
        return equations.vector_field(t, y, p, forcing)

    def step(y: Any, k: Any, c: float) -> Any:
        return kind._make(a + c * b for a, b in zip(y, k, strict=True))

    path = [_named(y)]
    t = 0.0
    for _ in range(int(round(days / h))):
        k1 = f(t, y)
        k2 = f(t + h / 2, step(y, k1, h / 2))
        k3 = f(t + h / 2, step(y, k2, h / 2))
        k4 = f(t + h, step(y, k3, h))
        y = kind._make(
            a + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4)
            for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4, strict=True)
        )
        t += h
        path.append(_named(y))
    return {sid: np.array([row[sid] for row in path]) for sid in STATE_IDS}


def test_a_permuted_state_order_gives_the_same_solution(monkeypatch):
    forcing = no_forcing()  # smooth: fixed steps are accurate (the pulses of doses are not)
    standard = _rk4(forcing, 3.0, 1 / 512)
    monkeypatch.setattr(equations, "ModelState", Shuffled)
    permuted = _rk4(forcing, 3.0, 1 / 512)
    for sid in STATE_IDS:
        np.testing.assert_array_equal(permuted[sid], standard[sid], err_msg=sid)
    # and it is the model's solution: the engine agrees at day 3
    monkeypatch.undo()
    rng = np.random.default_rng(1)
    p = BASE[None, :] * np.exp(rng.normal(0.0, 0.2, (BASE.size, 3))).T
    engine = solve(p, forcing, [0.0, 3.0], SolverSettings(rtol=1e-10, atol=1e-10))
    for k, sid in enumerate(STATE_IDS):
        np.testing.assert_allclose(engine.ys[:, 1, k], standard[sid][-1], rtol=1e-6, atol=1e-8)


def test_a_permuted_state_order_permutes_the_jacobian_structure(monkeypatch):
    import jax.numpy as jnp

    rng = np.random.default_rng(2)
    m = 8
    ys = 10.0 ** rng.uniform(-3.0, 7.0, (m, len(STATE_IDS)))
    ps = BASE[None, :] * np.exp(rng.normal(0.0, 1.0, (m, BASE.size)))
    ts = rng.uniform(0.0, 10.0, m)
    args = [jax_forcing(no_forcing()), jax_forcing(_treated())]

    def field(t: Any, y: list, p: Any, forcing: Forcing) -> list:
        kind = equations.ModelState  # the state type the equations build
        return list(equations.vector_field(t, kind._make(y), p, forcing, jnp))

    standard = rodas.jacobian_pattern(field, ts, ys, ps, args)
    monkeypatch.setattr(equations, "ModelState", Shuffled)
    order = [STATE_IDS.index(s) for s in Shuffled._fields]
    permuted = rodas.jacobian_pattern(field, ts, ys[:, order], ps, args)
    position = {sid: k for k, sid in enumerate(Shuffled._fields)}
    for i, a in enumerate(STATE_IDS):
        for j, b in enumerate(STATE_IDS):
            assert permuted[position[a]][position[b]] == standard[i][j], (a, b)
    assert sum(map(sum, standard)) > len(STATE_IDS)  # more than the diagonal


def test_equations_never_index_or_unpack_a_state():
    tree = ast.parse(inspect.getsource(equations))
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            assert node.value.id != "y", ast.unparse(node)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "range", ast.unparse(node)
