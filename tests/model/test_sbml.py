"""SBML export: validity, content, the math against the vector field, and an independent
simulator (libRoadRunner, CVODE) against reawaken's diffrax solve."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import libsbml
import numpy as np
import pytest

from reawaken.model import sbml
from reawaken.model.equations import array_field, initial_array, vector_field
from reawaken.model.forcing import no_forcing
from reawaken.model.parameters import PARAMETER_NAMES, PARAMETER_SET_NAMES, parameter_set
from reawaken.model.states import STATE_IDS, STATES
from reawaken.simulate.ensemble import lognormal_factors

PROTOCOL_DAYS = (0.0, 3.0, 6.0, 9.0, 15.0, 28.0, 60.0)
CROSS_CHECK_SETS = ("mouse-influenza", "human-influenza")

# libsbml writes doubles with 15 significant digits, so values read back differ from the
# parameter set's by at most ~1e-15 relative.
VALUE_RTOL = 1e-14
XML_QUOTES = {"'": "&apos;", '"': "&quot;"}


def _model(name: str) -> libsbml.Model:
    doc = libsbml.readSBMLFromString(sbml.to_sbml(parameter_set(name)))
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    return doc.getModel()


# -- a small evaluator of SBML math (independent of how the formulas were produced) --------

_RELATIONS = {
    libsbml.AST_RELATIONAL_GEQ: lambda a, b: a >= b,
    libsbml.AST_RELATIONAL_GT: lambda a, b: a > b,
    libsbml.AST_RELATIONAL_LEQ: lambda a, b: a <= b,
    libsbml.AST_RELATIONAL_LT: lambda a, b: a < b,
    libsbml.AST_RELATIONAL_EQ: lambda a, b: a == b,
    libsbml.AST_RELATIONAL_NEQ: lambda a, b: a != b,
}


def evaluate(node: libsbml.ASTNode, env: dict[str, float]) -> Any:
    """Value of an SBML math tree with names looked up in ``env`` (n-ary +, * left to right)."""
    kind = node.getType()
    args = [node.getChild(k) for k in range(node.getNumChildren())]
    if node.isNumber():
        return node.getValue()
    if kind == libsbml.AST_NAME:
        return env[node.getName()]
    if kind == libsbml.AST_PLUS:
        return _fold(args, env, lambda a, b: a + b)
    if kind == libsbml.AST_TIMES:
        return _fold(args, env, lambda a, b: a * b)
    if kind == libsbml.AST_MINUS:
        if len(args) == 1:
            return -evaluate(args[0], env)
        return evaluate(args[0], env) - evaluate(args[1], env)
    if kind == libsbml.AST_DIVIDE:
        return evaluate(args[0], env) / evaluate(args[1], env)
    if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
        return evaluate(args[0], env) ** evaluate(args[1], env)
    if kind in _RELATIONS:
        return _RELATIONS[kind](evaluate(args[0], env), evaluate(args[1], env))
    if kind == libsbml.AST_FUNCTION_PIECEWISE:
        for k in range(0, len(args) - 1, 2):
            if evaluate(args[k + 1], env):
                return evaluate(args[k], env)
        if len(args) % 2:
            return evaluate(args[-1], env)
        raise AssertionError("piecewise without a matching piece or otherwise")
    raise AssertionError(f"unexpected math node {libsbml.formulaToL3String(node)!r}")


def _fold(args: list[libsbml.ASTNode], env: dict[str, float], op: Any) -> float:
    value = evaluate(args[0], env)
    for arg in args[1:]:
        value = op(value, evaluate(arg, env))
    return value


# -- validity and content -----------------------------------------------------------------


@pytest.mark.parametrize("name", PARAMETER_SET_NAMES)
def test_document_is_consistent_level3_version2(name: str) -> None:
    doc = libsbml.readSBMLFromString(sbml.to_sbml(parameter_set(name)))
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    doc.checkConsistency()
    errors = [
        doc.getError(k).getMessage()
        for k in range(doc.getNumErrors())
        if doc.getError(k).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    assert errors == []


def test_species_compartment_and_time_units() -> None:
    model = _model("mouse-influenza")
    assert model.getNumCompartments() == 1
    lung = model.getCompartment(0)
    assert (lung.getId(), lung.getSize(), lung.getConstant()) == ("lung", 1.0, True)
    assert [model.getSpecies(k).getId() for k in range(model.getNumSpecies())] == list(STATE_IDS)
    for state in STATES:
        sp = model.getSpecies(state.id)
        assert sp.getHasOnlySubstanceUnits() and sp.getBoundaryCondition()
        assert not sp.getConstant() and sp.getCompartment() == "lung"
        assert f"unit: {state.unit}" in sp.getNotesString()
        assert model.getRateRuleByVariable(state.id) is not None
    assert model.getNumRules() == len(STATE_IDS) and model.getNumReactions() == 0
    day = model.getUnitDefinition(model.getTimeUnits())
    assert day.getNumUnits() == 1
    assert day.getUnit(0).getKind() == libsbml.UNIT_KIND_SECOND
    assert day.getUnit(0).getMultiplier() == 86400.0


@pytest.mark.parametrize("name", ["mouse-influenza", "human-sars-cov-2"])
def test_every_parameter_with_value_unit_and_source(name: str) -> None:
    params = parameter_set(name)
    model = _model(name)
    assert [model.getParameter(k).getId() for k in range(model.getNumParameters())] == list(
        PARAMETER_NAMES
    )
    for par in params.parameters:
        sp = model.getParameter(par.name)
        assert sp.getConstant()
        assert sp.getValue() == pytest.approx(par.value, rel=VALUE_RTOL, abs=0.0)
        notes = sp.getNotesString()
        for text in (f"unit: {par.unit}", f"assumed: {'yes' if par.assumed else 'no'}"):
            assert text in notes
        assert "source: " + escape(par.source, XML_QUOTES) in notes


def test_write_sbml_writes_the_document(tmp_path) -> None:
    params = parameter_set("mouse-sars-cov-2")
    path = sbml.write_sbml(params, tmp_path / "out" / "model.xml")
    assert path == tmp_path / "out" / "model.xml"
    assert path.read_text() == sbml.to_sbml(params)
    assert [p.name for p in path.parent.iterdir()] == ["model.xml"]  # no temporary left


# -- the math equals equations.py -----------------------------------------------------------


def _random_states(rng: np.random.Generator, n: int) -> np.ndarray:
    """States spanning 1e-3 .. 1e8 in every component (IL-6 on both sides of baseline)."""
    return 10.0 ** rng.uniform(-3.0, 8.0, size=(n, len(STATE_IDS)))


@pytest.mark.parametrize("name", CROSS_CHECK_SETS)
def test_rate_rules_equal_vector_field_at_random_states_and_parameters(name: str) -> None:
    model = _model(name)
    rules = {sid: model.getRateRuleByVariable(sid).getMath() for sid in STATE_IDS}
    base = parameter_set(name).vector()
    factors = lognormal_factors(40, 0.5, seed=7, names=PARAMETER_NAMES)
    rng = np.random.default_rng(11)
    states = _random_states(rng, 40)
    states[0] = initial_array(base, no_forcing())
    states[1] = initial_array(base, no_forcing())
    states[1, STATE_IDS.index("il6")] = 0.5 * base[PARAMETER_NAMES.index("il6_baseline")]
    signs = 0
    for y, factor in zip(states, factors, strict=True):
        p = base * factor
        env = dict(zip(PARAMETER_NAMES, p, strict=True)) | dict(zip(STATE_IDS, y, strict=True))
        got = np.array([evaluate(rules[sid], env) for sid in STATE_IDS])
        want = array_field(0.0, y, p, no_forcing(), np)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
        signs += int(y[STATE_IDS.index("il6")] > p[PARAMETER_NAMES.index("il6_baseline")])
    assert 0 < signs < len(states)  # both branches of max(L - L0, 0) were exercised


@pytest.mark.parametrize("name", CROSS_CHECK_SETS)
def test_initial_values_equal_initial_state(name: str) -> None:
    model = _model(name)
    base = parameter_set(name).vector()
    p = base * lognormal_factors(1, 0.5, seed=3, names=PARAMETER_NAMES)[0]
    env = dict(zip(PARAMETER_NAMES, p, strict=True))
    for sid, want_base, want in zip(
        STATE_IDS, initial_array(base, no_forcing()), initial_array(p, no_forcing()), strict=True
    ):
        sp = model.getSpecies(sid)
        assert sp.getInitialAmount() == pytest.approx(want_base, rel=VALUE_RTOL, abs=0.0)
        assignment = model.getInitialAssignmentBySymbol(sid)
        got = sp.getInitialAmount() if assignment is None else evaluate(assignment.getMath(), env)
        assert got == pytest.approx(want, rel=1e-15, abs=0.0)


def test_a_time_dependent_unforced_field_is_refused(monkeypatch) -> None:
    def drifting(t: Any, y: Any, p: Any, f: Any, xp: Any) -> Any:
        return type(y)._make(term * t for term in vector_field(t, y, p, f, xp))

    monkeypatch.setattr(sbml, "vector_field", drifting)
    with pytest.raises(ValueError, match="depends on time"):
        sbml.rate_formulas()


def test_symbolic_tracing_covers_conditions_and_refuses_unknown_functions() -> None:
    xp = sbml._SymbolicArrays()
    x, y = sbml._Sym("x"), sbml._Sym("y")
    assert sbml._text(xp.where(x >= 2.0, y, 0.0)) == "piecewise(y, (x >= 2.0), 0.0)"
    assert sbml._text(1.0 * x + 0.0 - 0.0 * y) == "x"
    assert sbml._text(0.0 - x / 1.0) == "(-x)"
    with pytest.raises(AttributeError, match="erf"):
        xp.erf(x)
    with pytest.raises(TypeError, match="truth value"):
        bool(x > y)


# -- an independent simulator agrees with reawaken's solve ---------------------------------


def test_roadrunner_trajectories_agree_with_solve() -> None:
    """libRoadRunner (CVODE, rtol 1e-10, atol 1e-12) on the exported SBML against
    ``solve`` (Tsit5, rtol = atol = 1e-10) for days 0..60 and the protocol days.

    Agreement: ``|reawaken - roadrunner| <= 1e-4 * max(|roadrunner|, floor)`` where the floor is
    1e-6 of that state's largest value over the 60 days, so values that have decayed to
    numerical noise (virus and infected cells after clearance, ~1e-12) are compared absolutely
    at that scale rather than relatively.
    """
    roadrunner = pytest.importorskip("roadrunner")
    from reawaken.simulate.ode import SolverSettings, solve

    days = np.arange(61.0)
    batch = np.stack([parameter_set(name).vector() for name in CROSS_CHECK_SETS])
    ours = solve(batch, no_forcing(), days, SolverSettings(rtol=1e-10, atol=1e-10, chunk_size=2))
    assert ours.ok.all()
    protocol_rows = np.searchsorted(days, PROTOCOL_DAYS)
    for k, name in enumerate(CROSS_CHECK_SETS):
        rr = roadrunner.RoadRunner(sbml.to_sbml(parameter_set(name)))
        rr.integrator.relative_tolerance = 1e-10
        rr.integrator.absolute_tolerance = 1e-12
        rr.integrator.maximum_num_steps = 1_000_000
        daily = rr.simulate(0.0, 60.0, 61)
        assert list(daily.colnames) == ["time", *STATE_IDS]
        theirs = np.asarray(daily)[:, 1:]
        rr.reset()
        at_protocol = np.asarray(rr.simulate(times=list(PROTOCOL_DAYS)))
        np.testing.assert_array_equal(at_protocol[:, 0], PROTOCOL_DAYS)

        floor = np.maximum(1e-6 * np.abs(theirs).max(axis=0), 1e-300)
        for got, want in ((ours.ys[k], theirs), (ours.ys[k][protocol_rows], at_protocol[:, 1:])):
            scale = np.maximum(np.abs(want), floor)
            worst = np.max(np.abs(got - want) / scale, axis=0)
            assert np.all(worst <= 1e-4), dict(zip(STATE_IDS, worst, strict=True))
        # the comparison is not vacuous: infection happened and DCCs awoke
        assert theirs[:, STATE_IDS.index("virus")].max() > 10 * theirs[0, STATE_IDS.index("virus")]
        assert theirs[-1, STATE_IDS.index("dcc_awake")] > 0.0
