"""Export of the within-host model as SBML Level 3 Version 2 (Hucka et al. 2019, J Integr
Bioinform 16:20190021), for simulators other than reawaken's (COPASI, libRoadRunner, tellurium).

What is exported is the base model of :mod:`reawaken.model.equations`: infection at day 0 and
no interventions (the forcing of :func:`~reawaken.model.forcing.no_forcing`: IL-6 production
scale 1, no anti-IL-6 doses, no T-cell depletion, no antiviral, no re-infection), so every
forcing term is absent. One compartment ``lung`` (size 1, constant); one species per state,
with the state's id, ``hasOnlySubstanceUnits`` true (values are the model's own quantities:
cells, TCID50/mL, pg/mL, mg/kg, ug/mL, no volume conversion) and ``boundaryCondition`` true;
one global parameter per model parameter, its unit, source and assumption flag in its notes;
the dynamics as one rate rule per species; time in days.

The rate rules and the initial assignments are not written by hand: they are obtained by
running :func:`~reawaken.model.equations.vector_field` and
:func:`~reawaken.model.equations.initial_state` themselves on symbolic states and parameters
(:class:`_Sym`, an "array module" that records the arithmetic), so the SBML follows the
equations whenever those change. Terms that vanish without forcing (``x * 0``, ``x * 1``,
``x + 0``) are dropped exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import libsbml
import numpy as np

from reawaken.io import write_text_atomic
from reawaken.model.equations import initial_state, vector_field
from reawaken.model.forcing import no_forcing
from reawaken.model.parameters import PARAMETER_NAMES, ParameterSet
from reawaken.model.states import STATE_IDS, STATES, ModelState

SBML_LEVEL = 3
SBML_VERSION = 2
COMPARTMENT_ID = "lung"
TIME_UNIT_ID = "day"

_Number = (int, float, np.integer, np.floating, np.bool_)


class _Sym:
    """A symbolic scalar: an infix formula (fully parenthesised) in libsbml's L3 syntax.

    Arithmetic with plain numbers folds the identities that hold exactly in floating point
    (``x * 1``, ``x + 0``, ``x - 0``, ``x / 1``, ``0 * x`` for finite ``x``). ``boolean``
    marks a relational or logical expression (a piecewise condition).
    """

    __array_ufunc__ = None  # numpy scalars defer to our reflected operators

    def __init__(self, text: str, boolean: bool = False) -> None:
        self.text = text
        self.boolean = boolean

    def __repr__(self) -> str:
        return f"_Sym({self.text!r})"

    def __bool__(self) -> bool:
        raise TypeError(f"symbolic condition {self.text!r} has no truth value")

    # arithmetic -------------------------------------------------------------------------
    def __add__(self, other: Any) -> Any:
        return _binary("+", self, other)

    def __radd__(self, other: Any) -> Any:
        return _binary("+", other, self)

    def __sub__(self, other: Any) -> Any:
        return _binary("-", self, other)

    def __rsub__(self, other: Any) -> Any:
        return _binary("-", other, self)

    def __mul__(self, other: Any) -> Any:
        return _binary("*", self, other)

    def __rmul__(self, other: Any) -> Any:
        return _binary("*", other, self)

    def __truediv__(self, other: Any) -> Any:
        return _binary("/", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _binary("/", other, self)

    def __pow__(self, other: Any) -> Any:
        return _binary("^", self, other)

    def __rpow__(self, other: Any) -> Any:
        return _binary("^", other, self)

    def __neg__(self) -> _Sym:
        return _Sym(f"(-{self.text})")

    def __pos__(self) -> _Sym:
        return self

    # relations and logic (conditions of piecewise) --------------------------------------
    def __lt__(self, other: Any) -> _Sym:
        return _relation("<", self, other)

    def __le__(self, other: Any) -> _Sym:
        return _relation("<=", self, other)

    def __gt__(self, other: Any) -> _Sym:
        return _relation(">", self, other)

    def __ge__(self, other: Any) -> _Sym:
        return _relation(">=", self, other)

    def __eq__(self, other: Any) -> _Sym:  # type: ignore[override]
        return _relation("==", self, other)

    def __ne__(self, other: Any) -> _Sym:  # type: ignore[override]
        return _relation("!=", self, other)

    __hash__ = object.__hash__

    def __and__(self, other: Any) -> _Sym:
        return _relation("&&", self, other)

    def __rand__(self, other: Any) -> _Sym:
        return _relation("&&", other, self)

    def __or__(self, other: Any) -> _Sym:
        return _relation("||", self, other)

    def __ror__(self, other: Any) -> _Sym:
        return _relation("||", other, self)


def _is_number(x: Any) -> bool:
    return isinstance(x, _Number) or (isinstance(x, np.ndarray) and x.ndim == 0)


def _text(x: Any) -> str:
    if isinstance(x, _Sym):
        return x.text
    if _is_number(x):
        value = float(x)
        if not math.isfinite(value):
            raise ValueError(f"non-finite constant {value} in the model's equations")
        return repr(value)
    raise TypeError(f"cannot write {type(x).__name__} {x!r} as an SBML formula")


def _binary(op: str, a: Any, b: Any) -> Any:
    if _is_number(a) and _is_number(b):
        a, b = float(a), float(b)
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": a**b}[op]
    if op == "+" and _is_number(a) and float(a) == 0.0:
        return b
    if op in "+-" and _is_number(b) and float(b) == 0.0:
        return a
    if op == "-" and _is_number(a) and float(a) == 0.0:
        return -b
    if op == "*" and _is_number(a) and float(a) in (0.0, 1.0):
        return b if float(a) == 1.0 else 0.0
    if op in "*/" and _is_number(b) and float(b) == 1.0:
        return a
    if op == "*" and _is_number(b) and float(b) == 0.0:
        return 0.0
    return _Sym(f"({_text(a)} {op} {_text(b)})")


def _relation(op: str, a: Any, b: Any) -> _Sym:
    return _Sym(f"({_text(a)} {op} {_text(b)})", boolean=True)


class _SymbolicArrays:
    """The subset of the array-module interface (``xp``) that the equations use, on
    :class:`_Sym` scalars; purely numeric arguments are handed to numpy."""

    @staticmethod
    def where(cond: Any, a: Any, b: Any) -> Any:
        if isinstance(cond, _Sym):
            return _Sym(f"piecewise({_text(a)}, {cond.text}, {_text(b)})")
        if isinstance(a, _Sym) or isinstance(b, _Sym):
            if np.ndim(cond) != 0:
                raise TypeError("array-valued condition with symbolic branches")
            return a if bool(cond) else b
        return np.where(cond, a, b)

    @staticmethod
    def maximum(a: Any, b: Any) -> Any:
        if _is_number(a) and _is_number(b):
            return np.maximum(a, b)
        return _Sym(f"piecewise({_text(a)}, {_text(a)} >= {_text(b)}, {_text(b)})")

    @staticmethod
    def minimum(a: Any, b: Any) -> Any:
        if _is_number(a) and _is_number(b):
            return np.minimum(a, b)
        return _Sym(f"piecewise({_text(a)}, {_text(a)} <= {_text(b)}, {_text(b)})")

    @staticmethod
    def _function(name: str, sbml_name: str) -> Callable[[Any], Any]:
        def apply(x: Any) -> Any:
            if isinstance(x, _Sym):
                return _Sym(f"{sbml_name}({x.text})")
            return getattr(np, name)(x)

        return apply

    @staticmethod
    def sum(x: Any) -> Any:
        if isinstance(x, _Sym) or (
            isinstance(x, list | tuple) and any(isinstance(v, _Sym) for v in x)
        ):
            raise TypeError("symbolic sums are not supported by the SBML export")
        return np.sum(x)

    def __getattr__(self, name: str) -> Any:
        functions = {"exp": "exp", "log": "ln", "sqrt": "sqrt", "abs": "abs", "tanh": "tanh"}
        if name in functions:
            return self._function(name, functions[name])
        raise AttributeError(f"the SBML export does not know the array function {name!r}")


def _symbols(names: Sequence[str]) -> list[_Sym]:
    return [_Sym(name) for name in names]


def rate_formulas() -> dict[str, str]:
    """Right-hand side of each state's ODE without forcing, as libsbml L3 infix formulas
    (state id -> formula), traced from :func:`vector_field`.

    Raises ``ValueError`` if the unforced vector field depends on time (it must not).
    """
    xp = _SymbolicArrays()
    y = ModelState(**{sid: _Sym(sid) for sid in STATE_IDS})
    p, forcing = _symbols(PARAMETER_NAMES), no_forcing()
    traced = [vector_field(t, y, p, forcing, xp)._asdict() for t in (0.0, 1.0, 1000.0)]
    texts = [{sid: _text(term) for sid, term in rhs.items()} for rhs in traced]
    if any(t != texts[0] for t in texts[1:]):
        raise ValueError("the unforced vector field depends on time; it cannot be exported")
    return texts[0]


def initial_formulas() -> dict[str, str]:
    """Initial value of each state without forcing as a formula in the parameters (or a
    number), traced from :func:`initial_state`."""
    values = initial_state(_symbols(PARAMETER_NAMES), no_forcing(), _SymbolicArrays())
    return {sid: _text(v) for sid, v in values._asdict().items()}


def _check(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(
            f"libsbml failed to {what}: {libsbml.OperationReturnValue_toString(code)}"
        )


def _math(formula: str) -> libsbml.ASTNode:
    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise RuntimeError(f"libsbml cannot parse {formula!r}: {libsbml.getLastParseL3Error()}")
    return ast


def _notes(lines: Sequence[str]) -> str:
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'


def _is_numeral(formula: str) -> bool:
    try:
        float(formula)
    except ValueError:
        return False
    return True


def _sid(text: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in text)
    return cleaned if cleaned[:1].isalpha() else "_" + cleaned


def to_sbml(params: ParameterSet) -> str:
    """The base model with one parameter set as an SBML Level 3 Version 2 document.

    The base model is infection at day 0 without interventions; its rate rules and initial
    assignments are traced from :func:`~reawaken.model.equations.vector_field` and
    :func:`~reawaken.model.equations.initial_state` (see this module's docstring). The result
    opens in COPASI, libRoadRunner or tellurium.

    Parameters
    ----------
    params : ParameterSet
        The parameter values, units and sources to write (:func:`parameter_set`).

    Returns
    -------
    str
        The SBML document (XML).

    Raises
    ------
    RuntimeError
        If libsbml rejects a part of the document (an id, a value or a formula).

    Examples
    --------
    >>> from reawaken.model import parameter_set, to_sbml
    >>> text = to_sbml(parameter_set("mouse-influenza"))
    >>> text.startswith("<?xml")
    True
    >>> '<rateRule variable="dcc_awake">' in text
    True
    """
    doc = libsbml.SBMLDocument(SBML_LEVEL, SBML_VERSION)
    model = doc.createModel()
    _check(model.setId(_sid(f"reawaken_{params.name}")), "set the model id")
    _check(model.setName(f"reawaken within-host model, {params.name}"), "set the model name")
    _check(
        model.setNotes(
            _notes(
                [
                    f"Parameter set {params.name}: {params.description}.",
                    "Within-host model of respiratory viral infection, IL-6 and the awakening "
                    "of dormant disseminated cancer cells in the lung (Chia et al. 2025, "
                    "Nature 645), exported by reawaken.model.sbml.",
                    "Infection at day 0 (the inoculum in virus), no interventions: IL-6 "
                    "production scale 1, no anti-IL-6 doses, no T-cell depletion, no antiviral, "
                    "no re-infection. Time in days.",
                    "Species values are the model's own quantities (hasOnlySubstanceUnits, "
                    "compartment of size 1); their units are in each species' notes.",
                ]
            )
        ),
        "set the model notes",
    )

    day = model.createUnitDefinition()
    _check(day.setId(TIME_UNIT_ID), "define the day")
    second = day.createUnit()
    for result, what in (
        (second.setKind(libsbml.UNIT_KIND_SECOND), "unit kind"),
        (second.setExponent(1.0), "unit exponent"),
        (second.setScale(0), "unit scale"),
        (second.setMultiplier(86400.0), "unit multiplier"),
    ):
        _check(result, f"set the day's {what}")
    _check(model.setTimeUnits(TIME_UNIT_ID), "set the time units")

    lung = model.createCompartment()
    _check(lung.setId(COMPARTMENT_ID), "set the compartment id")
    _check(lung.setName("lung"), "name the compartment")
    _check(lung.setSize(1.0), "set the compartment size")
    _check(lung.setSpatialDimensions(3.0), "set the compartment dimensions")
    _check(lung.setConstant(True), "make the compartment constant")

    vector = params.vector()
    for par in params.parameters:
        sp = model.createParameter()
        _check(sp.setId(par.name), f"set parameter id {par.name}")
        _check(sp.setValue(float(par.value)), f"set parameter {par.name}")
        _check(sp.setConstant(True), f"make parameter {par.name} constant")
        _check(
            sp.setNotes(
                _notes(
                    [
                        par.description,
                        f"unit: {par.unit}",
                        f"source: {par.source}",
                        f"assumed: {'yes' if par.assumed else 'no'}",
                    ]
                )
            ),
            f"set the notes of parameter {par.name}",
        )

    y0 = initial_state(vector, no_forcing(), np)
    initial = initial_formulas()
    for state in STATES:
        value = getattr(y0, state.id)
        sp = model.createSpecies()
        _check(sp.setId(state.id), f"set species id {state.id}")
        _check(sp.setCompartment(COMPARTMENT_ID), f"place species {state.id}")
        _check(sp.setInitialAmount(float(value)), f"set the initial amount of {state.id}")
        _check(sp.setHasOnlySubstanceUnits(True), f"set hasOnlySubstanceUnits of {state.id}")
        _check(sp.setBoundaryCondition(True), f"set boundaryCondition of {state.id}")
        _check(sp.setConstant(False), f"make species {state.id} variable")
        _check(
            sp.setNotes(_notes([state.description, f"unit: {state.unit}"])),
            f"set the notes of species {state.id}",
        )
        formula = initial[state.id]
        if not _is_numeral(formula):
            ia = model.createInitialAssignment()
            _check(ia.setSymbol(state.id), f"set the initial assignment of {state.id}")
            _check(ia.setMath(_math(formula)), f"set the initial assignment of {state.id}")

    for sid, formula in rate_formulas().items():
        rule = model.createRateRule()
        _check(rule.setVariable(sid), f"set the rate rule of {sid}")
        _check(rule.setMath(_math(formula)), f"set the rate rule of {sid}")

    text = libsbml.writeSBMLToString(doc)
    if not text:
        raise RuntimeError("libsbml could not write the document")
    return text


def write_sbml(params: ParameterSet, path: str | Path) -> Path:
    """Write the base model with one parameter set as an SBML file (:func:`to_sbml`).

    Parameters
    ----------
    params : ParameterSet
        The parameter values, units and sources to write (:func:`parameter_set`).
    path : str or pathlib.Path
        The file to write (atomically: a reader never sees half a file).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    RuntimeError
        If libsbml rejects a part of the document (an id, a value or a formula).
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> from reawaken.model import parameter_set, write_sbml
    >>> path = write_sbml(parameter_set("mouse-sars-cov-2"), "mouse-sars-cov-2.xml")
    >>> path.name, path.stat().st_size > 10_000
    ('mouse-sars-cov-2.xml', True)
    """
    return write_text_atomic(to_sbml(params), path)
