"""Calibration of the DCC and IL-6 parameters to the study's claims (``reawaken calibrate``).

Objective (log10 units): for each claim in :mod:`reawaken.experiments.claims`, the squared
shortfall of its slack below a safety margin ``MARGIN`` (so the fit lands inside the claims, not
on their edge), plus the structural constraint ``MAX_SELF_RENEWAL`` (squared log10 excess), plus
a weak ridge ``RIDGE * sum((log10 theta - log10 theta_prior)^2)`` towards the prior guesses
``PRIORS`` so that unconstrained directions stay at plausible magnitudes.

Procedure: Nelder-Mead on log10 of the ``PRIORS`` parameters, started at the priors, on the
deterministic ``mouse-lung`` protocol; everything else is fixed at its sourced or assumed value.
:func:`write_calibration` writes the result to a file, by default the user's calibration file
(:func:`reawaken.model.calibrated.user_calibration_path`), which the parameter sets then read in
place of the calibration shipped with the package. Deterministic: the same code gives the same
numbers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reawaken.experiments.claims import CLAIMS
from reawaken.experiments.protocols import MOUSE_LUNG
from reawaken.experiments.run import run_protocol
from reawaken.io import write_text_atomic
from reawaken.model.calibrated import user_calibration_path
from reawaken.simulate.summary import summarise

PRIORS: dict[str, float] = {
    "awakening_max": 1.0,  # 1/day
    "awakening_ec50": 100.0,  # pg/mL above baseline: of the order of inflamed-lung IL-6
    "return_to_dormancy": 1.2,  # 1/day without IL-6
    "dcc_proliferation": 1.0,  # 1/day: doubling in under a day at most
    "cd8_kill_dcc": 1.2e-7,  # 1/(cell*day)
    "cd4_shield_half": 3e3,  # cells
    "il6_per_infected": 5e-4,  # pg/mL/(cell*day)
    "il6_per_damaged": 1e-4,  # pg/mL/(cell*day): inflammation while the epithelium repairs
    "epithelial_repair": 0.2,  # 1/day: repair over 2-3 weeks
    "infectivity": 2.5e-6,  # mL/(TCID50*day): sets the timing of the viral and IL-6 peaks
}
MARGIN = math.log10(1.15)
RIDGE = 1e-3
MAX_SELF_RENEWAL = 0.9
"""Structural constraint: ``dcc_proliferation / return_to_dormancy <= MAX_SELF_RENEWAL``.
Without IL-6, awakened cells drift back to dormancy faster than they divide, so expansion is
IL-6-driven and the late burden is held rather than grown: the 9-month burden is then set by the
awakening, not by the assumed carrying capacity."""


@dataclass(frozen=True)
class CalibrationResult:
    """The outcome of :func:`calibrate`.

    Parameters
    ----------
    values : dict of str to float
        The calibrated parameters' values (six significant digits).
    objective : float
        The objective at ``values`` (see :func:`objective_terms`).
    evaluations : int
        How many times the objective was evaluated.
    slacks : dict of str to float
        Each claim's slack (log10 units; >= 0 when it holds) at ``values``.
    converged : bool, default True
        False when the search stopped on its evaluation budget (or iteration limit) before
        meeting its tolerances: the values are where it stopped, not a minimum.
    budget : int, optional
        The evaluation budget the search was given.

    Examples
    --------
    >>> from reawaken.experiments import CalibrationResult
    >>> result = CalibrationResult({"awakening_max": 1.0}, objective=0.01, evaluations=1,
    ...                            slacks={"flu_d3": 0.2})
    >>> result.values["awakening_max"], result.slacks["flu_d3"] >= 0
    (1.0, True)
    """

    values: dict[str, float]
    objective: float
    evaluations: int
    slacks: dict[str, float]
    converged: bool = True
    budget: int | None = None

    @property
    def command(self) -> str:
        """The command line that makes this calibration."""
        if self.budget is None:
            return "reawaken calibrate"
        return f"reawaken calibrate --max-evaluations {self.budget}"

    @property
    def stopped(self) -> str:
        """Why the search stopped, in words."""
        if self.converged:
            return "converged (tolerances met)"
        return f"stopped on its budget after {self.evaluations} evaluations, before converging"


def objective_terms(values: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The calibration's objective and each claim's slack for one candidate.

    Runs the deterministic ``mouse-lung`` protocol with ``values`` in place of the calibration
    file and scores it (see this module's docstring): the squared shortfall of each claim's
    slack below ``MARGIN``, the self-renewal constraint and a weak ridge towards ``PRIORS``.

    Parameters
    ----------
    values : dict of str to float
        A value for every calibrated parameter (the keys of ``PRIORS``), all positive.

    Returns
    -------
    penalty : float
        The objective (1e6 when an arm fails to solve).
    slacks : dict of str to float
        Each claim's slack in log10 units (empty when an arm fails to solve).

    Raises
    ------
    KeyError
        If ``values`` lacks a calibrated parameter.
    ValueError
        If a value is not positive (its log10 enters the ridge).

    Examples
    --------
    >>> from reawaken.experiments import objective_terms
    >>> from reawaken.model import parameter_set
    >>> penalty, slacks = objective_terms(parameter_set("mouse-influenza").values())
    >>> penalty >= 0, len(slacks)
    (True, 13)
    """
    results = run_protocol(MOUSE_LUNG, calibrated=values)
    summary = summarise(results)
    if (summary["status"] != "ok").any():
        return 1e6, {}
    slacks = {c.id: c.slack(summary) for c in CLAIMS}
    penalty = sum(max(0.0, MARGIN - s) ** 2 if math.isfinite(s) else 1e3 for s in slacks.values())
    ridge = sum(math.log10(values[k] / PRIORS[k]) ** 2 for k in PRIORS)
    renewal = values["dcc_proliferation"] / values["return_to_dormancy"]
    structural = max(0.0, math.log10(renewal / MAX_SELF_RENEWAL)) ** 2
    return penalty + structural + RIDGE * ridge, slacks


