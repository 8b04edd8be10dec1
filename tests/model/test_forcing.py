"""The forcing is defined once: the untreated forcing, the all-on forcing, the switch days and
their most, and the engine's flat layout all follow the annotations of ``Forcing``."""

from __future__ import annotations

import math

import numpy as np

from reawaken.model.forcing import (
    INPUT_DURATION_D,
    INPUTS,
    MAX_EVENTS,
    MAX_SWITCHES,
    Forcing,
    PulseAmounts,
    PulseDays,
    StartDay,
    every_input_on,
    flatten,
    layout,
    no_forcing,
    switch_days,
)
from reawaken.model.interventions import (
    AntiIL6,
    Antiviral,
    CD4Depletion,
    CD8Depletion,
    Reinfection,
    apply_interventions,
)
from reawaken.model.parameters import parameter_set


def test_every_field_is_annotated_and_pulses_pair_with_their_amounts():
    assert tuple(INPUTS) == Forcing._fields
    for name, inp in INPUTS.items():
        if isinstance(inp, PulseDays):
            assert isinstance(INPUTS[inp.amounts], PulseAmounts), name


def test_untreated_forcing_switches_nowhere_and_all_on_everywhere():
    untreated = no_forcing()
    assert switch_days(untreated) == []
    assert untreated.il6_production_scale == 1.0 and untreated.antiviral_efficacy == 0.0
    assert all(
        math.isinf(getattr(untreated, n)) for n, i in INPUTS.items() if isinstance(i, StartDay)
    )
    on = every_input_on()
    assert np.all(np.asarray(on.dose_mg_per_kg) > 0) and np.all(on.reinfection_inoculum > 0)
    assert on.cd4_depletion_start == 0.0 and 0 < on.antiviral_efficacy < 1


def test_the_most_switch_days_is_what_a_full_schedule_gives():
    assert MAX_SWITCHES == 2 * 2 * MAX_EVENTS + 3
    values = parameter_set("mouse-influenza").values()
    full = [
        AntiIL6(tuple((1.0 + k, 1.0) for k in range(MAX_EVENTS))),
        *(Reinfection(20.5 + k) for k in range(MAX_EVENTS)),
        CD4Depletion(40.0),
        CD8Depletion(41.0),
        Antiviral(42.0, 0.5),
    ]
    _, forcing = apply_interventions(values, full)
    days = switch_days(forcing)
    assert len(days) == MAX_SWITCHES
    assert days[:2] == [1.0, 1.0 + INPUT_DURATION_D]


def test_flat_layout_follows_the_fields():
    sizes = layout()
    assert [name for name, _ in sizes] == list(Forcing._fields)
    flat = flatten(every_input_on())
    assert flat.size == sum(size or 1 for _, size in sizes)
    offset = 0
    for (name, size), value in zip(sizes, every_input_on(), strict=True):
        width = size or 1
        np.testing.assert_array_equal(flat[offset : offset + width], np.atleast_1d(value), name)
        offset += width
