"""The within-host vector field: infection, IL-6, dormant-cell awakening and T-cell control.

Pure function of time, state, parameters and forcing; written against an array module ``xp``
(``jax.numpy`` for diffrax solves, ``numpy`` for scipy's ``solve_ivp``) so one definition serves
every solver. Time is in days.

Processes
---------
Infection with an eclipse phase (Baccam et al. 2006, J Virol 80:7590)::

    dT/dt  = repair * Dm - beta * T * V * max(V, 0) / (V + Vth)
    dE/dt  = beta * T * V * max(V, 0) / (V + Vth) - k * E
    dI/dt  = k * E - delta * I - k8i * CD8 * I
    dDm/dt = delta * I + k8i * CD8 * I - repair * Dm          (T + E + I + Dm is conserved)
    dV/dt  = p * (1 - antiviral(t)) * I - c * V + inoculum(t)

The factor ``max(V, 0) / (V + Vth)`` (``Vth`` a titre below any inoculum) makes infection need
a minimal local virus density. It stands in for the discreteness of virions at very low titre
and keeps a cleared infection cleared once the epithelium repairs (without it the continuous
model regrows from vanishing titres, the "atto-fox" artefact of ODE epidemic models); the
``max`` keeps the sign right when the solver leaves a cleared titre slightly negative.

Every flux of the infection (infection, eclipse exit, death and killing of infected cells) is
multiplied by ``x / (x + INFECTION_FLOOR)``, ``x = E + I + V``: 1 to within 1% while at least one
infected cell or one TCID50/mL is left, fading to 0 once the infection is far below
that. It keeps the killing of the last fractions of a cell, at hundreds per day once CD8+ T
cells peak, from making the whole system stiff for weeks; the conservation of the epithelium
is untouched because each flux is gated on both of its sides.

IL-6, produced at a baseline and by infected cells and damaged epithelium, cleared fast
(half-life of the order of an hour, Jenner et al. 2021, PLoS Pathog 17:e1009753) and neutralised
by anti-IL-6 antibody::

    dL/dt = s6 * (c6 * L0 + s6i * I + s6d * Dm) - c6 * L - kn * Ab * L

with ``s6 = 0`` for IL-6 knockout. Awakening is driven by IL-6 above baseline, saturating
(Chia et al. 2025: IL-6 is needed for the early expansion)::

    s(L)  = S^h / (S^h + EC50^h),   S = max(L - L0, 0)       (IL-6 signal, 0..1)
    a(L)  = amax * s(L)                                       (awakening)
    b(L)  = r * (1 - s(L))                                    (return to dormancy)
    dD/dt = -a(L) * D + b(L) * A
    dA/dt =  a(L) * D - b(L) * A + rho * A * (1 - (D + A) / K) - kd * CD8 * A / (1 + CD4 / Ks)

IL-6 both wakes dormant cells and keeps awakened cells cycling; as it falls they return to
dormancy (at rate ``r`` without IL-6).

CD4+ T cells shield the awakened cells by suppressing CD8+ killing (the ``1 / (1 + CD4/Ks)``
factor). T cells expand on antigen (infected cells) and contract back to baseline; depletion
antibodies add a first-order loss from their start day::

    dCD8/dt = g8 * CD8 * I / (I + Ka) - d8 * (CD8 - CD8_0) - dep8(t) * CD8
    dCD4/dt = g4 * CD4 * I / (I + Ka) - d4 * (CD4 - CD4_0) - dep4(t) * CD4

Anti-IL-6 antibody: i.p. depot (mg/kg, doses given as one-hour inputs) absorbed into one
plasma compartment (ug/mL)::

    dAd/dt = dose(t) - ka * Ad
    dAb/dt = ka * Ad * 1000 / Vd - kel * Ab
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from reawaken.model.parameters import PARAMETER_INDEX

INPUT_DURATION_D = 1.0 / 24.0
"""Doses and re-inoculations enter as constant inputs over one hour (days)."""

INFECTION_FLOOR = 1e-2
"""Cells + TCID50/mL (E + I + V) below which the infection fluxes fade out: a hundredth of a
cell, so no biology is lost; see the module docstring."""

MAX_EVENTS = 8
"""Fixed length of the dose and re-infection arrays (padded), so arms vectorise."""


class Forcing(NamedTuple):
    """Time-dependent inputs of one experimental arm; arrays are padded to MAX_EVENTS.

    Attributes are plain arrays (numpy or jax), so a Forcing is a pytree.
    """

    il6_production_scale: Any  # 1 normally, 0 for IL-6 knockout
    dose_days: Any  # (MAX_EVENTS,) day each anti-IL-6 dose starts
    dose_mg_per_kg: Any  # (MAX_EVENTS,) dose size, 0 for padding
    cd4_depletion_start: Any  # day, +inf when none
    cd8_depletion_start: Any  # day, +inf when none
    antiviral_start: Any  # day, +inf when none
    antiviral_efficacy: Any  # fraction of virus production blocked, in [0, 1]
    reinfection_days: Any  # (MAX_EVENTS,) day of each re-inoculation
    reinfection_inoculum: Any  # (MAX_EVENTS,) TCID50/mL added, 0 for padding


def no_forcing() -> Forcing:
    """The forcing of an untreated animal."""
    zeros = np.zeros(MAX_EVENTS)
    return Forcing(
        il6_production_scale=np.float64(1.0),
        dose_days=zeros.copy(),
        dose_mg_per_kg=zeros.copy(),
        cd4_depletion_start=np.float64(np.inf),
        cd8_depletion_start=np.float64(np.inf),
        antiviral_start=np.float64(np.inf),
        antiviral_efficacy=np.float64(0.0),
        reinfection_days=zeros.copy(),
        reinfection_inoculum=zeros.copy(),
    )


def _pulse(t: Any, starts: Any, amounts: Any, xp: ModuleType) -> Any:
    """Sum of constant inputs ``amount / INPUT_DURATION_D`` over ``[start, start + duration)``."""
    on = (t >= starts) & (t < starts + INPUT_DURATION_D)
    return xp.sum(xp.where(on, amounts, 0.0)) / INPUT_DURATION_D


def il6_signal(il6: Any, p: Any, xp: ModuleType = np) -> Any:
    """Saturating IL-6 signal in [0, 1) felt by DCCs at ``il6`` pg/mL (0 at or below baseline)."""
    i = _P
    excess = xp.maximum(il6 - p[i["il6_baseline"]], 0.0)
    h = p[i["awakening_hill"]]
    eh = excess**h
    return eh / (eh + p[i["awakening_ec50"]] ** h)


def awakening_rate(il6: Any, p: Any, xp: ModuleType = np) -> Any:
    """Per-cell awakening rate (1/day) of dormant DCCs at IL-6 concentration ``il6`` (pg/mL)."""
    return p[_P["awakening_max"]] * il6_signal(il6, p, xp)


def dormancy_rate(il6: Any, p: Any, xp: ModuleType = np) -> Any:
    """Per-cell rate (1/day) at which awakened DCCs return to dormancy at ``il6`` (pg/mL)."""
    return p[_P["return_to_dormancy"]] * (1.0 - il6_signal(il6, p, xp))


def vector_field(t: Any, y: Any, p: Any, f: Forcing, xp: ModuleType = np) -> Any:
    """dy/dt for state ``y`` (order of ``STATE_IDS``) and parameter vector ``p``
    (order of ``PARAMETER_NAMES``) under forcing ``f``."""
    return xp.stack(derivatives(t, y, p, f, xp))


def derivatives(t: Any, y: Any, p: Any, f: Forcing, xp: ModuleType = np) -> list[Any]:
    """The terms of :func:`vector_field` as a list, one per state (``y`` may be a list too):
    solvers that work state by state avoid stacking and slicing."""
    i = _P
    target, eclipse, infected, damaged, virus, il6, dormant, awake, cd8, cd4, depot, ab = (
        y[k] for k in range(12)
    )
    infectious = xp.maximum(virus, 0.0)
    presence = xp.maximum(eclipse + infected + virus, 0.0)
    gate = presence / (presence + INFECTION_FLOOR)
    infection = (
        gate
        * p[i["infectivity"]]
        * target
        * virus
        * infectious
        / (virus + p[i["infection_threshold"]])
    )
    killed_infected = gate * p[i["cd8_kill_infected"]] * cd8 * infected
    lost = gate * p[i["infected_death"]] * infected + killed_infected
    repaired = p[i["epithelial_repair"]] * damaged

    antiviral = xp.where(t >= f.antiviral_start, f.antiviral_efficacy, 0.0)
    inoculum = _pulse(t, f.reinfection_days, f.reinfection_inoculum, xp)
    dose = _pulse(t, f.dose_days, f.dose_mg_per_kg, xp)
    dep4 = xp.where(t >= f.cd4_depletion_start, p[i["depletion_rate"]], 0.0)
    dep8 = xp.where(t >= f.cd8_depletion_start, p[i["depletion_rate"]], 0.0)

    c6 = p[i["il6_clearance"]]
    il6_made = f.il6_production_scale * (
        c6 * p[i["il6_baseline"]]
        + p[i["il6_per_infected"]] * infected
        + p[i["il6_per_damaged"]] * damaged
    )
    awaken = awakening_rate(il6, p, xp) * dormant
    back = dormancy_rate(il6, p, xp) * awake
    total = dormant + awake
    growth = p[i["dcc_proliferation"]] * awake * (1.0 - total / p[i["dcc_capacity"]])
    shield = 1.0 / (1.0 + cd4 / p[i["cd4_shield_half"]])
    killed_dcc = p[i["cd8_kill_dcc"]] * cd8 * shield * awake
    antigen = infected / (infected + p[i["tcell_antigen_half"]])
    absorbed = p[i["antibody_absorption"]] * depot

    return [
        repaired - infection,
        infection - gate * p[i["eclipse_rate"]] * eclipse,
        gate * p[i["eclipse_rate"]] * eclipse - lost,
        lost - repaired,
        p[i["virus_production"]] * (1.0 - antiviral) * infected
        - p[i["virus_clearance"]] * virus
        + inoculum,
        il6_made - c6 * il6 - p[i["antibody_neutralisation"]] * ab * il6,
        back - awaken,
        awaken - back + growth - killed_dcc,
        p[i["cd8_expansion"]] * cd8 * antigen
        - p[i["cd8_contraction"]] * (cd8 - p[i["cd8_0"]])
        - dep8 * cd8,
        p[i["cd4_expansion"]] * cd4 * antigen
        - p[i["cd4_contraction"]] * (cd4 - p[i["cd4_0"]])
        - dep4 * cd4,
        dose - absorbed,
        absorbed * 1000.0 / p[i["antibody_volume"]] - p[i["antibody_elimination"]] * ab,
    ]


def initial_state(p: Any, f: Forcing, xp: ModuleType = np) -> Any:
    """State at day 0: infection with the inoculum, IL-6 at baseline (zero in a knockout),
    all DCCs dormant, T cells at baseline, no antibody."""
    i = _P
    zero = 0.0 * p[i["target_0"]]
    return xp.stack(
        [
            p[i["target_0"]],
            zero,
            zero,
            zero,
            p[i["virus_inoculum"]],
            f.il6_production_scale * p[i["il6_baseline"]],
            p[i["dcc_dormant_0"]],
            zero,
            p[i["cd8_0"]],
            p[i["cd4_0"]],
            zero,
            zero,
        ]
    )


_P = PARAMETER_INDEX
