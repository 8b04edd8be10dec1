"""Parameters of the within-host model: value, unit, source, and whether it is an assumption.

Four named sets: ``mouse-influenza`` (A/PR/8/34 in MMTV-Her2 mice), ``mouse-sars-cov-2``
(mouse-adapted SARS-CoV-2 MA10), ``human-influenza`` and ``human-sars-cov-2``.

Parameters marked ``calibrated`` were fitted to the fold-change claims of Chia et al. 2025
(Nature 645) by ``reawaken calibrate``; their values are read from the calibration file in use
(:mod:`reawaken.model.calibrated`: the user's file written by that command if present, else the
one shipped in ``data/calibration.json``; see docs/model.md for the objective and procedure).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reawaken.errors import InputError

if TYPE_CHECKING:  # imported where used: the names of the parameters and sets stay light
    import numpy as np
    import pandas as pd

from reawaken.model.calibrated import (
    calibrated_values,
    calibration_command,
    calibration_path,
    shipped_calibration_path,
)

CHIA = "calibrated to the claims of Chia et al. 2025, Nature 645"
"""Source of the calibrated parameters (the command and file that produced them follow)."""
BACCAM = "Baccam et al. 2006, J Virol 80:7590"
JENNER = "Jenner et al. 2021, PLoS Pathog 17:e1009753 (IL-6 half-life of the order of an hour)"


@dataclass(frozen=True)
class Parameter:
    """One model parameter: its value, unit, source and whether the value is an assumption.

    Parameters
    ----------
    name : str
        The parameter's name (one of ``PARAMETER_NAMES``).
    value : float
        Its value, in ``unit``.
    unit : str
        Its unit (days for time, cells, TCID50/mL, pg/mL, ...).
    source : str
        Where the value comes from: a reference, the calibration, or "assumed".
    assumed : bool
        True when the value is an assumption rather than taken from a source.
    description : str
        What the parameter is, in a few words.
    calibrated : bool, default False
        True when the value was fitted to the study's claims (``reawaken calibrate``), not
        measured; a calibrated value carried over to another species is also ``assumed``.

    Examples
    --------
    >>> from reawaken.model import parameter_set
    >>> p = parameter_set("mouse-influenza").get("eclipse_rate")
    >>> p.value, p.unit, p.assumed
    (4.0, '1/day', False)
    >>> p.source
    'Baccam et al. 2006, J Virol 80:7590 (eclipse ~6 h)'
    >>> p.basis, parameter_set("mouse-influenza").get("awakening_max").basis
    ('sourced', 'calibrated')
    """

    name: str
    value: float
    unit: str
    source: str
    assumed: bool
    description: str
    calibrated: bool = False

    @property
    def basis(self) -> str:
        """``"calibrated"`` (fitted to the claims), ``"assumed"`` or ``"sourced"``."""
        if self.assumed:
            return "assumed"
        return "calibrated" if self.calibrated else "sourced"


# name -> (unit, description); the order here is the order of the parameter vector.
_DEFINITIONS: dict[str, tuple[str, str]] = {
    "target_0": ("cells", "target epithelial cells at day 0"),
    "virus_inoculum": ("TCID50/mL", "virus at day 0 (the inoculum)"),
    "infectivity": ("mL/(TCID50*day)", "infection rate constant beta"),
    "infection_threshold": ("TCID50/mL", "virus titre below which infection fades (Vth)"),
    "eclipse_rate": ("1/day", "exit rate from the eclipse phase, k"),
    "infected_death": ("1/day", "death rate of virus-producing cells without T cells, delta"),
    "virus_production": ("TCID50/mL/(cell*day)", "virus production per infected cell, p"),
    "virus_clearance": ("1/day", "clearance of free virus, c"),
    "epithelial_repair": ("1/day", "repair of damaged epithelium back to target cells"),
    "il6_baseline": ("pg/mL", "IL-6 in the uninfected lung"),
    "il6_clearance": ("1/day", "first-order IL-6 clearance (ln 2 / half-life)"),
    "il6_per_infected": ("pg/mL/(cell*day)", "IL-6 production per infected cell"),
    "il6_per_damaged": ("pg/mL/(cell*day)", "IL-6 production per damaged epithelial site"),
    "dcc_dormant_0": ("cells", "dormant DCCs in the lung at day 0"),
    "awakening_max": ("1/day", "maximal awakening rate of dormant DCCs"),
    "awakening_ec50": ("pg/mL", "IL-6 above baseline giving half-maximal awakening"),
    "awakening_hill": ("1", "Hill coefficient of awakening in IL-6"),
    "return_to_dormancy": ("1/day", "rate at which awakened DCCs return to dormancy"),
    "dcc_proliferation": ("1/day", "proliferation rate of awakened DCCs"),
    "dcc_capacity": ("cells", "carrying capacity of DCCs in the lung"),
    "cd8_kill_dcc": ("1/(cell*day)", "killing of awakened DCCs per effector CD8+ T cell"),
    "cd4_shield_half": ("cells", "CD4+ T cells halving CD8+ killing of awakened DCCs"),
    "cd8_kill_infected": ("1/(cell*day)", "killing of infected cells per effector CD8+ T cell"),
    "cd8_0": ("cells", "effector CD8+ T cells in the uninfected lung"),
    "cd8_expansion": ("1/day", "maximal antigen-driven expansion of CD8+ T cells"),
    "cd8_contraction": ("1/day", "contraction of CD8+ T cells back to baseline"),
    "cd4_0": ("cells", "CD4+ T cells in the uninfected lung"),
    "cd4_expansion": ("1/day", "maximal antigen-driven expansion of CD4+ T cells"),
    "cd4_contraction": ("1/day", "contraction of CD4+ T cells back to baseline"),
    "tcell_antigen_half": ("cells", "infected cells giving half-maximal T-cell expansion"),
    "depletion_rate": ("1/day", "loss rate of T cells under a depleting antibody"),
    "antibody_absorption": ("1/day", "absorption of i.p. antibody into plasma"),
    "antibody_volume": ("mL/kg", "volume of distribution of the antibody"),
    "antibody_elimination": ("1/day", "elimination of the antibody (ln 2 / half-life)"),
    "antibody_neutralisation": ("mL/(ug*day)", "IL-6 neutralisation per unit antibody"),
}

PARAMETER_NAMES: tuple[str, ...] = tuple(_DEFINITIONS)
PARAMETER_INDEX: dict[str, int] = {name: k for k, name in enumerate(PARAMETER_NAMES)}
"""Position of each parameter in the parameter vector."""

_A = True  # assumed
_S = False  # sourced

# value, source, assumed
_MOUSE_INFLUENZA: dict[str, tuple[float, str, bool]] = {
    "target_0": (
        1e7,
        "mouse lung epithelial target cells, order used by Smith & Perelson-type "
        "mouse influenza models; assumed",
        _A,
    ),
    "virus_inoculum": (100.0, "sublethal A/PR/8/34 inoculum scale; assumed", _A),
    "infectivity": (2.5e-6, CHIA, _A),
    "infection_threshold": (10.0, "assumed; below the inoculum", _A),
    "eclipse_rate": (4.0, BACCAM + " (eclipse ~6 h)", _S),
    "infected_death": (4.8, BACCAM + " (production lasts ~5 h)", _S),
    "virus_production": (30.0, "assumed; R0 follows with the calibrated infectivity", _A),
    "virus_clearance": (5.5, BACCAM + " (free-virus half-life ~3 h)", _S),
    "epithelial_repair": (0.2, CHIA, _A),
    "il6_baseline": (5.0, "low baseline IL-6 in uninfected mouse lung fluid; assumed", _A),
    "il6_clearance": (math.log(2) / (1.0 / 24.0), JENNER, _S),
    "il6_per_infected": (5e-3, CHIA, _A),
    "il6_per_damaged": (2e-5, CHIA, _A),
    "dcc_dormant_0": (100.0, "order of dormant DCCs per lung; assumed", _A),
    "awakening_max": (1.0, CHIA, _A),
    "awakening_ec50": (50.0, CHIA, _A),
    "awakening_hill": (1.0, "saturating (Michaelis-Menten) response; assumed", _A),
    "return_to_dormancy": (0.2, CHIA, _A),
    "dcc_proliferation": (0.8, CHIA, _A),
    "dcc_capacity": (1e6, "lesion burden ceiling per lung; assumed", _A),
    "cd8_kill_dcc": (1e-5, CHIA, _A),
    "cd4_shield_half": (1e3, CHIA, _A),
    "cd8_kill_infected": (1e-4, "assumed (CD8+ T cells clear PR8 by day 8-10)", _A),
    "cd8_0": (1e3, "assumed", _A),
    "cd8_expansion": (1.2, "assumed (lung CD8+ response peaks day 8-10)", _A),
    "cd8_contraction": (0.1, "assumed (contraction over 2-4 weeks)", _A),
    "cd4_0": (1e4, "assumed", _A),
    "cd4_expansion": (1.0, "assumed", _A),
    "cd4_contraction": (0.1, "assumed", _A),
    "tcell_antigen_half": (10.0, "assumed: T cells respond to few infected cells", _A),
    "depletion_rate": (5.0, "GK1.5 / 2.43 deplete >90% within a day; assumed", _A),
    "antibody_absorption": (2.0, "i.p. IgG absorption within about a day; assumed", _A),
    "antibody_volume": (100.0, "IgG volume of distribution in mouse; assumed", _A),
    "antibody_elimination": (math.log(2) / 7.0, "rat IgG1 half-life ~1 week in mice; assumed", _A),
    "antibody_neutralisation": (1.0, "assumed (10 mg/kg cuts IL-6 signalling ~10-fold)", _A),
}


@dataclass(frozen=True)
class ParameterSet:
    """A named, complete set of model parameters, as :func:`parameter_set` gives them.

    Index it by name for a value (``ps["il6_baseline"]``); :meth:`vector` gives the values in
    the order of ``PARAMETER_NAMES``, as the solvers take them, and :meth:`with_values` a copy
    with some values replaced.

    Parameters
    ----------
    name : str
        The set's name (for example ``"mouse-influenza"``).
    description : str
        Host and virus the set describes.
    parameters : tuple of Parameter
        Every model parameter, in the order of ``PARAMETER_NAMES``.

    Raises
    ------
    ValueError
        If ``parameters`` does not hold every model parameter in the order of
        ``PARAMETER_NAMES``.
    InputError
        From ``ps[name]`` and :meth:`get` for an unknown name, from :meth:`with_values` for an
        unknown name or a value that is not a finite number >= 0 (> 0 where the model divides
        by it).

    Examples
    --------
    >>> from reawaken.model import parameter_set
    >>> ps = parameter_set("mouse-influenza")
    >>> ps["virus_inoculum"], ps.get("virus_inoculum").unit
    (100.0, 'TCID50/mL')
    >>> ps.vector().shape
    (35,)
    >>> ps.with_values(virus_inoculum=10.0)["virus_inoculum"]
    10.0
    """

    name: str
    description: str
    parameters: tuple[Parameter, ...]

    def __post_init__(self) -> None:
        names = tuple(p.name for p in self.parameters)
        if names != PARAMETER_NAMES:
            missing = sorted(set(PARAMETER_NAMES) - set(names))
            raise ValueError(f"parameter set {self.name!r} incomplete or out of order: {missing}")

    def __getitem__(self, name: str) -> float:
        """The value of parameter ``name``; an unknown name is an InputError."""
        return self.get(name).value

    def get(self, name: str) -> Parameter:
        """Parameter ``name`` (value, unit, source, ...); an unknown name is an InputError
        listing the known ones."""
        for p in self.parameters:
            if p.name == name:
                return p
        raise InputError(
            f"unknown parameter {name!r} (known: {', '.join(PARAMETER_NAMES)})", column=name
        )

    def values(self) -> dict[str, float]:
        """Each parameter's value by name, in the order of ``PARAMETER_NAMES``."""
        return {p.name: p.value for p in self.parameters}

    def vector(self) -> np.ndarray:
        """Values as a float64 vector in the order of ``PARAMETER_NAMES``."""
        import numpy as np

        return np.array([p.value for p in self.parameters], dtype=np.float64)

    def with_values(self, source: str = "user override", **values: float) -> ParameterSet:
        """A copy with some values replaced; unknown names and bad values are InputErrors."""
        checked = {name: check_value(name, value) for name, value in values.items()}
        for name in checked:
            self.get(name)
        params = tuple(
            replace(p, value=checked[p.name], source=source, assumed=True, calibrated=False)
            if p.name in checked
            else p
            for p in self.parameters
        )
        return replace(self, parameters=params)

    def table(self) -> pd.DataFrame:
        """The parameter table: name, value, unit, source, assumed, basis, description."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "name": p.name,
                    "value": p.value,
                    "unit": p.unit,
                    "source": p.source,
                    "assumed": p.assumed,
                    "basis": p.basis,
                    "description": p.description,
                }
                for p in self.parameters
            ]
        )


def check_value(name: str, value: object) -> float:
    """A parameter value as a finite, non-negative float, else an InputError naming it."""
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()  # a plain value in messages, never np.float64(...)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"value {value!r} is not a number", column=name) from None
    if not math.isfinite(number):
        raise InputError(f"value {value!r} is not finite", column=name)
    if number < 0:
        raise InputError(f"value {number} is negative; parameters are non-negative", column=name)
    if name in STRICTLY_POSITIVE and number == 0:
        raise InputError(f"value 0 is not allowed; {name} must be positive", column=name)
    return number


STRICTLY_POSITIVE = frozenset(
    {
        "awakening_hill",
        "awakening_ec50",
        "infection_threshold",
        "tcell_antigen_half",
        "dcc_capacity",
        "cd4_shield_half",
        "antibody_volume",
    }
)
"""Parameters that divide: zero would make the model undefined."""


def _build(
    name: str,
    description: str,
    base: Mapping[str, tuple[float, str, bool]],
    overrides: Mapping[str, tuple[float, str, bool]] | None = None,
    calibrated: Mapping[str, float] | None = None,
) -> ParameterSet:
    table = dict(base)
    table.update(overrides or {})
    origin = " (values given by the caller)"
    if calibrated is None:
        path = calibration_path()
        calibrated = calibrated_values()
        origin = f" by `{calibration_command(path)}`"
        if path != shipped_calibration_path():
            origin += f"; values from {path}"
    params = []
    for pname in PARAMETER_NAMES:
        unit, desc = _DEFINITIONS[pname]
        value, source, assumed = table[pname]
        is_fitted = source == CHIA
        if is_fitted:
            value = calibrated[pname]
            assumed = name.startswith("human")
            source = CHIA + origin
            if assumed:
                source += "; transferred from the mouse, assumed"
        params.append(Parameter(pname, float(value), unit, source, assumed, desc, is_fitted))
    return ParameterSet(name, description, tuple(params))


_SARS_COV_2_VIRUS: dict[str, tuple[float, str, bool]] = {
    "eclipse_rate": (3.0, "SARS-CoV-2 eclipse ~8 h; assumed", _A),
    "virus_clearance": (5.0, "assumed, of the influenza order", _A),
}
"""What the mouse and the human SARS-CoV-2 sets assume alike of the virus."""

_MOUSE_SARS_COV_2: dict[str, tuple[float, str, bool]] = {
    **_SARS_COV_2_VIRUS,
    "virus_inoculum": (100.0, "MA10 intranasal inoculum scale; assumed", _A),
    "infectivity": (
        4e-6,
        "assumed: MA10 peaks in the lung by day 2 (Leist et al. 2020, Cell 183:1070)",
        _A,
    ),
    "infected_death": (2.0, "assumed", _A),
    "virus_production": (20.0, "assumed", _A),
    "il6_per_infected": (3e-3, "assumed (MA10 lung IL-6 production per infected cell)", _A),
}

_HUMAN_COMMON: dict[str, tuple[float, str, bool]] = {
    "virus_inoculum": (0.1, "natural infection, small inoculum; assumed", _A),
    "infection_threshold": (0.01, "assumed; well below the inoculum", _A),
    "target_0": (4e8, BACCAM + " (upper respiratory tract target cells)", _S),
    "il6_baseline": (2.0, "healthy adult serum IL-6 of a few pg/mL; assumed", _A),
    "dcc_dormant_0": (1000.0, "dormant DCCs in a survivor's lungs; assumed", _A),
    "dcc_proliferation": (
        0.25,
        "assumed: human micrometastatic cells divide slower than mouse",
        _A,
    ),
    "dcc_capacity": (1e9, "lesion burden ceiling (about 1 cm^3); assumed", _A),
    "cd8_0": (1e5, "assumed, scaled to the human lung", _A),
    "cd4_0": (1e6, "assumed, scaled to the human lung", _A),
    "tcell_antigen_half": (1e3, "assumed, scaled to the human lung", _A),
    "cd8_kill_infected": (1e-5, "assumed, scaled to the human lung", _A),
    "cd8_kill_dcc": (2e-9, "assumed, scaled to the human lung", _A),
    "cd4_shield_half": (1e5, "assumed, scaled to the human lung", _A),
    "il6_per_infected": (5e-5, "assumed (peak IL-6 tens of pg/mL in uncomplicated infection)", _A),
    "il6_per_damaged": (2e-7, "assumed", _A),
    "antibody_absorption": (
        24.0,
        "intravenous antibody (tocilizumab-like), fast input; assumed",
        _A,
    ),
    "antibody_volume": (100.0, "IgG volume of distribution ~0.1 L/kg; assumed", _A),
    "antibody_elimination": (math.log(2) / 14.0, "IgG half-life ~2 weeks; assumed", _A),
}

_HUMAN_INFLUENZA: dict[str, tuple[float, str, bool]] = {
    **_HUMAN_COMMON,
    "infectivity": (2.7e-5, BACCAM + " (fitted order of magnitude)", _A),
    "virus_production": (0.054, "chosen so R0 = 22 as estimated by " + BACCAM, _A),
}

_HUMAN_SARS_COV_2: dict[str, tuple[float, str, bool]] = {
    **_HUMAN_COMMON,
    **_SARS_COV_2_VIRUS,
    "infectivity": (2.7e-5, "assumed, of the influenza order", _A),
    "infected_death": (1.0, "assumed: longer-lived infected cells than influenza", _A),
    "virus_production": (0.02, "assumed (R0 of order 10 in the airway)", _A),
    "il6_per_infected": (1e-4, "assumed (more IL-6 than influenza; severe COVID-19 >50 pg/mL)", _A),
}

_SETS: dict[str, tuple[str, dict, dict]] = {
    "mouse-influenza": (
        "influenza A/PR/8/34, sublethal, in MMTV-Her2 mice with dormant lung DCCs",
        _MOUSE_INFLUENZA,
        {},
    ),
    "mouse-sars-cov-2": (
        "mouse-adapted SARS-CoV-2 (MA10) in the same mice",
        _MOUSE_INFLUENZA,
        _MOUSE_SARS_COV_2,
    ),
    "human-influenza": (
        "seasonal influenza A in a breast cancer survivor",
        _MOUSE_INFLUENZA,
        _HUMAN_INFLUENZA,
    ),
    "human-sars-cov-2": (
        "SARS-CoV-2 in a breast cancer survivor",
        _MOUSE_INFLUENZA,
        _HUMAN_SARS_COV_2,
    ),
}

PARAMETER_SET_NAMES: tuple[str, ...] = tuple(_SETS)


def parameter_set(name: str, calibrated: Mapping[str, float] | None = None) -> ParameterSet:
    """The named parameter set of the within-host model.

    Values marked as calibrated are read from the calibration file in use (the user's, written
    by ``reawaken calibrate --write``, else the one shipped with reawaken; see
    :func:`calibration_source`), at the moment of the call.

    Parameters
    ----------
    name : str
        One of ``PARAMETER_SET_NAMES``: ``"mouse-influenza"``, ``"mouse-sars-cov-2"``,
        ``"human-influenza"`` or ``"human-sars-cov-2"``.
    calibrated : mapping of str to float, optional
        Values to use instead of the calibration file (used while calibrating): they set
        exactly the parameters this set takes from the calibration, and no others, so every one
        of those must be present.

    Returns
    -------
    ParameterSet
        Every model parameter with its value, unit, source and whether it is assumed.

    Raises
    ------
    InputError
        If ``name`` is not a known set (the message lists them), or the calibration file in
        use cannot be read.
    KeyError
        If ``calibrated`` lacks a parameter the set takes from the calibration.

    Examples
    --------
    >>> from reawaken.model import PARAMETER_SET_NAMES, parameter_set
    >>> PARAMETER_SET_NAMES
    ('mouse-influenza', 'mouse-sars-cov-2', 'human-influenza', 'human-sars-cov-2')
    >>> human = parameter_set("human-influenza")
    >>> human.description
    'seasonal influenza A in a breast cancer survivor'
    >>> human["target_0"], human.get("target_0").unit
    (400000000.0, 'cells')
    """
    if name not in _SETS:
        raise InputError(
            f"unknown parameter set {name!r} (known: {', '.join(PARAMETER_SET_NAMES)})"
        )
    description, base, overrides = _SETS[name]
    return _build(name, description, base, overrides, calibrated)
