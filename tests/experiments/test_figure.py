"""The fold-change figure draws what the protocol says: its arms' colours, its sampling days as
ticks, its reference arm dashed and its band; nothing of the mouse-lung protocol is built in."""

from __future__ import annotations

import inspect

import matplotlib.colors as mcolors
import pandas as pd

from reawaken.experiments.outputs import simulate_protocol
from reawaken.experiments.protocols import Arm, Protocol
from reawaken.model.interventions import NoInfection
from reawaken.plots import dcc, file_axes

RAT = Protocol(
    name="rat-lung",
    description="a protocol the figure has never heard of",
    days=(0.0, 2.0, 5.0, 12.0),
    arms=(
        Arm("sham", "mouse-influenza", (NoInfection(),), colour="#112233"),
        Arm("flu-b", "mouse-influenza", colour="#445566"),
    ),
    reference_arm="sham",
    fold_band=(3.0, 30.0),
)


def _figure(protocol: Protocol):
    curves = pd.DataFrame(
        {
            "arm": ["sham"] * 3 + ["flu-b"] * 3,
            "day": [0.0, 6.0, 12.0] * 2,
            "fold_vs_mock": [1.0, 1.0, 1.0, 1.0, 8.0, 20.0],
        }
    )
    return dcc.plot_fold_change(
        curves,
        ax=file_axes(4, 3),
        colours=protocol.colours,
        days=protocol.days,
        reference_arm=protocol.reference_arm,
        band=protocol.fold_band,
    )


def test_figure_takes_arms_days_reference_and_band_from_the_protocol():
    ax = _figure(RAT)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert mcolors.to_hex(lines["sham"].get_color()) == "#112233"
    assert mcolors.to_hex(lines["flu-b"].get_color()) == "#445566"
    assert lines["sham"].get_linestyle() == "--" and lines["flu-b"].get_linestyle() == "-"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "2", "5", "12"]
    assert list(ax.get_xticks()) == [0.0, 2.0, 5.0, 12.0]
    assert ax.get_ylabel() == "total DCCs, fold change vs sham"
    (band,) = ax.patches
    assert band.get_extents().height > 0


def test_figure_module_names_no_arm_of_any_protocol():
    source = inspect.getsource(dcc)
    for word in ("influenza", "sars-cov-2", "cd4", "270", "#7f7f7f"):
        assert word not in source


def test_a_protocol_of_its_own_runs_and_draws(tmp_path):
    out = simulate_protocol(RAT, tmp_path)
    assert {p.name for p in out.files} == {
        "summary.csv",
        "trajectories.csv",
        "dcc_fold_change.png",
        "run.json",
    }
    assert sorted(out.summary["day"].unique()) == [0.0, 2.0, 5.0, 12.0]
    assert (out.summary[out.summary["arm"] == "sham"]["fold_vs_mock"] == 1.0).all()
