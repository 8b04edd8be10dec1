"""A survivor's risk of a diagnosed lung metastasis in the next years, with and without an
infection today (or some days ago).

The baseline is :mod:`reawaken.bridge.baseline`: the annual hazard of a first distant metastasis
in the lung (``lung_hazard``), competing with a first distant metastasis elsewhere
(``distant_hazard - lung_hazard``) and with death from other causes (``other_death_hazard``),
with years since diagnosis and age advancing over the horizon. An infection ``D`` days ago
multiplies the lung hazard on day ``t`` of the horizon by ``1 + r[k, D + t]``, the excess-hazard
kernel of :func:`reawaken.bridge.kernel.compute_kernel` for parameter draw ``k`` (the other
hazards are left as they are). The cumulative incidence of a lung metastasis (Aalen-Johansen with
the competing events) is integrated on a daily grid with the hazards constant within each day,
which is exact for such piecewise-constant hazards.

With an infection the risk is computed per draw; its value is the mean over draws and its
interval the 2.5 and 97.5 percentiles over draws: the spread of the within-host response between
people (their infection and awakening parameters), not the uncertainty of an estimate.

A research model, not clinical advice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reawaken.bridge.assumptions import value
from reawaken.bridge.baseline import (
    Profile,
    distant_hazard,
    lung_hazard,
    other_death_hazard,
)
from reawaken.bridge.kernel import LesionBiology, compute_kernel
from reawaken.bridge.limits import DAYS_SINCE as DAYS_SINCE
from reawaken.bridge.limits import DRAWS as DRAWS
from reawaken.bridge.limits import INFECTION as INFECTION
from reawaken.bridge.limits import INFECTIONS as INFECTIONS
from reawaken.bridge.limits import INTERVAL_MEANING as INTERVAL_MEANING
from reawaken.bridge.limits import LABEL as LABEL
from reawaken.bridge.limits import MAX_DAYS_SINCE as MAX_DAYS_SINCE
from reawaken.bridge.limits import MAX_DRAWS as MAX_DRAWS
from reawaken.errors import InputError

YEAR_DAYS = 365.25
"""Days in a year (Julian): the hazards are annual, the grid and the kernel are in days."""
YEARS = (1.0, 5.0)
"""The horizons reported (years from today)."""
LEVEL = 0.95
"""The interval's coverage over draws (2.5 and 97.5 percentiles)."""


