"""reawaken.experiments: the study's experiments as runnable protocols, their claims and the
calibration to them (above :mod:`reawaken.simulate`, which solves them).

A protocol (:class:`Protocol`; the study's is :data:`MOUSE_LUNG`) is a set of arms
(:class:`Arm`: a parameter set and interventions) and sampling days. Run it in memory
(:func:`run_protocol`, then :func:`reawaken.simulate.summarise`), or with its files and figure
(:func:`simulate_protocol`, what ``reawaken simulate`` does); check the study's claims on the
result (:func:`check_claims`), or refit the calibrated parameters to them (:func:`calibrate`)::

    from reawaken.experiments import MOUSE_LUNG, check_claims, run_protocol
    from reawaken.simulate import summarise

    summary = summarise(run_protocol(MOUSE_LUNG))
    check_claims(summary)

The names below are the public ones; the modules hold the rest (importable, not promised).
They are imported when first used (PEP 562), so that reading a protocol does not load the
solvers (JAX, diffrax, numba).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reawaken._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)


if TYPE_CHECKING:  # the public names (for type checkers, editors and lazy_names)
    from reawaken.experiments.calibration import CalibrationResult as CalibrationResult
    from reawaken.experiments.calibration import calibrate as calibrate
    from reawaken.experiments.calibration import objective_terms as objective_terms
    from reawaken.experiments.calibration import write_calibration as write_calibration
    from reawaken.experiments.claims import CLAIMS as CLAIMS
    from reawaken.experiments.claims import Claim as Claim
    from reawaken.experiments.claims import check_claims as check_claims
    from reawaken.experiments.outputs import ProtocolOutputs as ProtocolOutputs
    from reawaken.experiments.outputs import simulate_protocol as simulate_protocol
    from reawaken.experiments.protocols import MOUSE_LUNG as MOUSE_LUNG
    from reawaken.experiments.protocols import PROTOCOLS as PROTOCOLS
    from reawaken.experiments.protocols import Arm as Arm
    from reawaken.experiments.protocols import Protocol as Protocol
    from reawaken.experiments.protocols import get_protocol as get_protocol
    from reawaken.experiments.run import arm_inputs as arm_inputs
    from reawaken.experiments.run import run_clones as run_clones
    from reawaken.experiments.run import run_protocol as run_protocol
