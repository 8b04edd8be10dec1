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
    """One group of animals: a parameter set, the interventions applied to it, and the colour
    its line has in figures (matplotlib's cycle when ``None``)."""

    name: str
    parameter_set: str
    interventions: tuple[Intervention, ...] = ()
    description: str = ""
    colour: str | None = None


@dataclass(frozen=True)
class Protocol:
    """A named experiment: its arms, the days the lungs are sampled (also the ticks of its
    figures), the arm fold changes are taken against, and ``fold_band``, a range of fold
    changes that its figure shades (the study's reported range), if any."""

    name: str
    description: str
    days: tuple[float, ...]
    arms: tuple[Arm, ...]
    reference_arm: str = "mock"
    notes: tuple[str, ...] = field(default=())
    fold_band: tuple[float, float] | None = None

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise InputError(
            f"protocol {self.name!r} has no arm {name!r} "
            f"(arms: {', '.join(a.name for a in self.arms)})"
        )

    @property
    def arm_names(self) -> tuple[str, ...]:
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
)
"""The band shaded in its figure: 100-1000x by day 15, as the study reports."""

PROTOCOLS: dict[str, Protocol] = {MOUSE_LUNG.name: MOUSE_LUNG}


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise InputError(f"unknown protocol {name!r} (known: {', '.join(PROTOCOLS)})")
    return PROTOCOLS[name]