@dataclass(frozen=True)
class Risk:
    """The risk of a diagnosed lung metastasis by each horizon, with and without an infection.

    Attributes
    ----------
    profile : Profile
        The survivor.
    infection : str
        ``"influenza"``, ``"sars-cov-2"`` or ``"none"``.
    days_since : int
        Days from the infection to today.
    vaccinated, anti_il6 : bool
        Whether the infection was a breakthrough after vaccination; whether IL-6 was blocked.
    draws, seed : int
        The within-host parameter draws and their seed (``draws`` is 0 for ``"none"``).
    years : tuple of float
        The horizons (years from today).
    without : numpy.ndarray
        ``(len(years),)``: the risk without the infection.
    with_draws : numpy.ndarray
        ``(draws, len(years))``: the risk with the infection, per draw (one row, equal to
        ``without``, for ``"none"``).
    lesion_response : float or None
        The lesion biology's calibrated scale the kernel used (None for ``"none"``).

    Examples
    --------
    >>> from reawaken.bridge.baseline import Profile
    >>> from reawaken.bridge.risk import lung_metastasis_risk
    >>> r = lung_metastasis_risk(Profile(62, "II", "hr+her2-", 6), "none")
    >>> r.table()["difference"].tolist()
    [0.0, 0.0]
    """

    profile: Profile
    infection: str
    days_since: int
    vaccinated: bool
    anti_il6: bool
    draws: int
    seed: int
    years: tuple[float, ...]
    without: np.ndarray
    with_draws: np.ndarray
    lesion_response: float | None = None

    def table(self) -> pd.DataFrame:
        """``years, without, with, with_lower, with_upper, difference, difference_lower,
        difference_upper``: one row per horizon (value: mean over draws; interval: the 2.5 and
        97.5 percentiles over draws)."""
        a = (1.0 - LEVEL) / 2.0
        diff = self.with_draws - self.without[None, :]
        return pd.DataFrame(
            {
                "years": list(self.years),
                "without": self.without,
                "with": self.with_draws.mean(axis=0),
                "with_lower": np.quantile(self.with_draws, a, axis=0),
                "with_upper": np.quantile(self.with_draws, 1.0 - a, axis=0),
                "difference": diff.mean(axis=0),
                "difference_lower": np.quantile(diff, a, axis=0),
                "difference_upper": np.quantile(diff, 1.0 - a, axis=0),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data: the label, the version, the inputs, and one record per
        horizon."""
        from reawaken import __version__

        return {
            "label": LABEL,
            "version": __version__,
            "what": "cumulative incidence of a diagnosed lung metastasis (first distant "
            "metastasis in the lung), competing with distant metastasis elsewhere and death "
            "from other causes",
            "profile": {
                "age": float(self.profile.age),
                "stage": self.profile.stage,
                "subtype": self.profile.subtype,
                "years_since_diagnosis": float(self.profile.years_since_diagnosis),
            },
            "infection": self.infection,
            "days_since": self.days_since,
            "vaccinated": self.vaccinated,
            "anti_il6": self.anti_il6,
            "draws": self.draws,
            "seed": self.seed,
            "lesion_response": self.lesion_response,
            "interval": INTERVAL_MEANING,
            "risks": [
                {k: float(v) for k, v in row.items()}
                for row in self.table().to_dict(orient="records")
            ],
        }


def _grid(years: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Boundaries of the grid (days from today): whole days, and each horizon's day count."""
    ends = [y * YEAR_DAYS for y in years]
    edges = np.union1d(np.arange(math.floor(max(ends)) + 1, dtype=float), ends)
    return edges, np.searchsorted(edges, ends)


def cumulative_incidence(lung: np.ndarray, other: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Cumulative incidence of the lung event at the end of each interval, for hazards
    constant within each interval: ``lung`` ``(..., n)`` and the other events' total ``other``
    ``(n,)`` (annual hazards), interval ``widths`` ``(n,)`` in years.

    Each interval adds ``S * lung / total * (1 - exp(-total * width))`` with ``S`` the
    probability of no event before it (Aalen-Johansen for piecewise-constant hazards).

    Examples
    --------
    One constant hazard and no competing event: ``1 - exp(-h t)``.

    >>> import numpy as np
    >>> from reawaken.bridge.risk import cumulative_incidence
    >>> f = cumulative_incidence(np.full(10, 0.1), np.zeros(10), np.full(10, 0.5))
    >>> round(float(f[-1]), 12), round(1.0 - float(np.exp(-0.5)), 12)
    (0.393469340287, 0.393469340287)
    """
    total = lung + other
    step = total * widths
    before = np.exp(-(np.cumsum(step, axis=-1) - step))
    share = np.divide(lung, total, out=np.zeros(np.broadcast(lung, total).shape), where=total > 0)
    return np.cumsum(before * share * -np.expm1(-step), axis=-1)


def _interventions(vaccinated: bool, anti_il6: bool) -> tuple[list[object], str]:
    from reawaken.model import AntiIL6, Vaccination

    given: list[object] = []
    words = []
    if vaccinated:  # a breakthrough infection: it happened, attenuated by the vaccine's memory
        given.append(Vaccination(infectivity_reduction=0.0))
        words.append("vaccinated")
    if anti_il6:
        onset = value("symptom_onset")
        given.append(AntiIL6(((onset, value("anti_il6_dose")),)))
        words.append(f"anti-il6 day {onset:g}")
    return given, " + ".join(words) or "none"


def lung_metastasis_risk(
    profile: Profile,
    infection: str,
    days_since: int = 0,
    *,
    vaccinated: bool = False,
    anti_il6: bool = False,
    draws: int = 200,
    seed: int = 1,
    years: tuple[float, ...] = YEARS,
    biology: LesionBiology | None = None,
) -> Risk:
    """The risk of a diagnosed lung metastasis by each of ``years`` from today for ``profile``,
    without and with an ``infection`` that happened ``days_since`` days ago.

    Parameters
    ----------
    profile : Profile
        The survivor (age, stage, subtype, years since diagnosis; checked when made).
    infection : {"influenza", "sars-cov-2", "none"}
        The infection; ``"none"`` gives the baseline on both sides (difference 0).
    days_since : int, default 0
        Days from the infection to today, 0 to :data:`MAX_DAYS_SINCE`: day ``t`` of the horizon
        is day ``days_since + t`` of the kernel.
    vaccinated : bool, default False
        A breakthrough infection after vaccination: ``Vaccination(infectivity_reduction=0)``
        (the infection happens; faster clearance and memory T cells attenuate it).
    anti_il6 : bool, default False
        IL-6 blocked at symptom onset: ``AntiIL6`` with one dose of ``anti_il6_dose`` on day
        ``symptom_onset`` (:mod:`reawaken.bridge.assumptions`).
    draws : int, default 200
        Within-host parameter draws (people) for the kernel.
    seed : int, default 1
        Seed of the draws.
    years : tuple of float, default (1.0, 5.0)
        Horizons, years from today (each > 0 and at most 30).
    biology : LesionBiology, optional
        The human lesion biology of the kernel; default ``LesionBiology()`` (the assumptions
        and the calibration in use).

    Returns
    -------
    Risk
        The risks by horizon without the infection and per draw with it.

    Raises
    ------
    InputError
        For an unknown infection, ``days_since`` outside 0 to :data:`MAX_DAYS_SINCE`, ``draws``
        outside 1 to :data:`MAX_DRAWS`, a horizon outside (0, 30] years, an intervention with
        no infection, or a failed within-host solve.

    Examples
    --------
    >>> from reawaken.bridge.baseline import Profile
    >>> from reawaken.bridge.risk import lung_metastasis_risk
    >>> r = lung_metastasis_risk(Profile(62, "II", "hr+her2-", 6), "none")
    >>> [round(float(x), 4) for x in r.without]
    [0.0048, 0.0229]
    """
    infection = INFECTION.check("infection", infection)
    days_since = DAYS_SINCE.check("days_since", days_since)
    draws = DRAWS.check("draws", draws)
    if not years or any(not (0.0 < float(y) <= 30.0) for y in years):
        raise InputError(f"years {years!r}: each horizon must be > 0 and <= 30", column="years")
    if infection == "none" and (vaccinated or anti_il6 or days_since):
        raise InputError(
            "vaccinated, anti_il6 and days_since apply to an infection, not to infection none",
            column="infection",
        )
    years = tuple(float(y) for y in years)
    edges, at = _grid(years)
    widths_days = np.diff(edges)
    mid = (edges[:-1] + edges[1:]) / 2.0 / YEAR_DAYS  # years from today at each interval's middle
    ysd = profile.years_since_diagnosis + mid
    lung = lung_hazard(profile.stage, profile.subtype, ysd)
    other = distant_hazard(profile.stage, profile.subtype, ysd) - lung
    other = other + other_death_hazard(profile.age + mid)
    widths = widths_days / YEAR_DAYS
    without = cumulative_incidence(lung, other, widths)[at - 1]
    if infection == "none":
        with_draws = without[None, :].copy()
        n = 0
        response = None
    else:
        biology = biology or LesionBiology()
        given, label = _interventions(vaccinated, anti_il6)
        day = days_since + np.floor(edges[:-1]).astype(int)  # the kernel's day of each interval
        kernel = compute_kernel(
            infection,
            draws,
            seed,
            biology,
            interventions=given,
            label=label,
            horizon=int(day[-1]) + 1,
        )
        # A hazard is never negative: 1 + r stays above 0 for the calibrated biology (the
        # deficit after the early excess is at most the baseline); the floor guards others.
        factor = np.maximum(1.0 + kernel.ratio[:, day], 0.0)
        with_draws = cumulative_incidence(lung[None, :] * factor, other, widths)[:, at - 1]
        n = draws
        response = biology.lesion_response
    return Risk(
        profile,
        infection,
        days_since,
        bool(vaccinated),
        bool(anti_il6),
        n,
        seed,
        years,
        without,
        with_draws,
        response,
    )
