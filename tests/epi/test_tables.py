import math

import pandas as pd
import pytest

from reawaken.epi.outputs import suppress_small_counts
from reawaken.epi.tables import ESTIMATE_COLUMNS, estimates_table


def test_estimates_table_columns_and_values():
    table = estimates_table(["x"], [math.log(2.0)], [0.1])
    assert list(table.columns) == ESTIMATE_COLUMNS
    row = table.iloc[0]
    assert row["ratio"] == pytest.approx(2.0)
    assert row["ci_lower"] == pytest.approx(2.0 * math.exp(-1.959963984540054 * 0.1))
    assert row["ci_upper"] == pytest.approx(2.0 * math.exp(1.959963984540054 * 0.1))
    # z = log(2)/0.1 = 6.931..., two-sided p from the normal distribution
    assert row["p_value"] == pytest.approx(4.168e-12, rel=1e-3)


def test_suppress_small_counts_masks_one_to_nine_only():
    frame = pd.DataFrame({"group": list("abcd"), "n": [0, 3, 9, 10]})
    out = suppress_small_counts(frame, ["n"])
    assert out["n"].isna().tolist() == [False, True, True, False]
    assert out["n"].iloc[0] == 0 and out["n"].iloc[3] == 10
    assert frame["n"].tolist() == [0, 3, 9, 10]  # input untouched
