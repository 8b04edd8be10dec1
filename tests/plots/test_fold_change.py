"""What a reader of the fold-change figure needs: the day axis's change of scale marked on the
axis, the shaded band named in the legend, and for ensembles one panel per arm with ``n`` in the
legend (six overlapping bands on one axes blur into one wash)."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from reawaken.plots import file_axes, plot_fold_change, plot_fold_change_panels
from reawaken.plots.dcc import BREAK_ID, LINEAR_TO

DAYS = [0.0, 3.0, 15.0, 28.0, 60.0, 270.0]


def _curves(arms, bands=True):
    day = np.array(DAYS)
    frames = []
    for k, arm in enumerate(arms):
        fold = np.ones_like(day) if k == 0 else 1 + day * 10.0 * k
        frame = pd.DataFrame({"arm": arm, "day": day, "fold_vs_mock": fold})
        if bands:
            frame["fold_vs_mock_q05"] = fold / 3
            frame["fold_vs_mock_q95"] = fold * 3
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _breaks(ax):
    return [t for t in ax.texts if t.get_gid() == BREAK_ID]


def test_the_change_of_scale_is_marked_on_the_day_axis():
    ax = plot_fold_change(_curves(["sham", "flu"], bands=False), ax=file_axes(8, 5), days=DAYS)
    (mark,) = _breaks(ax)
    assert mark.get_position() == (LINEAR_TO, 0.0)  # at day 30, on the axis line
    assert ax.get_xscale() == "symlog"
    assert "linear to day 30, logarithmic after" in ax.get_xlabel()
    short = _curves(["sham", "flu"], bands=False)
    short = short[short["day"] <= 28]
    assert not _breaks(plot_fold_change(short, ax=file_axes(8, 5)))  # no change: no mark


def test_the_shaded_band_is_named_in_the_legend():
    curves = _curves(["sham", "flu"], bands=False)
    ax = plot_fold_change(curves, ax=file_axes(8, 5), reference_arm="sham", band=(100, 1000))
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["sham", "flu", "study: 100-1000x (reported range)"]
    (shade,) = ax.patches
    legend_patch = ax.get_legend().legend_handles[-1]
    assert mcolors.to_hex(legend_patch.get_facecolor()) == mcolors.to_hex(shade.get_facecolor())
    ax = plot_fold_change(curves, ax=file_axes(8, 5), band=(100, 1000),
                          band_label="study: 100-1000x by day 15")  # fmt: skip
    assert ax.get_legend().get_texts()[-1].get_text() == "study: 100-1000x by day 15"


def test_a_single_axes_ensemble_names_n_and_draws_each_bands_edges():
    curves = _curves(["sham", "flu", "flu+x"])
    ax = plot_fold_change(curves, ax=file_axes(8, 5), reference_arm="sham", n=200)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [
        "sham",
        "flu (n = 200, median and 5-95% band)",
        "flu+x (n = 200, median and 5-95% band)",
    ]
    edges = [line for line in ax.get_lines() if line.get_label() == "_band edge"]
    assert len(edges) == 4  # q05 and q95 of the two arms with a band
    summary = curves.assign(n=50)  # n read from the table when not given
    ax = plot_fold_change(curves, summary, ax=file_axes(8, 5), reference_arm="sham")
    assert "flu (n = 50, median and 5-95% band)" in [
        t.get_text() for t in ax.get_legend().get_texts()
    ]


ARMS = ["mock", "a", "b", "c", "d", "e", "f"]


def test_an_ensemble_gets_one_panel_per_arm_sharing_axes():
    colours = {arm: f"#{k:02x}3366" for k, arm in enumerate(ARMS)}
    fig = Figure(figsize=(11, 7))
    panels = plot_fold_change_panels(
        _curves(ARMS), figure=fig, colours=colours, days=DAYS, reference_arm="mock",
        band=(100, 1000), n=200, title="mouse: fold change",
    )  # fmt: skip
    assert [ax.get_title() for ax in panels] == ARMS[1:]
    assert all(ax.figure is fig for ax in panels) and len(fig.axes) == 6
    first = panels[0]
    assert all(ax.get_shared_x_axes().joined(first, ax) for ax in panels)
    assert all(ax.get_shared_y_axes().joined(first, ax) for ax in panels)
    for arm, ax in zip(ARMS[1:], panels, strict=True):
        drawn = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert [line.get_label() for line in drawn] == [
            f"{arm} (n = 200, median and 5-95% band)",
            "mock",
        ]
        assert mcolors.to_hex(drawn[0].get_color()) == colours[arm]
        assert drawn[1].get_linestyle() == "--"
        assert len(ax.collections) >= 1  # the arm's band
        assert len(_breaks(ax)) == 1 and len(ax.patches) == 1  # the break; the study's band
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == [
        *(f"{arm} (n = 200, median and 5-95% band)" for arm in ARMS[1:]),
        "mock",
        "study: 100-1000x (reported range)",
    ]
    assert legend.get_title().get_text() == "mouse: fold change"


def test_spare_cells_of_the_grid_are_hidden():
    fig = Figure(figsize=(11, 7))
    panels = plot_fold_change_panels(_curves(ARMS[:5]), figure=fig, reference_arm="mock")
    assert len(panels) == 4
    assert sum(ax.get_visible() for ax in fig.axes) == 4 and len(fig.axes) == 6


@pytest.mark.parametrize("draw", [plot_fold_change_panels])
def test_panels_check_their_columns_first(draw):
    with pytest.raises(KeyError, match="'fold_vs_mock'"):
        draw(_curves(ARMS).drop(columns="fold_vs_mock"), figure=Figure())


@pytest.mark.parametrize(("n", "inches"), [(4, (7.8, 4.4)), (0, (8.0, 5.0))])
def test_a_protocols_ensemble_is_drawn_in_panels_a_single_run_on_one_axes(tmp_path, n, inches):
    from matplotlib.image import imread

    from reawaken.experiments.outputs import simulate_protocol
    from reawaken.experiments.protocols import MOUSE_LUNG

    simulate_protocol(MOUSE_LUNG, tmp_path, arms=["influenza", "sars-cov-2"], n=n, seed=1)
    height, width, _ = imread(tmp_path / "dcc_fold_change.png").shape
    # two panels side by side (3.6 in each, the legend on top) at 150 dpi; or the one axes
    assert (width, height) == (round(inches[0] * 150), round(inches[1] * 150))
