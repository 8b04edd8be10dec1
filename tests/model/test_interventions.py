import math

import numpy as np
import pytest

from reawaken.errors import InputError
from reawaken.model.forcing import MAX_EVENTS, no_forcing, switch_days
from reawaken.model.interventions import (
    AntiIL6,
    Antiviral,
    CD4Depletion,
    CD8Depletion,
    IL6Knockout,
    NoInfection,
    Reinfection,
    Vaccination,
    apply_interventions,
)
from reawaken.model.parameters import parameter_set

VALUES = parameter_set("mouse-influenza").values()


def test_interventions_compose_in_order():
    values, forcing = apply_interventions(
        VALUES,
        [
            IL6Knockout(),
            AntiIL6(((0.0, 10.0), (3.0, 5.0))),
            AntiIL6(((6.0, 2.5),)),
            CD4Depletion(7.0),
            CD8Depletion(9.0),
            Vaccination(infectivity_reduction=0.5, clearance_factor=2.0, cd8_memory_factor=3.0),
            Antiviral(start_day=2.0, efficacy=0.8),
            Reinfection(30.0, inoculum=50.0),
        ],
    )
    assert forcing.il6_production_scale == 0.0
    assert list(forcing.dose_days[:3]) == [0.0, 3.0, 6.0]
    assert list(forcing.dose_mg_per_kg[:3]) == [10.0, 5.0, 2.5]
    assert not forcing.dose_mg_per_kg[3:].any()
    assert forcing.cd4_depletion_start == 7.0 and forcing.cd8_depletion_start == 9.0
    assert forcing.antiviral_start == 2.0 and forcing.antiviral_efficacy == 0.8
    assert forcing.reinfection_days[0] == 30.0 and forcing.reinfection_inoculum[0] == 50.0
    assert values["infectivity"] == pytest.approx(VALUES["infectivity"] * 0.5)
    assert values["virus_clearance"] == pytest.approx(VALUES["virus_clearance"] * 2.0)
    assert values["cd8_0"] == pytest.approx(VALUES["cd8_0"] * 3.0)
    assert VALUES == parameter_set("mouse-influenza").values()  # inputs untouched


def test_mock_removes_the_inoculum_and_untreated_forcing_is_neutral():
    values, forcing = apply_interventions(VALUES, [NoInfection()])
    assert values["virus_inoculum"] == 0.0
    base = no_forcing()
    assert forcing.il6_production_scale == 1.0 and math.isinf(forcing.cd4_depletion_start)
    assert switch_days(base) == []


def test_switch_days_lists_switches():
    _, forcing = apply_interventions(VALUES, [AntiIL6(((2.0, 1.0),)), CD4Depletion(5.0)])
    assert switch_days(forcing) == pytest.approx([2.0, 2.0 + 1 / 24, 5.0])


def test_every_builds_a_regular_schedule():
    assert AntiIL6.every(10.0, first_day=0.0, interval=3.0, n=3).doses == (
        (0.0, 10.0),
        (3.0, 10.0),
        (6.0, 10.0),
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: AntiIL6(()), "empty"),
        (lambda: AntiIL6(((-1.0, 10.0),)), "must be a finite number >= 0"),
        (lambda: AntiIL6(((1.0, 0.0),)), "must be a positive number"),
        (lambda: AntiIL6(((1.0, 5.0), (1.0, 5.0))), "same day"),
        (lambda: AntiIL6.every(1.0, 0.0, 0.0, 3), "interval > 0"),
    ],
)
def test_impossible_dose_schedules(make, message):
    with pytest.raises(InputError, match=message):
        make()


@pytest.mark.parametrize(
    "intervention, message",
    [
        (CD4Depletion(-2.0), "CD4 depletion: day -2.0"),
        (CD8Depletion(float("nan")), "CD8 depletion"),
        (Antiviral(start_day=1.0, efficacy=1.5), "between 0 and 1"),
        (Reinfection(0.0), "after the first infection"),
        (Reinfection(10.0, inoculum=-5.0), "positive"),
        (Vaccination(infectivity_reduction=2.0), "between 0 and 1"),
        (Vaccination(clearance_factor=0.5), "must be >= 1"),
        (AntiIL6(tuple((float(d), 1.0) for d in range(MAX_EVENTS + 1))), "at most"),
    ],
)
def test_impossible_interventions(intervention, message):
    with pytest.raises(InputError, match=message):
        apply_interventions(VALUES, [intervention])


def test_padding_keeps_fixed_shapes():
    _, forcing = apply_interventions(VALUES, [Reinfection(10.0)])
    assert np.asarray(forcing.reinfection_days).shape == (MAX_EVENTS,)
