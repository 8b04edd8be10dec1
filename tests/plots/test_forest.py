"""What a reader of a forest plot needs: each row's numbers beside it, rows without a ratio
saying why, words instead of identifiers, and a figure that grows with its rows and cuts off
no label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from reawaken.epi.design import DesignResult, forest_figure
from reawaken.plots import file_axes, plot_forest, readable_label
from reawaken.plots.forest import FONT_SIZE, MAX_HEIGHT, ROW_HEIGHT, forest_height


def _rows(ax):
    """The text column's rows (below its heading), top row first."""
    return [t.get_text() for t in ax.texts[1:]]


def test_the_numbers_are_written_beside_each_row():
    est = pd.DataFrame(
        {
            "term": ["a", "b", "c", "d"],
            "ratio": [2.3104, np.nan, 0.5, 12.345],
            "ci_lower": [1.0912, np.nan, 0.25, 3.0],
            "ci_upper": [4.8231, np.nan, 0.99, 150.2],
            "events": pd.array([7, 0, 1, 30], dtype="Int64"),
        }
    )
    ax = plot_forest(est, ax=file_axes(7, 3), events="events")
    assert ax.texts[0].get_text() == "Hazard ratio (95% CI)"
    assert _rows(ax) == [
        "2.31 (1.09-4.82), 7 events",
        "not estimable",
        "0.50 (0.25-0.99), 1 event",
        "12.3 (3.00-150), 30 events",
    ]
    # each number sits on its row: same y as the row's tick
    ticks = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks(), strict=True))
    assert [t.get_position()[1] for t in ax.texts[1:]] == [ticks[k] for k in "abcd"]


def test_rows_without_a_ratio_say_why():
    est = pd.DataFrame(
        {
            "term": ["hidden", "flat", "failed", "flagged"],
            "ratio": [np.nan, np.nan, np.nan, 1.5],
            "ci_lower": [np.nan, np.nan, np.nan, 1.1],
            "ci_upper": [np.nan, np.nan, np.nan, 2.0],
            "events": pd.array([pd.NA, 0, 12, 40], dtype="Int64"),
            "status": ["estimated", "not estimable", "not converged", "not converged"],
        }
    )
    ax = plot_forest(est, ax=file_axes(7, 3), events="events")
    assert _rows(ax) == [
        "hidden (small count)",  # a count suppressed: its estimate went with it
        "not estimable",
        "not converged",
        "1.50 (1.10-2.00), 40 events [not converged]",
    ]
    assert len(ax.lines[0].get_xdata()) == 1  # only the one ratio is drawn


def test_without_events_no_counts_are_written_and_a_nan_row_is_not_estimable():
    est = pd.DataFrame(
        {"hr": [1.8, np.nan], "lo": [1.2, np.nan], "hi": [2.7, np.nan], "row": ["x", "y"]}
    )
    ax = plot_forest(
        est, ax=file_axes(7, 2), label="row", ratio="hr", lower="lo", upper="hi",
        xlabel="Hazard ratio of a diagnosed lung metastasis (95% of draws)",
    )  # fmt: skip
    assert ax.texts[0].get_text() == "Ratio (95% of draws)"  # a long axis label, shortened
    assert _rows(ax) == ["1.80 (1.20-2.70)", "not estimable"]
    assert not plot_forest(est, ax=file_axes(7, 2), label="row", ratio="hr", lower="lo",
                           upper="hi", numbers=False).texts  # fmt: skip


def test_a_missing_events_column_is_named():
    est = pd.DataFrame({"term": ["a"], "ratio": [1.0], "ci_lower": [0.5], "ci_upper": [2.0]})
    with pytest.raises(KeyError, match="'events'"):
        plot_forest(est, ax=file_axes(4, 2), events="events")


@pytest.mark.parametrize(
    ("identifier", "words"),
    [
        ("risk_ratio_91d", "Risk ratio at 91 days"),
        ("risk_difference_365d", "Risk difference at 365 days"),
        ("0-30", "0-30 days"),
        (">365", ">365 days"),
        ("stage_II", "Stage II"),
        ("stage_III", "Stage III"),
        ("age_per_10y", "Age (per 10 years)"),
        ("age10", "Age (per 10 years)"),
        ("any_0_30", "Any infection, 0-30 days"),
        ("sars-cov-2_gt365", "SARS-CoV-2, >365 days"),
        ("influenza_31_90", "Influenza, 31-90 days"),
        ("lung_metastasis", "Lung metastasis"),
        ("metastasis elsewhere or death", "Metastasis elsewhere or death"),
        ("0-30 days", "0-30 days"),
        (np.nan, ""),
    ],
)
def test_identifiers_read_as_words(identifier, words):
    assert readable_label(identifier) == words


