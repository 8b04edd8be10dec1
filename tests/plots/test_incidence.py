"""What a reader of cumulative incidence curves needs: every curve starting from (0, 0), drawn
as steps, and the time axis saying from when its days are counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reawaken.epi.design import DesignResult, incidence_figure
from reawaken.plots import file_axes, plot_cumulative_incidence


def _curves():
    return pd.DataFrame(
        {
            "arm": ["infected"] * 4 + ["not infected"] * 3,
            "day": [1, 30, 90, 180, 0, 60, 180],
            "cif": [np.nan, 0.01, 0.02, 0.04, 0.0, 0.005, 0.01],  # day 1 hidden (small count)
            "ci_lower": [np.nan, 0.005, 0.01, 0.03, 0.0, 0.002, 0.006],
            "ci_upper": [np.nan, 0.02, 0.03, 0.05, 0.0, 0.008, 0.014],
        }
    )


def test_every_curve_starts_at_the_origin_and_steps():
    ax = plot_cumulative_incidence(_curves(), ax=file_axes(6, 4))
    infected, not_infected = ax.get_lines()
    assert infected.get_xydata().tolist() == [[0, 0], [30, 0.01], [90, 0.02], [180, 0.04]]
    # a curve that has its point at time 0 keeps it, once
    assert not_infected.get_xydata().tolist() == [[0, 0], [60, 0.005], [180, 0.01]]
    assert infected.get_drawstyle() == "steps-post"
    assert ax.get_xlim()[0] == 0 and ax.get_ylim()[0] <= 0
    band = ax.collections[0].get_paths()[0].vertices
    assert [0.0, 0.0] in band.tolist()  # the band starts at the origin too


def test_the_time_axis_names_its_origin():
    ax = plot_cumulative_incidence(
        _curves(), ax=file_axes(6, 4), time_label="Days since infection (time zero)"
    )
    assert ax.get_xlabel() == "Days since infection (time zero)"
    assert plot_cumulative_incidence(_curves(), ax=file_axes(6, 4)).get_xlabel() == "Days"


def _result(design):
    summary = {"design": design, "outcome": "lung_metastasis", "exposure": "any"}
    curves = _curves().assign(arm=lambda d: d["arm"].replace({"infected": "lung_metastasis"}))
    return DesignResult(None, pd.DataFrame(), pd.DataFrame(), curves, summary)


@pytest.mark.parametrize(
    ("design", "xlabel", "expected"),
    [
        ("emulation", "Days since infection (time zero)", "Days since infection (time zero)"),
        ("competing", "Days", "Days since diagnosis (or later start of follow-up)"),
        ("other", "Days", "Days"),
    ],
)
def test_each_designs_curves_say_from_when_days_count(design, xlabel, expected):
    figure = incidence_figure(_result(design), xlabel=xlabel)
    ax = figure.draw(file_axes(figure.width, figure.height))
    assert ax.get_xlabel() == expected
    assert [line.get_label() for line in ax.get_lines()] == ["Lung metastasis", "Not infected"]
    assert "_" not in ax.get_title() and ax.get_title().startswith("Cumulative incidence of")
    figure = incidence_figure(_result(design), time_label="Days since study entry")
    assert figure.draw(file_axes(6, 4)).get_xlabel() == "Days since study entry"
