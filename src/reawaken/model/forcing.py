"""The forcing: time-dependent inputs of one experimental arm (doses, depletion, antiviral,
re-inoculation, IL-6 knockout), defined once.

:class:`Forcing` is the one definition. Each field carries, in its annotation, what kind of
input it is (:class:`Level`, :class:`StartDay`, :class:`PulseDays`, :class:`PulseAmounts`)
and from that everything else derives: the untreated animal (:func:`no_forcing`), the forcing
with every input switched on that the solver engine samples its Jacobian pattern with
(:func:`every_input_on`), the days where the forcing switches (:func:`switch_days`, and their
most, :data:`MAX_SWITCHES`), and the flat layout the compiled engine receives
(:func:`layout`, :func:`flatten`). Adding an input is one annotated field here and its use in
the equations.

Days count from the (first) infection at day 0. Schedules (doses, re-inoculations) are arrays
padded to :data:`MAX_EVENTS` so that every arm has the same shapes; a padded event has amount 0.
A pulse enters as a constant input over :data:`INPUT_DURATION_D` from its day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, NamedTuple, get_type_hints

import numpy as np

INPUT_DURATION_D = 1.0 / 24.0
"""Doses and re-inoculations enter as constant inputs over one hour (days)."""

MAX_EVENTS = 8
"""Fixed length of the dose and re-infection arrays (padded), so arms vectorise."""

PATTERN_SPREAD_D = 9.0
"""With every input on (:func:`every_input_on`), a schedule's events spread over this many
days from its first."""


@dataclass(frozen=True)
class Level:
    """A constant level (a factor or a fraction): ``untreated`` normally, ``on`` when every
    input is switched on. Never switches in time."""

    description: str
    untreated: float
    on: float
    size: ClassVar[int | None] = None
    switches: ClassVar[int] = 0

    def untreated_value(self) -> Any:
        return np.float64(self.untreated)

    def on_value(self) -> Any:
        return np.float64(self.on)


@dataclass(frozen=True)
class StartDay(Level):
    """The day from which something acts: a level that is ``+inf`` (never) when untreated and
    day 0 when every input is on. One switch day."""

    untreated: float = math.inf
    on: float = 0.0
    switches: ClassVar[int] = 1


@dataclass(frozen=True)
class Schedule:
    """One array of a schedule of pulses, padded to ``MAX_EVENTS``: all zero when untreated
    (no pulse)."""

    description: str
    size: ClassVar[int | None] = MAX_EVENTS

    def untreated_value(self) -> Any:
        return np.zeros(MAX_EVENTS)


@dataclass(frozen=True)
class PulseDays(Schedule):
    """The start days of a schedule of one-hour pulses; ``amounts`` names the field with each
    pulse's amount. With every input on, the pulses start at ``first`` and spread evenly over
    ``PATTERN_SPREAD_D`` days."""

    amounts: str
    first: float = 0.0
    switches: ClassVar[int] = 0

    def on_value(self) -> Any:
        return np.linspace(0.0, PATTERN_SPREAD_D, MAX_EVENTS) + self.first


@dataclass(frozen=True)
class PulseAmounts(Schedule):
    """The amounts of a schedule's pulses (0 for padding; ``on`` in every pulse when every
    input is on). Two switch days (start and end) per pulse."""

    on: float
    switches: ClassVar[int] = 2 * MAX_EVENTS

    def on_value(self) -> Any:
        return np.full(MAX_EVENTS, self.on)


Input = Level | StartDay | PulseDays | PulseAmounts


class Forcing(NamedTuple):
    """Time-dependent inputs of one experimental arm; schedules are padded to ``MAX_EVENTS``.

    Made by :func:`no_forcing` (the untreated animal) and changed by interventions
    (:func:`~reawaken.model.interventions.apply_interventions`) rather than written by hand.
    Fields are plain arrays (numpy or jax), so a Forcing is a pytree. Days count from the
    first infection at day 0; each dose or re-inoculation enters over one hour from its day.

    Parameters
    ----------
    il6_production_scale : float
        1 normally, 0 for IL-6 knockout.
    dose_days, dose_mg_per_kg : array of shape (MAX_EVENTS,)
        Day each anti-IL-6 dose starts and its amount (mg/kg); padding has amount 0.
    cd4_depletion_start, cd8_depletion_start : float
        Day depleting anti-CD4 or anti-CD8 antibody starts (``inf``: never).
    antiviral_start : float
        Day the antiviral starts (``inf``: never).
    antiviral_efficacy : float
        Fraction of virus production the antiviral blocks, in [0, 1].
    reinfection_days, reinfection_inoculum : array of shape (MAX_EVENTS,)
        Day of each re-inoculation and the TCID50/mL it adds; padding has amount 0.

    Examples
    --------
    >>> from reawaken.model import AntiIL6, apply_interventions, no_forcing
    >>> f = no_forcing()
    >>> float(f.il6_production_scale), float(f.cd4_depletion_start)
    (1.0, inf)
    >>> _, treated = apply_interventions({}, [AntiIL6(((0.0, 10.0), (3.0, 10.0)))])
    >>> treated.dose_days[:3].tolist(), treated.dose_mg_per_kg[:3].tolist()
    ([0.0, 3.0, 0.0], [10.0, 10.0, 0.0])
    """

    il6_production_scale: Annotated[Any, Level("1 normally, 0 for IL-6 knockout", 1.0, 1.0)]
    dose_days: Annotated[Any, PulseDays("day each anti-IL-6 dose starts", "dose_mg_per_kg")]
    dose_mg_per_kg: Annotated[Any, PulseAmounts("anti-IL-6 dose (mg/kg), 0 for padding", 10.0)]
    cd4_depletion_start: Annotated[Any, StartDay("day anti-CD4 depletion starts, +inf if none")]
    cd8_depletion_start: Annotated[Any, StartDay("day anti-CD8 depletion starts, +inf if none")]
    antiviral_start: Annotated[Any, StartDay("day the antiviral starts, +inf if none")]
    antiviral_efficacy: Annotated[
        Any, Level("fraction of virus production blocked, in [0, 1]", 0.0, 0.5)
    ]
    reinfection_days: Annotated[
        Any,
        PulseDays("day of each re-inoculation", "reinfection_inoculum", first=0.5),
    ]
    reinfection_inoculum: Annotated[
        Any, PulseAmounts("TCID50/mL added by each re-inoculation, 0 for padding", 1e3)
    ]


INPUTS: dict[str, Input] = {
    name: hint.__metadata__[0]
    for name, hint in get_type_hints(Forcing, include_extras=True).items()
}
"""Each field of :class:`Forcing` and what kind of input it is, in field order."""

MAX_SWITCHES = sum(inp.switches for inp in INPUTS.values())
"""The most switch days one forcing can have (the length of padded switch-day arrays)."""


def no_forcing() -> Forcing:
    """The forcing of an untreated animal: no doses, no depletion, no antiviral, no
    re-infection, IL-6 made normally.

    Returns
    -------
    Forcing
        Every input at its untreated value (start days ``inf``, schedules empty).

    Raises
    ------
    None
        It takes no input, so there is nothing to reject.

    Examples
    --------
    >>> from reawaken.model import no_forcing
    >>> f = no_forcing()
    >>> float(f.antiviral_start), float(f.antiviral_efficacy), float(f.dose_mg_per_kg.sum())
    (inf, 0.0, 0.0)
    """
    return Forcing(**{name: inp.untreated_value() for name, inp in INPUTS.items()})


def every_input_on() -> Forcing:
    """Every input switched on from early days (each schedule full), for finding which
    derivatives of the model can ever be nonzero."""
    return Forcing(**{name: inp.on_value() for name, inp in INPUTS.items()})


def switch_days(forcing: Forcing) -> list[float]:
    """Days at which the forcing switches, sorted (for the solver's step control)."""
    days: set[float] = set()
    for name, inp in INPUTS.items():
        value = getattr(forcing, name)
        if isinstance(inp, PulseDays):
            amounts = np.asarray(getattr(forcing, inp.amounts))
            for day, amount in zip(np.asarray(value), amounts, strict=True):
                if amount > 0:
                    days.update((float(day), float(day) + INPUT_DURATION_D))
        elif isinstance(inp, StartDay) and math.isfinite(float(value)):
            days.add(float(value))
    return sorted(days)


def layout() -> list[tuple[str, int | None]]:
    """Each input's name and length (``None`` for a scalar), in the order of :func:`flatten`."""
    return [(name, inp.size) for name, inp in INPUTS.items()]


def flatten(forcing: Forcing) -> np.ndarray:
    """The forcing as one float64 vector: the inputs in field order, schedules in full."""
    return np.concatenate([np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in forcing])
