"""The ensemble engine: the jaxpr translation, the compiled Rosenbrock solver against diffrax,
failures, threads and the code cache."""

from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from reawaken.experiments.protocols import MOUSE_LUNG
from reawaken.experiments.run import run_protocol
from reawaken.model.equations import array_field, initial_array
from reawaken.model.forcing import Forcing, no_forcing
from reawaken.model.interventions import AntiIL6, CD4Depletion, apply_interventions
from reawaken.model.parameters import parameter_set
from reawaken.model.states import N_STATES, STATE_IDS
from reawaken.simulate import codegen, rodas
from reawaken.simulate.engine import jax_forcing, model_field, model_pattern
from reawaken.simulate.ensemble import lognormal_factors
from reawaken.simulate.ode import SolverSettings, solve

BASE = parameter_set("mouse-influenza").vector()


def _treated_forcing() -> Forcing:
    values = parameter_set("mouse-influenza").values()
    _, forcing = apply_interventions(
        values, [AntiIL6(doses=((0.0, 10.0), (3.0, 10.0), (6.0, 10.0))), CD4Depletion(7.0)]
    )
    return forcing


def _python_field(forcing: Forcing) -> object:
    """The model's field translated by codegen and run as plain Python (no numba)."""
    em = codegen.Emitter()
    inputs = [
        "t",
        codegen.indexed("y", N_STATES),
        codegen.indexed("p", BASE.size),
        *(
            codegen.indexed(name, np.size(x)) if np.ndim(x) else name
            for name, x in zip(Forcing._fields, forcing, strict=True)
        ),
    ]
    examples = (0.0, jnp.ones(N_STATES), jnp.ones(BASE.size), *jax_forcing(forcing))
    outs = codegen.emit_function(
        em, lambda t, y, p, *f: model_field(t, y, p, Forcing(*f)), examples, inputs
    )
    args = ", ".join(["t", "y", "p", *Forcing._fields])
    body = "\n".join(f"    {line}" for line in em.lines)
    source = f"def field({args}):\n{body}\n    return [{', '.join(outs)}]\n"
    namespace: dict = {"math": math}
    namespace["power"] = lambda a, b: a**b
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace["field"]


@pytest.mark.parametrize("treated", [False, True])
def test_translated_field_matches_the_model(treated: bool) -> None:
    forcing = _treated_forcing() if treated else no_forcing()
    field = _python_field(forcing)
    rng = np.random.default_rng(3)
    for _ in range(25):
        t = float(rng.uniform(0.0, 10.0))
        y = 10.0 ** rng.uniform(-3.0, 7.0, N_STATES)
        p = BASE * np.exp(rng.normal(0.0, 0.3, BASE.size))
        ours = np.array(field(t, y, p, *forcing))
        expected = array_field(t, y, p, forcing, np)
        np.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-300)


def test_translation_refuses_unknown_primitives() -> None:
    em = codegen.Emitter()
    with pytest.raises(NotImplementedError, match="sin"):
        codegen.emit_function(em, lambda x: jnp.sin(x), (jnp.float64(1.0),), ["x"])


def test_emitter_shares_identical_expressions_and_folds_seeds() -> None:
    em = codegen.Emitter()
    a = em.assign("(x + y)")
    assert em.assign("(x + y)") == a
    assert em.assign(f"({a} * 1.0)") == a
    assert em.assign(f"(0.0 * {a})") == "0.0"
    assert em.lines == ["v0 = (x + y)"]


def test_pattern_covers_the_jacobian_everywhere() -> None:
    pattern = np.array(model_pattern())
    jac = jax.jit(jax.jacfwd(lambda y, p, f: array_field(1.3, y, p, f, jnp)))
    rng = np.random.default_rng(11)
    for forcing in (no_forcing(), _treated_forcing()):
        for _ in range(20):
            y = 10.0 ** rng.uniform(-2.0, 6.0, N_STATES)
            p = BASE * np.exp(rng.normal(0.0, 0.5, BASE.size))
            j = np.asarray(jac(jnp.asarray(y), jnp.asarray(p), jax_forcing(forcing)))
            outside = (j != 0.0) & np.isfinite(j) & ~pattern
            assert not outside.any()


def test_elimination_order_keeps_fill_in_small() -> None:
    order = rodas.elimination_order(model_pattern())
    assert sorted(order) == list(range(N_STATES))
    # a block-lower-triangular model: pivots on the antibody chain come first
    assert order[:2] == (10, 11)


