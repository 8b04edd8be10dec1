"""Interventions: small composable objects that change an animal's parameters or forcing.

Each intervention maps ``(parameter values, Forcing)`` to new ones; a list of them is applied in
order by :func:`apply_interventions`. Days count from the (first) infection at day 0; doses are
in mg/kg. Impossible schedules (negative days, non-positive doses, more than ``MAX_EVENTS``
doses or re-infections, efficacies outside [0, 1]) raise :class:`InputError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from reawaken.errors import InputError
from reawaken.model.forcing import MAX_EVENTS, Forcing, no_forcing

Values = dict[str, float]


def _day(value: float, what: str) -> float:
    day = float(value)
    if not math.isfinite(day) or day < 0:
        raise InputError(f"{what}: day {value} must be a finite number >= 0")
    return day


def _fraction(value: float, what: str) -> float:
    x = float(value)
    if not 0.0 <= x <= 1.0:
        raise InputError(f"{what}: {value} must be between 0 and 1")
    return x


def _append_events(
    days: np.ndarray, amounts: np.ndarray, new: Sequence[tuple[float, float]], what: str
) -> tuple[np.ndarray, np.ndarray]:
    used = int(np.count_nonzero(amounts))
    if used + len(new) > MAX_EVENTS:
        raise InputError(f"{what}: at most {MAX_EVENTS} events per arm, got {used + len(new)}")
    days, amounts = days.copy(), amounts.copy()
    for k, (day, amount) in enumerate(new):
        days[used + k] = day
        amounts[used + k] = amount
    return days, amounts


@dataclass(frozen=True)
class NoInfection:
    """Mock infection: no virus is given (the inoculum is set to 0).

    Examples
    --------
    >>> from reawaken.model import NoInfection, apply_interventions, parameter_set
    >>> values = parameter_set("mouse-influenza").values()
    >>> mock, _ = apply_interventions(values, [NoInfection()])
    >>> values["virus_inoculum"], mock["virus_inoculum"]
    (100.0, 0.0)
    """

    def apply(self, values: Values, forcing: Forcing) -> tuple[Values, Forcing]:
        return {**values, "virus_inoculum": 0.0}, forcing


@dataclass(frozen=True)
class IL6Knockout:
    """IL-6-deficient host: no IL-6 is made, baseline included.

    Examples
    --------
    >>> from reawaken.model import IL6Knockout, apply_interventions
    >>> _, forcing = apply_interventions({}, [IL6Knockout()])
    >>> float(forcing.il6_production_scale)
    0.0
    """

    def apply(self, values: Values, forcing: Forcing) -> tuple[Values, Forcing]:
        return values, forcing._replace(il6_production_scale=np.float64(0.0))


@dataclass(frozen=True)
class AntiIL6:
    """Anti-IL-6 antibody given i.p. on a schedule of doses.

    :meth:`every` makes a regular schedule.

    Parameters
    ----------
    doses : tuple of (day, mg/kg) pairs
        Each dose's day (from the infection at day 0) and amount (mg/kg), at most
        ``MAX_EVENTS`` in one arm.

    Raises
    ------
    InputError
        If the schedule is empty, a day is negative or not finite, an amount is not a positive
        number or two doses fall on the same day; when applied, if the arm would then have
        more than ``MAX_EVENTS`` doses.

    Examples
    --------
    >>> from reawaken.model import AntiIL6
    >>> AntiIL6.every(10.0, first_day=0.0, interval=3.0, n=3).doses
    ((0.0, 10.0), (3.0, 10.0), (6.0, 10.0))
    >>> AntiIL6(())
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: anti-IL-6: the dose schedule is empty
    """

    doses: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.doses:
            raise InputError("anti-IL-6: the dose schedule is empty")
        days = [_day(d, "anti-IL-6 dose") for d, _ in self.doses]
        for _, mg in self.doses:
            if not (math.isfinite(float(mg)) and float(mg) > 0):
                raise InputError(f"anti-IL-6: dose {mg} mg/kg must be a positive number")
        if len(set(days)) != len(days):
            raise InputError(f"anti-IL-6: two doses on the same day in {days}")

    @classmethod
    def every(cls, mg_per_kg: float, first_day: float, interval: float, n: int) -> AntiIL6:
        """``n`` doses of ``mg_per_kg`` every ``interval`` days from ``first_day``; an
        ``interval <= 0`` or ``n < 1`` is an InputError."""
        if interval <= 0 or n < 1:
            raise InputError(f"anti-IL-6: need interval > 0 and n >= 1, got {interval}, {n}")
        return cls(tuple((first_day + k * interval, mg_per_kg) for k in range(n)))

    def apply(self, values: Values, forcing: Forcing) -> tuple[Values, Forcing]:
        days, amounts = _append_events(
            np.asarray(forcing.dose_days),
            np.asarray(forcing.dose_mg_per_kg),
            [(float(d), float(m)) for d, m in self.doses],
            "anti-IL-6",
        )
        return values, forcing._replace(dose_days=days, dose_mg_per_kg=amounts)


_DEPLETION_DOC = """Depleting anti-{cells} antibody from ``start_day`` on (given repeatedly, so
    lasting): {cells}+ T cells are lost at the parameter ``depletion_rate``.

    Parameters
    ----------
    start_day : float, default 0
        Day the depletion starts (days after the infection).

    Raises
    ------
    InputError
        When applied, if ``start_day`` is negative or not finite.

    Examples
    --------
    >>> from reawaken.model import CD4Depletion, CD8Depletion, apply_interventions
    >>> _, forcing = apply_interventions({{}}, [{cells}Depletion(start_day=7.0)])
    >>> float(forcing.cd4_depletion_start), float(forcing.cd8_depletion_start)
    {example}
    """


@dataclass(frozen=True)
class _Depletion:
    """A T-cell depletion: the subclass names the cells and the forcing field it starts."""

    start_day: float = 0.0
    cells: ClassVar[str]
    forcing_field: ClassVar[str]

    def __init_subclass__(cls, example: str = "", **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.__doc__ = _DEPLETION_DOC.format(cells=cls.cells, example=example)

    def apply(self, values: Values, forcing: Forcing) -> tuple[Values, Forcing]:
        start = _day(self.start_day, f"{self.cells} depletion")
        return values, forcing._replace(**{self.forcing_field: np.float64(start)})


class CD4Depletion(_Depletion, example="(7.0, inf)"):
    cells = "CD4"
    forcing_field = "cd4_depletion_start"


class CD8Depletion(_Depletion, example="(inf, 7.0)"):
    cells = "CD8"
    forcing_field = "cd8_depletion_start"


@dataclass(frozen=True)
class Vaccination:
    """Prior immunity from vaccination: less infection, faster clearance, memory T cells.

    The defaults are assumptions of the order reported for influenza and SARS-CoV-2 vaccines.

    Parameters
    ----------
    infectivity_reduction : float, default 0.6
        Fraction by which effective infectivity falls (neutralising antibody), in [0, 1].
    clearance_factor : float, default 2.0
        Multiplier on free-virus clearance (>= 1).
    cd8_memory_factor : float, default 5.0
        Multiplier on the CD8+ T cells present at infection (>= 1).

    Raises
    ------
    InputError
        When applied, if ``infectivity_reduction`` is outside [0, 1] or a factor is below 1
        or not finite.

    Examples
    --------
    >>> from reawaken.model import Vaccination, apply_interventions, parameter_set
    >>> ps = parameter_set("mouse-influenza")
    >>> values, _ = apply_interventions(ps.values(), [Vaccination()])
    >>> ps["cd8_0"], values["cd8_0"], ps["virus_clearance"], values["virus_clearance"]
    (1000.0, 5000.0, 5.5, 11.0)
    """

    infectivity_reduction: float = 0.6
    clearance_factor: float = 2.0
    cd8_memory_factor: float = 5.0

    def apply(self, values: Values, forcing: Forcing) -> tuple[Values, Forcing]:
        reduction = _fraction(self.infectivity_reduction, "vaccination infectivity_reduction")
        for name, factor in (
            ("clearance_factor", self.clearance_factor),
            ("cd8_memory_factor", self.cd8_memory_factor),
        ):
            if not (math.isfinite(factor) and factor >= 1.0):
                raise InputError(f"vaccination {name}: {factor} must be >= 1")
        return {
            **values,
            "infectivity": values["infectivity"] * (1.0 - reduction),
            "virus_clearance": values["virus_clearance"] * self.clearance_factor,
            "cd8_0": values["cd8_0"] * self.cd8_memory_factor,
        }, forcing


@dataclass(frozen=True)
class Antiviral:
    """An antiviral blocking a fraction ``efficacy`` of virus production from ``start_day``.

    Parameters
    ----------
    start_day : float
        Day the antiviral starts (days after the infection).
    efficacy : float, default 0.9
        Fraction of virus production blocked, in [0, 1].

    Raises
    ------
    InputError
        When applied, if ``start_day`` is negative or not finite, or ``efficacy`` is outside
        [0, 1].

    Examples
    --------
    >>> from reawaken.model import Antiviral, apply_interventions
    >>> _, forcing = apply_interventions({}, [Antiviral(start_day=2.0, efficacy=0.8)])
    >>> float(forcing.antiviral_start), float(forcing.antiviral_efficacy)
    (2.0, 0.8)
    """

    start_day: float
    efficacy: float = 0.9

    def apply(self, values: Values, forcing: Forcing) -> tuple[Values, Forcing]:
        start = _day(self.start_day, "antiviral")
        efficacy = _fraction(self.efficacy, "antiviral efficacy")
        return values, forcing._replace(
            antiviral_start=np.float64(start), antiviral_efficacy=np.float64(efficacy)
        )


@dataclass(frozen=True)
class Reinfection:
    """A second inoculation of ``inoculum`` TCID50/mL at ``day`` (> 0).

    Parameters
    ----------
    day : float
        Day of the re-inoculation (after the first infection at day 0).
    inoculum : float, optional
        TCID50/mL it adds; by default the parameter set's own inoculum.

    Raises
    ------
    InputError
        When applied, if ``day`` is not a finite number > 0, the inoculum is not a positive
        number, or the arm would then have more than ``MAX_EVENTS`` re-inoculations.

    Examples
    --------
    >>> from reawaken.model import Reinfection, apply_interventions, parameter_set
    >>> values = parameter_set("mouse-influenza").values()
    >>> _, forcing = apply_interventions(values, [Reinfection(day=30.0)])
    >>> float(forcing.reinfection_days[0]), float(forcing.reinfection_inoculum[0])
    (30.0, 100.0)
    """

    day: float
    inoculum: float | None = None

    def apply(self, values: Values, forcing: Forcing) -> tuple[Values, Forcing]:
        day = _day(self.day, "re-infection")
        if day == 0:
            raise InputError("re-infection: day must be after the first infection (day 0)")
        amount = values["virus_inoculum"] if self.inoculum is None else float(self.inoculum)
        if not (math.isfinite(amount) and amount > 0):
            raise InputError(f"re-infection: inoculum {amount} must be a positive number")
        days, amounts = _append_events(
            np.asarray(forcing.reinfection_days),
            np.asarray(forcing.reinfection_inoculum),
            [(day, amount)],
            "re-infection",
        )
        return values, forcing._replace(reinfection_days=days, reinfection_inoculum=amounts)


Intervention = (
    NoInfection
    | IL6Knockout
    | AntiIL6
    | CD4Depletion
    | CD8Depletion
    | Vaccination
    | Antiviral
    | Reinfection
)


def apply_interventions(
    values: Mapping[str, float], interventions: Iterable[Intervention]
) -> tuple[Values, Forcing]:
    """Apply interventions in order to parameter values, starting from an untreated forcing.

    Parameters
    ----------
    values : mapping of str to float
        Parameter values by name (``ParameterSet.values()``); not changed.
    interventions : iterable of interventions
        :class:`NoInfection`, :class:`IL6Knockout`, :class:`AntiIL6`, :class:`CD4Depletion`,
        :class:`CD8Depletion`, :class:`Vaccination`, :class:`Antiviral` or
        :class:`Reinfection`, applied in order (schedules add up).

    Returns
    -------
    values : dict of str to float
        The parameter values after the interventions.
    forcing : Forcing
        The arm's inputs after the interventions (:func:`no_forcing` if there are none).

    Raises
    ------
    InputError
        If an intervention is impossible: a negative day, a fraction outside [0, 1], more than
        ``MAX_EVENTS`` doses or re-inoculations in the arm, ...
    KeyError
        If :class:`Vaccination`, or :class:`Reinfection` without an inoculum, needs a value
        that ``values`` lacks.

    Examples
    --------
    >>> from reawaken.model import AntiIL6, CD4Depletion, apply_interventions, parameter_set
    >>> values = parameter_set("mouse-influenza").values()
    >>> schedule = [AntiIL6.every(10.0, first_day=0.0, interval=3.0, n=5), CD4Depletion(7.0)]
    >>> new_values, forcing = apply_interventions(values, schedule)
    >>> new_values == values
    True
    >>> forcing.dose_days[:5].tolist(), float(forcing.cd4_depletion_start)
    ([0.0, 3.0, 6.0, 9.0, 12.0], 7.0)
    """
    out: Values = dict(values)
    forcing = no_forcing()
    for intervention in interventions:
        out, forcing = intervention.apply(out, forcing)
    return out, forcing
