"""The vector field: invariants, the uninfected steady state, and closed-form awakening."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reawaken.model.equations import (
    array_field,
    awakening_rate,
    dormancy_rate,
    initial_array,
    initial_state,
    vector_field,
)
from reawaken.model.forcing import no_forcing
from reawaken.model.interventions import AntiIL6, CD4Depletion, Reinfection, apply_interventions
from reawaken.model.parameters import PARAMETER_NAMES, parameter_set
from reawaken.model.states import INDEX, N_STATES
from reawaken.simulate.ode import SolverSettings, solve

DAYS = (0.0, 1.0, 3.0, 6.0, 9.0, 15.0, 28.0, 60.0)
BASE = parameter_set("mouse-influenza")

# Parameters varied in the property tests, each over a factor range around the default.
VARIED = (
    "infectivity",
    "virus_production",
    "virus_clearance",
    "il6_per_infected",
    "awakening_max",
    "awakening_ec50",
    "return_to_dormancy",
    "dcc_proliferation",
    "cd8_kill_dcc",
    "cd8_kill_infected",
    "cd8_expansion",
    "epithelial_repair",
)


def _vector(values):
    return np.array([values[n] for n in PARAMETER_NAMES])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log_factors=st.lists(
        st.floats(min_value=-1.0, max_value=1.0), min_size=len(VARIED), max_size=len(VARIED)
    ),
    treated=st.booleans(),
)
def test_states_stay_non_negative_and_epithelium_is_conserved(log_factors, treated):
    values = BASE.values()
    for name, lf in zip(VARIED, log_factors, strict=True):
        values[name] *= 10.0**lf
    interventions = (
        [AntiIL6(((1.0, 10.0), (4.0, 10.0))), CD4Depletion(5.0), Reinfection(20.0)]
        if treated
        else []
    )
    values, forcing = apply_interventions(values, interventions)
    sol = solve(_vector(values), forcing, DAYS)
    assert sol.ok.all()
    ys = sol.ys[0]
    scale = np.maximum(np.abs(ys).max(axis=0), 1.0)
    assert (ys >= -1e-6 * scale).all(), "a state went negative"
    epithelium = ys[:, [INDEX[s] for s in ("target", "eclipse", "infected", "damaged")]].sum(1)
    np.testing.assert_allclose(epithelium, values["target_0"], rtol=1e-6)


def test_without_infection_dccs_stay_dormant():
    values = {**BASE.values(), "virus_inoculum": 0.0}
    sol = solve(_vector(values), no_forcing(), (0.0, 3.0, 15.0, 60.0, 270.0))
    ys = sol.ys[0]
    np.testing.assert_allclose(
        ys[:, INDEX["dcc_dormant"]] + ys[:, INDEX["dcc_awake"]],
        values["dcc_dormant_0"],
        rtol=1e-6,
    )
    assert np.abs(ys[:, INDEX["dcc_awake"]]).max() <= 1e-6


def test_vector_field_is_zero_at_the_uninfected_state():
    values = {**BASE.values(), "virus_inoculum": 0.0}
    p = _vector(values)
    y0 = initial_state(p, no_forcing())
    assert all(value == 0.0 for value in vector_field(0.0, y0, p, no_forcing()))


@pytest.mark.parametrize("il6", [20.0, 80.0, 400.0])
def test_awakening_with_clamped_il6_matches_closed_form(il6):
    """IL-6 held constant (no clearance, no production), no infection, no killing: dormant and
    awake cells follow the linear system d/dt (D, A) = [[-a, b], [a, rho - b]] (D, A) with
    a = amax s, b = r (1 - s), s = S / (S + EC50), while the population is far below capacity;
    its solution is written out with the eigenvalues."""
    values = {
        **BASE.values(),
        "virus_inoculum": 0.0,
        "il6_clearance": 0.0,
        "cd8_kill_dcc": 0.0,
        "dcc_capacity": 1e30,
    }
    p = _vector(values)
    forcing = no_forcing()._replace(il6_production_scale=np.float64(0.0))
    y0 = initial_array(p, forcing)
    y0[INDEX["il6"]] = il6
    days = np.array([0.0, 0.5, 1.0, 2.0, 4.0, 8.0])
    sol = solve(p, forcing, days, y0=y0, settings=SolverSettings(rtol=1e-10, atol=1e-10))

    excess = il6 - values["il6_baseline"]
    signal = excess / (excess + values["awakening_ec50"])  # Hill coefficient 1
    assert values["awakening_hill"] == 1.0
    a = values["awakening_max"] * signal
    r = values["return_to_dormancy"] * (1.0 - signal)  # b in the docstring
    rho, d0 = values["dcc_proliferation"], values["dcc_dormant_0"]
    assert float(awakening_rate(il6, p)) == pytest.approx(a)
    assert float(dormancy_rate(il6, p)) == pytest.approx(r)
    # eigenvalues of [[-a, r], [a, rho - r]]
    tr, det = rho - r - a, -a * (rho - r) - r * a
    disc = np.sqrt(tr**2 - 4 * det)
    l1, l2 = (tr + disc) / 2, (tr - disc) / 2
    # A(0) = 0, A'(0) = a * d0  =>  A(t) = a d0 (e^{l1 t} - e^{l2 t}) / (l1 - l2)
    awake = a * d0 * (np.exp(l1 * days) - np.exp(l2 * days)) / (l1 - l2)
    # D' = -a D + r A, D(0) = d0; D = (A' - (rho - r) A) / a
    awake_dot = a * d0 * (l1 * np.exp(l1 * days) - l2 * np.exp(l2 * days)) / (l1 - l2)
    dormant = (awake_dot - (rho - r) * awake) / a
    np.testing.assert_allclose(sol.ys[0][:, INDEX["dcc_awake"]], awake, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sol.ys[0][:, INDEX["dcc_dormant"]], dormant, rtol=1e-7)
    assert sol.ys[0][:, INDEX["il6"]] == pytest.approx(np.full(days.size, il6))


def test_state_vector_has_one_derivative_per_state():
    p = BASE.vector()
    dy = array_field(0.0, initial_array(p, no_forcing()), p, no_forcing())
    assert dy.shape == (N_STATES,)
