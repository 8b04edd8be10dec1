"""Baseline hazards of a breast cancer survivor: distant recurrence, its lung share, and death
from other causes, from published rates.

Distant recurrence after year 5 follows Pan et al. (NEJM 2017): the 15-year risks of distant
recurrence (years 5-20) by tumour size (T1, T2) and nodes (N0, N1-3, N4-9) among women with
ER-positive disease free after five years of endocrine therapy. The six published risks are
turned into constant hazards and fitted by a log-additive model in T and N (four coefficients
for six numbers, so the fit is a check: :func:`pan_check` compares it with the published risks).
Stages are mapped onto the T/N groups (an assumption, :data:`STAGE_GROUPS`). Years 0-5 and the
HR-negative subtypes take multipliers from :mod:`reawaken.bridge.assumptions`; the lung's share
of first distant metastases comes by subtype (:data:`LUNG_SHARE`); other-cause death is the
synthetic cohort generator's Gompertz hazard of age (:func:`other_death_hazard`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reawaken.bridge.assumptions import PAN_2017, value
from reawaken.bridge.limits import MAX_AGE as MAX_AGE
from reawaken.bridge.limits import MAX_YEARS_SINCE_DIAGNOSIS as MAX_YEARS_SINCE_DIAGNOSIS
from reawaken.bridge.limits import MIN_AGE as MIN_AGE
from reawaken.bridge.limits import STAGE_GROUPS as STAGE_GROUPS
from reawaken.bridge.limits import STAGES as STAGES
from reawaken.bridge.limits import SUBTYPES as SUBTYPES
from reawaken.errors import InputError

PAN_RISKS: dict[tuple[str, str], float] = {
    ("T1", "N0"): 0.13,
    ("T1", "N1-3"): 0.20,
    ("T1", "N4-9"): 0.34,
    ("T2", "N0"): 0.19,
    ("T2", "N1-3"): 0.26,
    ("T2", "N4-9"): 0.41,
}
"""Risk of distant recurrence in years 5-20 by T and N (Pan et al. 2017, Figure 2)."""
PAN_YEARS = 15.0


LUNG_SHARE: dict[str, float] = {
    "hr+her2-": 0.302,
    "hr+her2+": 0.306,
    "hr-her2+": 0.352,
    "triple-negative": 0.414,
}
LUNG_SHARE_SOURCE = (
    "lung involvement among relapsed patients by subtype (luminal A 30.2%, luminal B 30.6%, "
    "HER2 35.2%, triple-negative 41.4%; a series of 1,350 patients, PMC5040895), taken as the "
    "share of first distant metastases in the lung: an assumption (HR+/HER2- as luminal A, "
    "HR+/HER2+ as luminal B)"
)


@dataclass(frozen=True)
class Profile:
    """A survivor: age, stage, subtype and years since diagnosis, checked when made.

    Parameters
    ----------
    age : float
        Age in years (18-100).
    stage : str
        Stage at diagnosis: ``I``, ``II`` or ``III``.
    subtype : str
        One of :data:`SUBTYPES` (``hr+her2-``, ``hr+her2+``, ``hr-her2+``, ``triple-negative``).
    years_since_diagnosis : float
        Years since diagnosis (0-30).

    Raises
    ------
    InputError
        For an age outside 18-100, an unknown stage or subtype, or years since diagnosis outside
        0-30 (the message names the field and what is accepted).

    Examples
    --------
    >>> from reawaken.bridge import Profile
    >>> Profile(62, "II", "hr+her2-", 6).stage
    'II'
    >>> Profile(62, "IV", "hr+her2-", 6)
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: column 'stage': stage 'IV' not accepted (accepted: I, II, III)
    """

    age: float
    stage: str
    subtype: str
    years_since_diagnosis: float

    def __post_init__(self) -> None:
        _check_range("age", self.age, MIN_AGE, MAX_AGE, "years")
        _check_range(
            "years_since_diagnosis",
            self.years_since_diagnosis,
            0.0,
            MAX_YEARS_SINCE_DIAGNOSIS,
            "years",
        )
        if self.stage not in STAGES:
            raise InputError(
                f"stage {self.stage!r} not accepted (accepted: {', '.join(STAGES)})", column="stage"
            )
        if self.subtype not in SUBTYPES:
            raise InputError(
                f"subtype {self.subtype!r} not accepted (accepted: {', '.join(SUBTYPES)})",
                column="subtype",
            )


def _check_range(name: str, x: float, lo: float, hi: float, unit: str) -> None:
    try:
        number = float(x)
    except (TypeError, ValueError):
        raise InputError(f"{name} {x!r} is not a number", column=name) from None
    if not (math.isfinite(number) and lo <= number <= hi):
        raise InputError(
            f"{name} {x!r} is outside the model's range ({lo:g}-{hi:g} {unit})", column=name
        )


def pan_hazards() -> pd.Series:
    """The published risks as constant annual hazards, ``-log(1 - risk) / 15``, by (T, N)."""
    return pd.Series(
        {k: -math.log1p(-r) / PAN_YEARS for k, r in PAN_RISKS.items()}, name="annual_hazard"
    )


def pan_fit() -> dict[str, float]:
    """Least-squares fit of ``log hazard = a + b [T2] + c [N1-3] + d [N4-9]`` to the six
    published hazards: the coefficients by name (``intercept``, ``T2``, ``N1-3``, ``N4-9``)."""
    hazards = pan_hazards()
    design = np.array(
        [[1.0, t == "T2", n == "N1-3", n == "N4-9"] for t, n in hazards.index], dtype=float
    )
    coef, *_ = np.linalg.lstsq(design, np.log(hazards.to_numpy()), rcond=None)
    return dict(zip(("intercept", "T2", "N1-3", "N4-9"), map(float, coef), strict=True))


def group_hazard(t: str, n: str) -> float:
    """The fitted annual hazard of distant recurrence after year 5 for T/N group ``(t, n)``."""
    c = pan_fit()
    return math.exp(c["intercept"] + (t == "T2") * c["T2"] + c.get(n, 0.0))


def pan_check() -> pd.DataFrame:
    """The fitted 15-year risks beside the published ones (relative difference)."""
    rows = []
    for (t, n), published in PAN_RISKS.items():
        fitted = -math.expm1(-group_hazard(t, n) * PAN_YEARS)
        rows.append(
            {
                "t": t,
                "n": n,
                "published": published,
                "fitted": fitted,
                "relative_difference": fitted / published - 1.0,
            }
        )
    return pd.DataFrame(rows)


def stage_hazard(stage: str) -> float:
    """Annual hazard of distant recurrence after year 5 for an HR-positive survivor of
    ``stage``: the mean of the fitted hazards of its T/N groups (:data:`STAGE_GROUPS`)."""
    groups = STAGE_GROUPS[stage]
    return sum(group_hazard(t, n) for t, n in groups) / len(groups)


def distant_hazard(
    stage: np.ndarray | str, subtype: np.ndarray | str, years_since_diagnosis: np.ndarray | float
) -> np.ndarray:
    """Annual hazard of a first distant recurrence (any site), elementwise.

    After year 5, :func:`stage_hazard` (Pan et al. 2017) for HR-positive subtypes, times the
    assumed ``hr_negative_late`` for HR-negative ones; in years 0-5 times
    ``early_years_multiplier`` (HR-positive) or ``hr_negative_early`` (HR-negative).

    Parameters
    ----------
    stage : str or array of str
        ``I``, ``II`` or ``III``.
    subtype : str or array of str
        One of :data:`SUBTYPES`.
    years_since_diagnosis : float or array
        Years since diagnosis.

    Returns
    -------
    numpy.ndarray
        The annual hazard, broadcast over the arguments.

    Raises
    ------
    KeyError
        For an unknown stage (use :class:`Profile` to check a survivor first).

    Examples
    --------
    >>> from reawaken.bridge import distant_hazard
    >>> round(float(distant_hazard("I", "hr+her2-", 8.0)), 4)  # T1N0 after year 5
    0.0097
    >>> [round(float(h), 4) for h in distant_hazard("II", "triple-negative", [2.0, 8.0])]
    [0.0403, 0.0065]
    """
    stage = np.asarray(stage)
    subtype = np.asarray(subtype)
    ysd = np.asarray(years_since_diagnosis, dtype=float)
    base = np.vectorize(stage_hazard, otypes=[float])(stage) if stage.size else np.zeros(0)
    negative = np.isin(subtype, ("hr-her2+", "triple-negative"))
    early = ysd < 5.0
    mult = np.where(
        negative,
        np.where(early, value("hr_negative_early"), value("hr_negative_late")),
        np.where(early, value("early_years_multiplier"), 1.0),
    )
    return base * mult


def lung_share(subtype: np.ndarray | str) -> np.ndarray:
    """Share of first distant metastases in the lung (:data:`LUNG_SHARE`), elementwise."""
    subtype = np.asarray(subtype)
    return np.vectorize(LUNG_SHARE.__getitem__, otypes=[float])(subtype)


def lung_hazard(
    stage: np.ndarray | str, subtype: np.ndarray | str, years_since_diagnosis: np.ndarray | float
) -> np.ndarray:
    """Annual hazard of a first distant recurrence in the lung: :func:`distant_hazard` times
    :func:`lung_share`.

    Parameters
    ----------
    stage, subtype, years_since_diagnosis
        As for :func:`distant_hazard`.

    Returns
    -------
    numpy.ndarray
        The annual hazard of a first metastasis in the lung.

    Raises
    ------
    KeyError
        For an unknown stage or subtype.

    Examples
    --------
    >>> from reawaken.bridge import lung_hazard
    >>> round(float(lung_hazard("II", "hr+her2-", 6.0)), 5)
    0.00487
    """
    return distant_hazard(stage, subtype, years_since_diagnosis) * lung_share(subtype)


def other_death_hazard(age: np.ndarray | float) -> np.ndarray:
    """Annual hazard of death from causes other than the cancer at ``age`` years: the
    synthetic cohort generator's Gompertz hazard (``other_death`` of
    :func:`reawaken.cohort.default_params`)."""
    from reawaken.cohort.synth_params import default_params

    g = default_params()["other_death"]
    return np.exp(g["log_rate_at_age_0"] + g["per_year_of_age"] * np.asarray(age, dtype=float))


SOURCES = {
    "distant recurrence after year 5": PAN_2017,
    "stage to T/N groups": "assumed (see STAGE_GROUPS)",
    "lung share": LUNG_SHARE_SOURCE,
    "death from other causes": "Gompertz hazard of the synthetic cohort generator (assumed, "
    "after ONS life tables)",
}