def calibrate(max_evaluations: int = 800) -> CalibrationResult:
    """Fit the calibrated parameters to the study's claims (``reawaken calibrate``).

    Nelder-Mead on log10 of the ``PRIORS`` parameters, started at the priors, on the objective
    of :func:`objective_terms`. Deterministic. Nothing is written: pass the result to
    :func:`write_calibration` for the parameter sets to use it.

    Parameters
    ----------
    max_evaluations : int, default 800
        The most evaluations of the objective (each solves the ``mouse-lung`` protocol).

    Returns
    -------
    CalibrationResult
        The values (rounded to six significant digits), the objective and the claims' slacks
        at them, the number of evaluations and whether the search converged (``converged`` is
        False when it stopped on ``max_evaluations``).

    Raises
    ------
    TypeError
        If ``max_evaluations`` is not a number (scipy's check).

    Examples
    --------
    >>> from reawaken.experiments import calibrate
    >>> result = calibrate(max_evaluations=2)  # a full fit takes minutes
    >>> result.evaluations, len(result.values), len(result.slacks), result.converged
    (2, 10, 13, False)
    """
    from scipy.optimize import minimize  # here: importing reawaken.experiments stays light

    names = list(PRIORS)
    x0 = np.log10([PRIORS[k] for k in names])

    def loss(x: np.ndarray) -> float:
        return objective_terms(dict(zip(names, 10.0**x, strict=True)))[0]

    fit = minimize(
        loss,
        x0,
        method="Nelder-Mead",
        options={"maxfev": max_evaluations, "xatol": 1e-4, "fatol": 1e-8, "adaptive": True},
    )
    values = {k: float(f"{v:.6g}") for k, v in zip(names, 10.0**fit.x, strict=True)}
    objective, slacks = objective_terms(values)
    converged = bool(fit.success)
    return CalibrationResult(values, objective, int(fit.nfev), slacks, converged, max_evaluations)


def write_calibration(result: CalibrationResult, path: str | Path | None = None) -> Path:
    """Write a calibration as a calibration file, which later runs then read.

    Parameters
    ----------
    result : CalibrationResult
        The calibration (:func:`calibrate`).
    path : str or pathlib.Path, optional
        The file to write (atomically). By default the user's calibration file
        (``$XDG_DATA_HOME/reawaken/calibration.json``, else
        ``~/.local/share/reawaken/calibration.json``), which the parameter sets then read in
        place of the calibration shipped with reawaken.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OSError
        If the file cannot be written.

    Examples
    --------
    >>> import json
    >>> from reawaken.experiments import CalibrationResult, write_calibration
    >>> result = CalibrationResult({"awakening_max": 1.0}, 0.01, 1, {"flu_d3": 0.2})
    >>> path = write_calibration(result, "my_calibration.json")
    >>> json.loads(path.read_text())["values"]
    {'awakening_max': 1.0}
    """
    payload = {
        "method": "Nelder-Mead on log10 parameters; see reawaken.experiments.calibration",
        "command": result.command,
        "converged": result.converged,
        "stopped": result.stopped,
        "objective": result.objective,
        "evaluations": result.evaluations,
        "values": result.values,
        "claim_slack_log10": result.slacks,
    }
    target = user_calibration_path() if path is None else Path(path)
    return write_text_atomic(json.dumps(payload, indent=2) + "\n", target)
