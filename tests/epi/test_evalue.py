"""E-values against the published worked examples and the closed-form definitions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reawaken.epi.evalue import add_evalues, evalue, evalue_rr
from reawaken.errors import InputError


def test_published_example():
    # VanderWeele & Ding 2017, Ann Intern Med 167:268: RR 3.9 (95% CI 1.8 to 8.7) -> E-values
    # 7.2 for the estimate and 3.0 for the lower limit
    e = evalue(3.9, 1.8, 8.7)
    assert e.point == pytest.approx(3.9 + math.sqrt(3.9 * 2.9), rel=1e-12)
    assert e.point == pytest.approx(7.26, abs=0.005)
    assert e.ci == pytest.approx(3.0, rel=1e-12)  # 1.8 + sqrt(1.8 * 0.8) = 1.8 + 1.2


def test_table_values_and_protective_estimates():
    # RR 2 -> 3.41, RR 1.5 -> 2.37 (VanderWeele & Ding 2017, Table); RR 0.5 is RR 2 flipped
    np.testing.assert_allclose(evalue_rr([2.0, 1.5, 0.5]), [3.4142136, 2.3660254, 3.4142136])
    e = evalue(0.5, 0.3, 0.8)
    assert e.point == pytest.approx(2.0 + math.sqrt(2.0))
    assert e.ci == pytest.approx(1.25 + math.sqrt(1.25 * 0.25))  # upper limit 0.8 -> 1.25


def test_interval_containing_one_gives_one():
    assert evalue(1.44, 0.9, 2.3).ci == 1.0
    assert evalue(0.8, 0.5, 1.2).ci == 1.0
    assert evalue(1.0).point == 1.0 and evalue(1.0).ci is None


def test_common_outcome_conversions():
    hr = 2.0
    rr = (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))
    assert rr == pytest.approx(1.6125, abs=1e-4)
    assert evalue(hr, measure="HR", rare=False).point == pytest.approx(
        rr + math.sqrt(rr * (rr - 1))
    )
    assert evalue(hr, measure="HR", rare=True).point == pytest.approx(2 + math.sqrt(2))
    assert evalue(1.85, measure="OR", rare=False).point == pytest.approx(
        math.sqrt(1.85) + math.sqrt(math.sqrt(1.85) * (math.sqrt(1.85) - 1))
    )


@settings(max_examples=50, deadline=None)
@given(st.floats(min_value=1.0001, max_value=50.0))
def test_evalue_is_at_least_the_ratio_and_increasing(rr):
    e = evalue_rr(rr)
    assert e >= rr and evalue_rr(rr * 1.01) > e
    # the bias factor of a confounder with both associations equal to E explains RR exactly
    assert e * e / (2 * e - 1) == pytest.approx(rr, rel=1e-9)


def test_add_evalues_only_on_main_rows():
    table = pd.DataFrame(
        {
            "term": ["a", "b", "c", "d"],
            "ratio": [2.0, 1.2, 2.5, 1e-7],
            "ci_lower": [1.5, 0.9, 0.0, 0.0],
            "ci_upper": [2.6, 1.6, 12.0, np.inf],
        }
    )
    out = add_evalues(table, measure="HR", rows=[True, False, True, True])
    assert out["evalue"].iloc[0] == pytest.approx(2 + math.sqrt(2))
    assert out["evalue_ci"].iloc[0] == pytest.approx(1.5 + math.sqrt(1.5 * 0.5))
    assert np.isnan(out["evalue"].iloc[1])
    assert out["evalue"].iloc[2] == pytest.approx(2.5 + math.sqrt(2.5 * 1.5))
    assert out["evalue_ci"].iloc[2] == 1.0  # a lower limit of 0 cannot exclude 1
    assert np.isnan(out["evalue"].iloc[3])  # a diverging coefficient has no E-value


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((-1.0,), {}, "positive"),
        ((2.0, 2.5, 3.0), {}, "not inside"),
        ((2.0,), {"measure": "RD"}, "measure must be"),
    ],
)
def test_bad_input(args, kwargs, message):
    with pytest.raises(InputError, match=message):
        evalue(*args, **kwargs)
