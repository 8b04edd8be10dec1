"""Named experiments as runnable protocols: arms (parameter set + interventions), sample days.

``mouse-lung`` reproduces the lung experiments of Chia et al. 2025 (Nature 645): MMTV-Her2 mice
with dormant DCCs infected intranasally at day 0, lungs counted at days 3, 6, 9, 15, 28, 60 and
270 (9 months). Fold changes are taken against the ``mock`` arm on the same day.

Schedules that the paper's text does not fix are assumptions, stated on each arm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reawaken.errors import InputError
from reawaken.model.interventions import (
    AntiIL6,
    CD4Depletion,
    CD8Depletion,
    IL6Knockout,
    Intervention,
    NoInfection,
)

DEPLETION_START_DAY = 7.0
"""Depleting antibodies start at day 7 (assumed): after the viral peak, so that the early
awakening is untouched and CD8-depleted mice still control the virus, as the late role of CD4+
T cells in the study implies."""


@dataclass(frozen=True)
class Arm:
    """One group of animals of an experiment: a parameter set and the interventions applied
    to it.

    Nothing is checked here: an unknown parameter set or an impossible intervention is reported
    when the arm is run (:func:`arm_inputs`).

    Parameters
    ----------
    name : str
        The arm's name, unique in its protocol (the ``arm`` column of the tables).
    parameter_set : str
        One of ``reawaken.model.PARAMETER_SET_NAMES``.
    interventions : tuple of interventions, default ()
        Applied in order (``reawaken.model.AntiIL6``, ``CD4Depletion``, ...).
    description : str, default ""
        What the arm is, with any assumption it makes.
    colour : str, optional
        The colour of its line in figures (matplotlib's cycle when None).

    Examples
    --------
    >>> from reawaken.experiments import Arm
    >>> from reawaken.model import AntiIL6
    >>> late = Arm("influenza+late_anti_il6", "mouse-influenza",
    ...            (AntiIL6.every(10.0, first_day=15.0, interval=3.0, n=5),),
    ...            "anti-IL-6 from day 15")
    >>> late.interventions[0].doses[0]
    (15.0, 10.0)
    """

    name: str
    parameter_set: str
    interventions: tuple[Intervention, ...] = ()
    description: str = ""
    colour: str | None = None


@dataclass(frozen=True)
class Protocol:
    """A named experiment: its arms and the days the lungs are sampled.

    Run it with :func:`run_protocol` (tables in memory) or :func:`simulate_protocol` (files
    and the figure). Nothing is checked at construction.

    Parameters
    ----------
    name : str
        The protocol's name.
    description : str
        What the experiment is.
    days : tuple of float
        The days the lungs are sampled (from 0, increasing); also the ticks of its figures.
    arms : tuple of Arm
        Its arms, with unique names.
    reference_arm : str, default "mock"
        The arm fold changes are taken against.
    notes : tuple of str, default ()
        Remarks on the protocol.
    fold_band : (float, float), optional
        A range of fold changes its figure shades (the study's reported range).
    fold_band_label : str, optional
        What the shaded band is, in the figure's legend (default: the range).

    Raises
    ------
    InputError
        From :meth:`arm`, for a name that is not one of its arms.

    Examples
    --------
    >>> from reawaken.experiments import Arm, Protocol
    >>> from reawaken.model import IL6Knockout, NoInfection
    >>> small = Protocol(
    ...     name="il6-check",
    ...     description="influenza with and without IL-6",
    ...     days=(0.0, 3.0, 15.0),
    ...     arms=(
    ...         Arm("mock", "mouse-influenza", (NoInfection(),)),
    ...         Arm("influenza", "mouse-influenza"),
    ...         Arm("influenza+il6_ko", "mouse-influenza", (IL6Knockout(),)),
    ...     ),
    ... )
    >>> small.arm_names
    ('mock', 'influenza', 'influenza+il6_ko')
    >>> small.arm("influenza").parameter_set
    'mouse-influenza'
    """

    name: str
    description: str
    days: tuple[float, ...]
    arms: tuple[Arm, ...]
    reference_arm: str = "mock"
    notes: tuple[str, ...] = field(default=())
    fold_band: tuple[float, float] | None = None
    fold_band_label: str | None = None

    def arm(self, name: str) -> Arm:
        """The arm called ``name``; any other name is an InputError listing the arms."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise InputError(
            f"protocol {self.name!r} has no arm {name!r} "
            f"(arms: {', '.join(a.name for a in self.arms)})"
        )

    @property
    def arm_names(self) -> tuple[str, ...]:
        """The arms' names, in order."""
        return tuple(a.name for a in self.arms)

    @property
    def colours(self) -> dict[str, str]:
        """Figure colour of each arm that has one."""
        return {a.name: a.colour for a in self.arms if a.colour is not None}


MOUSE_LUNG = Protocol(
    name="mouse-lung",
    description=(
        "Chia et al. 2025: sublethal influenza A/PR/8/34 or SARS-CoV-2 MA10 in MMTV-Her2 mice "
        "with dormant lung DCCs; IL-6 knockout, anti-IL-6, CD4 and CD4+CD8 depletion"
    ),
    days=(0.0, 3.0, 6.0, 9.0, 15.0, 28.0, 60.0, 270.0),
    arms=(
        Arm("mock", "mouse-influenza", (NoInfection(),), "mock infection (PBS)", "#7f7f7f"),
        Arm("influenza", "mouse-influenza", (), "influenza A/PR/8/34 at day 0", "#d62728"),
        Arm(
            "influenza+il6_ko",
            "mouse-influenza",
            (IL6Knockout(),),
            "influenza in IL-6-deficient mice",
            "#1f77b4",
        ),
        Arm(
            "influenza+anti_il6",
            "mouse-influenza",
            (AntiIL6.every(10.0, first_day=0.0, interval=3.0, n=5),),
            "anti-IL-6 10 mg/kg i.p. from the day of infection, every 3 days x5 (assumed)",
            "#17becf",
        ),
        Arm(
            "influenza+cd4_depleted",
            "mouse-influenza",
            (CD4Depletion(DEPLETION_START_DAY),),
            "anti-CD4 from day 7 (assumed)",
            "#ff7f0e",
        ),
        Arm(
            "influenza+cd4_cd8_depleted",
            "mouse-influenza",
            (CD4Depletion(DEPLETION_START_DAY), CD8Depletion(DEPLETION_START_DAY)),
            "anti-CD4 and anti-CD8 from day 7 (assumed)",
            "#9467bd",
        ),
        Arm("sars-cov-2", "mouse-sars-cov-2", (), "SARS-CoV-2 MA10 at day 0", "#2ca02c"),
    ),
    fold_band=(100.0, 1000.0),
    fold_band_label="study: 100-1000x by day 15 (Chia et al. 2025)",
)
"""The band shaded in its figure: 100-1000x by day 15, as the study reports."""

PROTOCOLS: dict[str, Protocol] = {MOUSE_LUNG.name: MOUSE_LUNG}


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name`` (one of ``PROTOCOLS``).

    Parameters
    ----------
    name : str
        The protocol's name (``"mouse-lung"``).

    Returns
    -------
    Protocol
        Its arms (each a parameter set and interventions), sampling days, reference arm and
        the band of fold changes the study reports.

    Raises
    ------
    InputError
        If ``name`` is not a key of ``PROTOCOLS``; the message lists the keys.

    Examples
    --------
    >>> from reawaken.experiments import get_protocol
    >>> lung = get_protocol("mouse-lung")
    >>> lung.days
    (0.0, 3.0, 6.0, 9.0, 15.0, 28.0, 60.0, 270.0)
    >>> lung.arm_names[:3]
    ('mock', 'influenza', 'influenza+il6_ko')
    """
    if name not in PROTOCOLS:
        raise InputError(f"unknown protocol {name!r} (known: {', '.join(PROTOCOLS)})")
    return PROTOCOLS[name]