def _result(terms, windows, label_design="emulation"):
    n = len(terms)
    est = pd.DataFrame(
        {
            "design": label_design,
            "outcome": "lung_metastasis",
            "exposure": "any",
            "event": "outcome",
            "kind": "exposure",
            "term": terms,
            "ratio": np.linspace(1.2, 2.0, n),
            "ci_lower": np.linspace(0.9, 1.5, n),
            "ci_upper": np.linspace(1.6, 2.7, n),
            "window": windows,
            "events": pd.array(np.arange(10, 10 + n), dtype="Int64"),
        }
    )
    summary = {"design": label_design, "outcome": "lung_metastasis", "exposure": "any"}
    return DesignResult(None, est, pd.DataFrame(), None, summary)


def test_the_design_forest_shows_words_numbers_and_a_readable_title():
    result = _result(["risk_ratio_91d", "risk_ratio_183d"], ["0-91", "0-183"])
    figure = forest_figure(result, xlabel="Risk ratio (95% CI)", label="term")
    ax = figure.draw(file_axes(figure.width, figure.height))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Risk ratio at 91 days", "Risk ratio at 183 days"]
    assert ax.get_title() == "Lung metastasis after any infection (target trial emulation)"
    assert not any("_" in text for text in [*labels, ax.get_title(), *_rows(ax)])
    assert _rows(ax) == ["1.20 (0.90-1.60), 10 events", "2.00 (1.50-2.70), 11 events"]
    windows = forest_figure(_result(["any_0_30"], ["0-30"], "cox"), xlabel="Hazard ratio")
    ax = windows.draw(file_axes(windows.width, windows.height))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0-30 days"]


def test_height_grows_with_rows_at_a_fixed_font_size_up_to_a_cap():
    heights = [forest_height(n) for n in (1, 3, 10, 30)]
    assert heights == sorted(heights) and len(set(heights)) == 4
    assert forest_height(10) - forest_height(3) == pytest.approx(7 * ROW_HEIGHT)
    assert forest_height(1000) == MAX_HEIGHT
    few = forest_figure(_result(["a"] * 3, ["0-30"] * 3), xlabel="HR")
    many = forest_figure(_result(["a"] * 20, ["0-30"] * 20), xlabel="HR")
    assert many.height - few.height == pytest.approx(17 * ROW_HEIGHT)
    sizes = set()
    for figure in (few, many):
        ax = figure.draw(file_axes(figure.width, figure.height))
        sizes |= {t.get_fontsize() for t in [*ax.get_yticklabels(), *ax.texts[1:]]}
    assert sizes == {FONT_SIZE}


def test_without_ax_the_figure_is_sized_to_its_rows():
    import matplotlib.pyplot as plt

    est = _result(["a"] * 12, ["0-30"] * 12).estimates
    ax = plot_forest(est)
    assert ax.figure.get_size_inches()[1] == pytest.approx(forest_height(12))
    plt.close(ax.figure)


def test_no_label_or_number_is_cut_off():
    terms = [f"influenza_{a}_{a + 29}" for a in range(0, 600, 30)] + ["age_per_10y"]
    result = _result(terms, ["0-30"] * len(terms), "competing")
    figure = forest_figure(result, xlabel="Subdistribution hazard ratio (95% CI)", label="term")
    ax = figure.draw(file_axes(figure.width, figure.height))
    fig = ax.figure
    fig.tight_layout()  # as the figure is written (reawaken.epi.outputs)
    renderer = FigureCanvasAgg(fig).get_renderer()
    box = fig.bbox
    texts = [*ax.get_yticklabels(), *ax.texts, ax.title, ax.xaxis.label]
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1, text.get_text()
        assert box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1, text.get_text()
    # the numbers do not run into the row labels or the axes
    assert min(t.get_window_extent(renderer).x0 for t in ax.texts) > ax.bbox.x1
