"""Parameter values in messages are plain Python values, never numpy reprs."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.errors import InputError
from reawaken.model.parameters import check_value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (np.float64("nan"), "value nan is not finite"),
        (np.float64("inf"), "value inf is not finite"),
        (np.float64(-2.0), "value -2.0 is negative; parameters are non-negative"),
        ("abc", "value 'abc' is not a number"),
    ],
)
def test_check_value_shows_plain_values(value, reason):
    with pytest.raises(InputError) as info:
        check_value("dcc_proliferation", value)
    assert info.value.reason == reason
    assert info.value.column == "dcc_proliferation"
    assert "np." not in str(info.value)