def test_every_arm_agrees_with_diffrax() -> None:
    tight = dict(rtol=1e-10, atol=1e-10)
    ours = run_protocol(MOUSE_LUNG, settings=SolverSettings(**tight))
    reference = run_protocol(MOUSE_LUNG, settings=SolverSettings(method="tsit5", **tight))
    for a, b in zip(ours, reference, strict=True):
        assert a.solution.ok.all() and b.solution.ok.all()
        scale = np.abs(b.solution.ys).max(axis=1, keepdims=True)
        floor = np.maximum(1e-6 * scale, 1e-12)
        diff = np.abs(a.solution.ys - b.solution.ys) / np.maximum(np.abs(b.solution.ys), floor)
        assert diff.max() < 1e-6, a.arm


def test_error_follows_the_tolerance() -> None:
    days = np.arange(0.0, 61.0, 3.0)
    batch = BASE[None] * lognormal_factors(8, 0.3, 5)
    exact = solve(batch, no_forcing(), days, SolverSettings(method="tsit5", rtol=1e-12, atol=1e-12))
    errors = []
    for tol in (1e-5, 1e-7, 1e-9):
        sol = solve(batch, no_forcing(), days, SolverSettings(rtol=tol, atol=tol))
        floor = np.maximum(1e-6 * np.abs(exact.ys).max(axis=1, keepdims=True), 1e-12)
        errors.append(np.max(np.abs(sol.ys - exact.ys) / np.maximum(np.abs(exact.ys), floor)))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-7


def test_step_budget_exhausted_is_a_failure_not_numbers() -> None:
    sol = solve(BASE, no_forcing(), [0.0, 3.0, 60.0], SolverSettings(max_steps=20))
    assert not sol.ok[0]
    assert np.isnan(sol.ys[0]).all()
    assert sol.steps is not None and sol.steps[0] == 20


def test_threads_do_not_change_results() -> None:
    batch = BASE[None] * lognormal_factors(40, 0.3, 9)
    days = [0.0, 3.0, 9.0, 28.0]
    one = solve(batch, no_forcing(), days, SolverSettings(threads=1, block=16))
    two = solve(batch, no_forcing(), days, SolverSettings(threads=2))
    np.testing.assert_array_equal(one.ys, two.ys)
    np.testing.assert_array_equal(one.steps, two.steps)


def test_initial_state_and_switch_days_are_respected() -> None:
    forcing = _treated_forcing()
    sol = solve(BASE, forcing, [0.0, 0.5, 7.0, 7.5])
    assert sol.ok.all()
    np.testing.assert_array_equal(sol.ys[0, 0], initial_array(BASE, forcing, np))
    # the first dose (day 0) is absorbed from the depot: antibody is up within half a day
    antibody = STATE_IDS.index("antibody")
    assert sol.ys[0, 0, antibody] == 0.0 < sol.ys[0, 1, antibody]


def test_engine_code_is_generated_once_per_key(tmp_path: Path) -> None:
    calls: list[str] = []

    def generate(value: int) -> str:
        calls.append(str(value))
        return f"import numba\n\nVALUE = {value}\n"

    first = rodas.load_engine("model a", lambda: generate(3), tmp_path)
    second = rodas.load_engine("model a", lambda: generate(3), tmp_path)
    other = rodas.load_engine("model b", lambda: generate(4), tmp_path)
    assert first.VALUE == second.VALUE == 3 and other.VALUE == 4
    assert calls == ["3", "4"]
    assert len(list(tmp_path.glob("rosenbrock_*.py"))) == 2
    assert not list(tmp_path.glob("*.tmp"))


def test_only_day_zero_returns_the_start() -> None:
    sol = solve(BASE, no_forcing(), [0.0])
    assert sol.ok.all()
    np.testing.assert_array_equal(sol.ys[0, 0], initial_array(BASE, no_forcing(), np))


def test_solves_from_several_python_threads_take_turns() -> None:
    from concurrent.futures import ThreadPoolExecutor

    batch = BASE[None] * lognormal_factors(16, 0.3, 2)
    days = [0.0, 9.0, 28.0]
    serial = solve(batch, no_forcing(), days)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: solve(batch, no_forcing(), days), range(3)))
    for sol in results:
        np.testing.assert_array_equal(sol.ys, serial.ys)
