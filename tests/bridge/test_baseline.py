"""The baseline hazards reproduce the published recurrence rates they were built from."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid

from reawaken.bridge.baseline import (
    LUNG_SHARE,
    PAN_RISKS,
    STAGE_GROUPS,
    STAGES,
    SUBTYPES,
    Profile,
    distant_hazard,
    lung_hazard,
    other_death_hazard,
    pan_check,
)
from reawaken.errors import InputError


def test_fitted_pan_risks_are_within_10_percent_of_the_published_ones():
    table = pan_check()
    assert len(table) == len(PAN_RISKS) == 6
    assert (table["relative_difference"].abs() < 0.10).all(), table


@pytest.mark.parametrize("stage", STAGES)
def test_15_year_distant_recurrence_from_year_5_matches_the_mapped_groups(stage):
    # Integrate the hazard of an HR+ survivor over years 5-20 since diagnosis (trapezoid on a
    # fine grid; the hazard is constant there, so the integral is exact to rounding).
    years = np.linspace(5.0, 20.0, 15_001)
    cumulative = trapezoid(distant_hazard(stage, "hr+her2-", years), years)
    risk = -np.expm1(-cumulative)
    published = np.mean([PAN_RISKS[group] for group in STAGE_GROUPS[stage]])
    assert risk == pytest.approx(published, rel=0.10)


def test_stage_risks_rise_with_stage():
    risks = [float(distant_hazard(s, "hr+her2-", 10.0)) for s in STAGES]
    assert risks == sorted(risks) and len(set(risks)) == 3


@pytest.mark.parametrize("subtype", SUBTYPES)
def test_lung_hazard_is_the_distant_hazard_times_the_lung_share(subtype):
    stages = np.array(["I", "II", "III", "II"])
    years = np.array([0.5, 4.9, 5.0, 12.0])
    lung = lung_hazard(stages, np.full(4, subtype), years)
    distant = distant_hazard(stages, np.full(4, subtype), years)
    np.testing.assert_allclose(lung, distant * LUNG_SHARE[subtype], rtol=1e-15)
    assert (lung > 0).all() and (lung < distant).all()


def test_early_years_carry_more_hazard_for_hr_negative_and_less_later():
    early_neg, late_neg = distant_hazard("II", "triple-negative", [2.0, 8.0])
    early_pos, late_pos = distant_hazard("II", "hr+her2-", [2.0, 8.0])
    assert early_neg > early_pos and late_neg < late_pos
    assert early_pos > late_pos  # the hazard steps down at 5 years since diagnosis


def test_other_cause_death_rises_with_age():
    h = other_death_hazard(np.array([40.0, 60.0, 80.0]))
    assert (np.diff(h) > 0).all() and (h > 0).all() and h[-1] < 1.0


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ((10, "II", "hr+her2-", 6), "age"),
        ((62, "IV", "hr+her2-", 6), "stage"),
        ((62, "II", "x", 6), "subtype"),
        ((62, "II", "hr+her2-", 40), "years_since_diagnosis"),
        ((float("nan"), "II", "hr+her2-", 6), "age"),
    ],
)
def test_profile_refuses_out_of_range_values_naming_the_field(fields, named):
    with pytest.raises(InputError, match=named):
        Profile(*fields)
