"""reawaken.model: the within-host model of infection, IL-6 and the awakening of dormant
disseminated cancer cells (DCCs) in the lung, after Chia et al. 2025 (Nature 645).

Parameter sets (:func:`parameter_set`, one per host and virus), the named states
(:class:`ModelState`), the vector field (:func:`vector_field`, and :func:`array_field` for
solvers that work on arrays), the interventions that make an experimental arm
(:func:`apply_interventions`) and the export to SBML (:func:`to_sbml`). Solving is
:mod:`reawaken.simulate`; the study's experiments are :mod:`reawaken.experiments`::

    from reawaken.model import AntiIL6, apply_interventions, parameter_set

    ps = parameter_set("mouse-influenza")
    values, forcing = apply_interventions(ps.values(), [AntiIL6.every(10.0, 0.0, 3.0, 5)])

The names below are the public ones; the modules hold the rest (importable, not promised).
They are imported when first used (PEP 562): importing this package loads nothing, and the
SBML export loads libsbml only when first asked for. This package never loads JAX, diffrax or numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reawaken._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)


if TYPE_CHECKING:  # the public names (for type checkers, editors and lazy_names)
    from reawaken.model.calibrated import CalibrationSource as CalibrationSource
    from reawaken.model.calibrated import calibration_source as calibration_source
    from reawaken.model.equations import DCCRates as DCCRates
    from reawaken.model.equations import array_field as array_field
    from reawaken.model.equations import dcc_rates as dcc_rates
    from reawaken.model.equations import initial_array as initial_array
    from reawaken.model.equations import initial_state as initial_state
    from reawaken.model.equations import vector_field as vector_field
    from reawaken.model.forcing import Forcing as Forcing
    from reawaken.model.forcing import no_forcing as no_forcing
    from reawaken.model.interventions import AntiIL6 as AntiIL6
    from reawaken.model.interventions import Antiviral as Antiviral
    from reawaken.model.interventions import CD4Depletion as CD4Depletion
    from reawaken.model.interventions import CD8Depletion as CD8Depletion
    from reawaken.model.interventions import IL6Knockout as IL6Knockout
    from reawaken.model.interventions import NoInfection as NoInfection
    from reawaken.model.interventions import Reinfection as Reinfection
    from reawaken.model.interventions import Vaccination as Vaccination
    from reawaken.model.interventions import apply_interventions as apply_interventions
    from reawaken.model.parameters import PARAMETER_NAMES as PARAMETER_NAMES
    from reawaken.model.parameters import PARAMETER_SET_NAMES as PARAMETER_SET_NAMES
    from reawaken.model.parameters import Parameter as Parameter
    from reawaken.model.parameters import ParameterSet as ParameterSet
    from reawaken.model.parameters import parameter_set as parameter_set
    from reawaken.model.sbml import to_sbml as to_sbml
    from reawaken.model.sbml import write_sbml as write_sbml
    from reawaken.model.states import STATE_IDS as STATE_IDS
    from reawaken.model.states import STATES as STATES
    from reawaken.model.states import ModelState as ModelState
    from reawaken.model.states import as_array as as_array
    from reawaken.model.states import as_state as as_state
