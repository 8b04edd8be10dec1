"""Every plot function checks its columns before it draws: a missing one is a KeyError naming
it and the columns there are, and no figure is left behind."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from reawaken.plots import plot_cumulative_incidence, plot_fold_change, plot_forest

ESTIMATES = pd.DataFrame({"term": ["0-30"], "ratio": [1.5], "ci_lower": [1.1], "ci_upper": [2.0]})
CURVES = pd.DataFrame({"arm": ["a", "a"], "day": [0, 10], "cif": [0.0, 0.1]})
FOLDS = pd.DataFrame({"arm": ["mock", "mock"], "day": [0.0, 5.0], "fold_vs_mock": [1.0, 1.0]})


@pytest.mark.parametrize(
    ("draw", "message"),
    [
        (lambda: plot_forest(ESTIMATES.drop(columns="ci_upper")), "'ci_upper'"),
        (lambda: plot_forest(ESTIMATES, label="window"), "'window'"),
        (lambda: plot_cumulative_incidence(CURVES, group="cause", time="time"), "'cause', 'time'"),
        (lambda: plot_fold_change(FOLDS.drop(columns="day")), "curves has no column 'day'"),
        (lambda: plot_fold_change(FOLDS, FOLDS[["arm", "day"]]), "points has no column"),
    ],
)
def test_a_missing_column_is_named_before_anything_is_drawn(draw, message):
    before = plt.get_fignums()
    with pytest.raises(KeyError, match=message):
        draw()
    assert plt.get_fignums() == before


def test_the_band_columns_may_be_absent():
    ax = plot_cumulative_incidence(CURVES, lower=None, upper=None)
    assert [line.get_label() for line in ax.get_lines()] == ["a"]
    ax = plot_cumulative_incidence(CURVES)  # default band columns not in the frame: no band
    assert len(ax.collections) == 0
    plt.close("all")
