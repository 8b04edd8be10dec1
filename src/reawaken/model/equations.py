"""The within-host vector field: infection, IL-6, dormant-cell awakening and T-cell control.

Pure function of time, state, parameters and forcing; written against an array module ``xp``
(``jax.numpy`` for diffrax solves and the compiled engine, ``numpy`` for scipy's ``solve_ivp``
and the stochastic mode, symbols for the SBML export) so one definition serves every solver.
States are named (:class:`~reawaken.model.states.ModelState`): :func:`vector_field` takes one
and returns the derivatives as another, reading and building them by name; parameters are read
by name too. Array solvers use :func:`array_field` and :func:`initial_array`. Time is in days.

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

from reawaken.model.forcing import INPUT_DURATION_D, Forcing
from reawaken.model.parameters import PARAMETER_INDEX
from reawaken.model.states import ModelState, as_array, as_state

INFECTION_FLOOR = 1e-2
"""Cells + TCID50/mL (E + I + V) below which the infection fluxes fade out: a hundredth of a
cell, so no biology is lost; see the module docstring."""

_P = PARAMETER_INDEX


def _pulse(t: Any, starts: Any, amounts: Any, xp: ModuleType) -> Any:
    """Sum of constant inputs ``amount / INPUT_DURATION_D`` over ``[start, start + duration)``."""
    on = (t >= starts) & (t < starts + INPUT_DURATION_D)
    return xp.sum(xp.where(on, amounts, 0.0)) / INPUT_DURATION_D


def il6_signal(il6: Any, p: Any, xp: ModuleType = np) -> Any:
    """Saturating IL-6 signal in [0, 1) felt by DCCs at ``il6`` pg/mL (0 at or below baseline)."""
    excess = xp.maximum(il6 - p[_P["il6_baseline"]], 0.0)
    h = p[_P["awakening_hill"]]
    eh = excess**h
    return eh / (eh + p[_P["awakening_ec50"]] ** h)


def awakening_rate(il6: Any, p: Any, xp: ModuleType = np) -> Any:
    """Per-cell awakening rate (1/day) of dormant DCCs at IL-6 concentration ``il6`` (pg/mL)."""
    return p[_P["awakening_max"]] * il6_signal(il6, p, xp)


def dormancy_rate(il6: Any, p: Any, xp: ModuleType = np) -> Any:
    """Per-cell rate (1/day) at which awakened DCCs return to dormancy at ``il6`` (pg/mL)."""
    return p[_P["return_to_dormancy"]] * (1.0 - il6_signal(il6, p, xp))


class DCCRates(NamedTuple):
    """Per-cell rates (1/day) of the DCC processes at a host state, as :func:`dcc_rates`
    gives them.

    Parameters
    ----------
    awakening : float or array
        Dormant -> awake, per dormant cell: ``amax * s(IL-6)``.
    dormancy : float or array
        Awake -> dormant, per awake cell: ``r * (1 - s(IL-6))``.
    killing : float or array
        Killing by CD8+ T cells, shielded by CD4+ T cells, per awake cell.
    proliferation : float or array
        Division per awake cell at low density (the model multiplies it by the crowding
        factor ``1 - total / capacity``).

    Examples
    --------
    >>> from reawaken.model import dcc_rates, initial_state, no_forcing, parameter_set
    >>> p = parameter_set("mouse-influenza").vector()
    >>> rates = dcc_rates(initial_state(p, no_forcing()), p)
    >>> rates._fields
    ('awakening', 'dormancy', 'killing', 'proliferation')
    >>> float(rates.awakening)  # IL-6 at baseline wakes no cell
    0.0
    """

    awakening: Any
    dormancy: Any
    killing: Any
    proliferation: Any


def dcc_rates(y: ModelState, p: Any, xp: ModuleType = np) -> DCCRates:
    """The per-cell rates of the DCC processes driven by the host in state ``y``.

    Awakening and return to dormancy follow the IL-6 signal, killing the CD8+ T cells shielded
    by CD4+ T cells. The ODE (:func:`vector_field`) and the stochastic clones
    (:func:`reawaken.simulate.simulate_clones`) both use these rates.

    Parameters
    ----------
    y : ModelState
        The host's state (only ``il6``, ``cd8`` and ``cd4`` are read); numbers or arrays, for
        example a whole trajectory (``as_state(sol.ys[0].T)``).
    p : array
        Parameter vector in the order of ``PARAMETER_NAMES`` (``ParameterSet.vector()``).
    xp : module, default numpy
        The array module (``numpy`` or ``jax.numpy``).

    Returns
    -------
    DCCRates
        Awakening, return to dormancy, killing and proliferation rates (1/day), each the shape
        of ``y.il6``.

    Raises
    ------
    AttributeError
        If ``y`` is an array rather than a ModelState (:func:`as_state` names its rows).
    IndexError
        If ``p`` lacks a parameter the rates read (``il6_baseline``, the ``awakening_*`` ones,
        ``return_to_dormancy``, ``cd8_kill_dcc``, ``cd4_shield_half``, ``dcc_proliferation``) at
        its place in ``PARAMETER_NAMES``.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.model import dcc_rates, initial_state, no_forcing, parameter_set
    >>> ps = parameter_set("mouse-influenza")
    >>> p = ps.vector()
    >>> y = initial_state(p, no_forcing())
    >>> half = y._replace(il6=ps["il6_baseline"] + ps["awakening_ec50"])
    >>> rates = dcc_rates(half, p)  # IL-6 at its EC50 above baseline: half the maximum
    >>> bool(np.isclose(rates.awakening, ps["awakening_max"] / 2))
    True
    """
    shield = 1.0 / (1.0 + y.cd4 / p[_P["cd4_shield_half"]])
    return DCCRates(
        awakening=awakening_rate(y.il6, p, xp),
        dormancy=dormancy_rate(y.il6, p, xp),
        killing=p[_P["cd8_kill_dcc"]] * y.cd8 * shield,
        proliferation=p[_P["dcc_proliferation"]],
    )


def crowding(total: Any, p: Any) -> Any:
    """Logistic factor ``1 - total / capacity`` on proliferation for ``total`` DCCs (negative
    above the capacity)."""
    return 1.0 - total / p[_P["dcc_capacity"]]


def vector_field(t: Any, y: ModelState, p: Any, f: Forcing, xp: ModuleType = np) -> ModelState:
    """The model's right-hand side dy/dt, by named state (the equations are in this module's
    docstring).

    Parameters
    ----------
    t : float
        Time (days after the first infection).
    y : ModelState
        The state at ``t``: numbers, arrays (evaluated elementwise) or symbols.
    p : array
        Parameter vector in the order of ``PARAMETER_NAMES`` (``ParameterSet.vector()``).
    f : Forcing
        The arm's inputs (:func:`no_forcing`, or from :func:`apply_interventions`).
    xp : module, default numpy
        The array module (``numpy``, or ``jax.numpy`` to trace or differentiate it).

    Returns
    -------
    ModelState
        The time derivative of each state, in its unit per day.

    Raises
    ------
    AttributeError
        If ``y`` is an array rather than a ModelState: array solvers call :func:`array_field`.
    IndexError
        If ``p`` is shorter than ``PARAMETER_NAMES`` (the field reads every rate of the model).

    Examples
    --------
    >>> from reawaken.model import initial_state, no_forcing, parameter_set, vector_field
    >>> p = parameter_set("mouse-influenza").vector()
    >>> f = no_forcing()
    >>> dy = vector_field(0.0, initial_state(p, f), p, f)
    >>> float(dy.virus)  # the inoculum is cleared at 5.5 per day before cells produce virus
    -550.0
    >>> float(dy.il6), float(dy.dcc_awake)  # IL-6 at baseline: nothing moves yet
    (0.0, 0.0)
    """
    i = _P
    infectious = xp.maximum(y.virus, 0.0)
    presence = xp.maximum(y.eclipse + y.infected + y.virus, 0.0)
    gate = presence / (presence + INFECTION_FLOOR)
    infection = (
        gate
        * p[i["infectivity"]]
        * y.target
        * y.virus
        * infectious
        / (y.virus + p[i["infection_threshold"]])
    )
    killed_infected = gate * p[i["cd8_kill_infected"]] * y.cd8 * y.infected
    lost = gate * p[i["infected_death"]] * y.infected + killed_infected
    repaired = p[i["epithelial_repair"]] * y.damaged

    antiviral = xp.where(t >= f.antiviral_start, f.antiviral_efficacy, 0.0)
    inoculum = _pulse(t, f.reinfection_days, f.reinfection_inoculum, xp)
    dose = _pulse(t, f.dose_days, f.dose_mg_per_kg, xp)
    dep4 = xp.where(t >= f.cd4_depletion_start, p[i["depletion_rate"]], 0.0)
    dep8 = xp.where(t >= f.cd8_depletion_start, p[i["depletion_rate"]], 0.0)

    c6 = p[i["il6_clearance"]]
    il6_made = f.il6_production_scale * (
        c6 * p[i["il6_baseline"]]
        + p[i["il6_per_infected"]] * y.infected
        + p[i["il6_per_damaged"]] * y.damaged
    )
    dcc = dcc_rates(y, p, xp)
    awaken = dcc.awakening * y.dcc_dormant
    back = dcc.dormancy * y.dcc_awake
    growth = dcc.proliferation * y.dcc_awake * crowding(y.dcc_dormant + y.dcc_awake, p)
    killed_dcc = dcc.killing * y.dcc_awake
    antigen = y.infected / (y.infected + p[i["tcell_antigen_half"]])
    absorbed = p[i["antibody_absorption"]] * y.antibody_depot

    return ModelState(
        target=repaired - infection,
        eclipse=infection - gate * p[i["eclipse_rate"]] * y.eclipse,
        infected=gate * p[i["eclipse_rate"]] * y.eclipse - lost,
        damaged=lost - repaired,
        virus=p[i["virus_production"]] * (1.0 - antiviral) * y.infected
        - p[i["virus_clearance"]] * y.virus
        + inoculum,
        il6=il6_made - c6 * y.il6 - p[i["antibody_neutralisation"]] * y.antibody * y.il6,
        dcc_dormant=back - awaken,
        dcc_awake=awaken - back + growth - killed_dcc,
        cd8=p[i["cd8_expansion"]] * y.cd8 * antigen
        - p[i["cd8_contraction"]] * (y.cd8 - p[i["cd8_0"]])
        - dep8 * y.cd8,
        cd4=p[i["cd4_expansion"]] * y.cd4 * antigen
        - p[i["cd4_contraction"]] * (y.cd4 - p[i["cd4_0"]])
        - dep4 * y.cd4,
        antibody_depot=dose - absorbed,
        antibody=absorbed * 1000.0 / p[i["antibody_volume"]]
        - p[i["antibody_elimination"]] * y.antibody,
    )


def initial_state(p: Any, f: Forcing, xp: ModuleType = np) -> ModelState:
    """The state at day 0: infection with the inoculum, IL-6 at baseline (zero in a
    knockout), all DCCs dormant, T cells at baseline, no antibody.

    Parameters
    ----------
    p : array
        Parameter vector in the order of ``PARAMETER_NAMES``; or an array with the parameter
        along the first axis, for many individuals at once.
    f : Forcing
        The arm's inputs (its IL-6 production scale sets the IL-6 at day 0).
    xp : module, default numpy
        The array module.

    Returns
    -------
    ModelState
        Each state's value at day 0.

    Raises
    ------
    IndexError
        If ``p`` lacks a parameter of the day-0 values (``target_0``, ``virus_inoculum``,
        ``il6_baseline``, ``dcc_dormant_0``, ``cd8_0``, ``cd4_0``) at its place in
        ``PARAMETER_NAMES``.

    Examples
    --------
    >>> from reawaken.model import IL6Knockout, apply_interventions, initial_state
    >>> from reawaken.model import no_forcing, parameter_set
    >>> p = parameter_set("mouse-influenza").vector()
    >>> y0 = initial_state(p, no_forcing())
    >>> float(y0.virus), float(y0.il6), float(y0.dcc_dormant), float(y0.dcc_awake)
    (100.0, 5.0, 100.0, 0.0)
    >>> _, knockout = apply_interventions({}, [IL6Knockout()])
    >>> float(initial_state(p, knockout).il6)
    0.0
    """
    zero = 0.0 * p[_P["target_0"]]
    return ModelState(
        target=p[_P["target_0"]],
        eclipse=zero,
        infected=zero,
        damaged=zero,
        virus=p[_P["virus_inoculum"]],
        il6=f.il6_production_scale * p[_P["il6_baseline"]],
        dcc_dormant=p[_P["dcc_dormant_0"]],
        dcc_awake=zero,
        cd8=p[_P["cd8_0"]],
        cd4=p[_P["cd4_0"]],
        antibody_depot=zero,
        antibody=zero,
    )


def array_field(t: Any, y: Any, p: Any, f: Forcing, xp: ModuleType = np) -> Any:
    """:func:`vector_field` for solvers that work on arrays (scipy's ``solve_ivp``, diffrax).

    Parameters
    ----------
    t, p, f, xp
        As for :func:`vector_field`.
    y : array
        The states in the order of ``STATE_IDS`` along the first axis.

    Returns
    -------
    array
        dy/dt, the states in the order of ``STATE_IDS`` along the first axis.

    Raises
    ------
    TypeError
        If ``y`` does not have exactly one row per state.
    IndexError
        If ``p`` is shorter than ``PARAMETER_NAMES``.

    Examples
    --------
    With scipy (``rhs`` is what ``solve_ivp`` calls):

    >>> from scipy.integrate import solve_ivp
    >>> from reawaken.model import STATE_IDS, array_field, initial_array, no_forcing
    >>> from reawaken.model import parameter_set
    >>> p, f = parameter_set("mouse-influenza").vector(), no_forcing()
    >>> rhs = lambda t, y: array_field(t, y, p, f)
    >>> sol = solve_ivp(rhs, (0, 3), initial_array(p, f), method="LSODA", rtol=1e-8)
    >>> sol.y.shape[0] == len(STATE_IDS), bool(sol.y[STATE_IDS.index("il6"), -1] > 5.0)
    (True, True)
    """
    return as_array(vector_field(t, as_state(y), p, f, xp), xp)


def initial_array(p: Any, f: Forcing, xp: ModuleType = np) -> Any:
    """:func:`initial_state` as an array in the order of ``STATE_IDS`` (first axis).

    Parameters
    ----------
    p, f, xp
        As for :func:`initial_state` (``p`` may hold many individuals, the parameter along
        the first axis).

    Returns
    -------
    array
        Shape ``(len(STATE_IDS), ...)``: :func:`as_state` names its rows.

    Raises
    ------
    IndexError
        As for :func:`initial_state`: ``p`` lacks a parameter of the day-0 values.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.model import as_state, initial_array, initial_state, no_forcing
    >>> from reawaken.model import parameter_set
    >>> p = np.stack([parameter_set("mouse-influenza").vector()] * 3, axis=1)  # 3 individuals
    >>> y0 = initial_array(p, no_forcing())
    >>> y0.shape, as_state(y0).virus.tolist() == initial_state(p, no_forcing()).virus.tolist()
    ((12, 3), True)
    """
    return as_array(initial_state(p, f, xp), xp)
