"""Results as files: small-count suppression and atomic writing, one way for every caller.

``reawaken estimate``, the ``reawaken fit ...`` commands and the Python API
(``run_design(...).write(out)``, ``fit.write(out)``) write through these functions, so the files
are the same whichever way they were made.

Patient data leave the machine as aggregates only: a count from 1 to ``min_cell - 1`` (default
10, as UK Biobank and Flatiron require) is suppressed (an empty cell in a table, ``null`` in
``fit.json``); zero is kept, since it reveals no one. ``min_cell=0`` shows every count.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from reawaken.io import write_atomic, write_csv_atomic, write_text_atomic
from reawaken.suppression import (
    DEFAULT_MIN_CELL as DEFAULT_MIN_CELL,
)
from reawaken.suppression import is_small as is_small
from reawaken.suppression import suppress_count as suppress_count
from reawaken.suppression import suppress_small_counts as suppress_small_counts

if TYPE_CHECKING:
    from reawaken.epi.design import DesignResult, Figure

ESTIMATE_COLUMNS = ["term", "coef", "se", "ratio", "ci_lower", "ci_upper", "p_value"]
"""The standard columns of every estimates table, in this order."""
SUMMARY_COUNTS = ("outcome_events", "competing_events")
"""Counts of persons in a design's summary, suppressed in ``fit.json`` like table cells."""
FIT_COUNTS = ("events", "cases", "competing")
"""Counts of persons in the summaries of the fits a design made (``outcome_fit``, ``fit``, ...),
suppressed in ``fit.json`` too: otherwise a count blanked above could be read back here."""


def write_fit(
    out: str | Path,
    estimates: pd.DataFrame,
    summary: dict[str, Any],
    *,
    data: str | Path | None,
    terms: Sequence[str],
    warnings: Sequence[str] = (),
) -> list[Path]:
    """Write ``out/estimates.csv`` and ``out/fit.json`` (the fit summary plus its warnings, the
    data file and the terms) atomically; returns the paths written."""
    out = Path(out)
    summary = {**summary, "warnings": list(warnings)}
    summary["data"] = None if data is None else str(data)
    summary["terms"] = list(terms)
    return [
        write_csv_atomic(estimates, out / "estimates.csv"),
        write_text_atomic(json.dumps(summary, indent=2) + "\n", out / "fit.json"),
    ]


def _write_figure(figure: Figure, folder: Path) -> Path:
    from reawaken.plots import file_axes

    ax = file_axes(figure.width, figure.height)
    figure.draw(ax)

    def save(path: Path) -> None:
        ax.figure.tight_layout()
        ax.figure.savefig(path, format="png")

    return write_atomic(folder / figure.name, save)


def write_design(
    result: DesignResult, out: str | Path, *, min_cell: int = DEFAULT_MIN_CELL
) -> list[Path]:
    """Suppress small counts and write a design's tables, figures and ``fit.json`` into ``out``.

    Files: ``estimates.csv`` (``design, outcome, exposure, event, kind`` and the standard
    columns first), ``counts.csv``, ``cif.csv`` when the design has curves, the design's
    figures, and ``fit.json`` (the summary, notes and ``min_cell``). Returns the paths written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    count_cols = [c for c in ("events", "events_unexposed") if c in result.estimates]
    estimates = suppress_small_counts(result.estimates, count_cols, min_cell=min_cell)
    first = ["design", "outcome", "exposure", "event", "kind", *ESTIMATE_COLUMNS]
    estimates = estimates[first + [c for c in estimates.columns if c not in first]]
    counts = suppress_small_counts(result.counts, ["events"], min_cell=min_cell)
    written = [
        write_csv_atomic(estimates, out / "estimates.csv"),
        write_csv_atomic(counts, out / "counts.csv"),
    ]
    if result.curves is not None:
        written.append(write_csv_atomic(result.curves, out / "cif.csv"))
    summary = dict(result.summary, notes=result.notes, min_cell=min_cell)
    for key in SUMMARY_COUNTS:
        summary[key] = suppress_count(summary[key], min_cell)
    for key, value in summary.items():
        if isinstance(value, dict):  # a fit's own summary
            summary[key] = {
                k: suppress_count(v, min_cell) if k in FIT_COUNTS and isinstance(v, int) else v
                for k, v in value.items()
            }
    written += [_write_figure(figure, out) for figure in result.figures()]
    text = json.dumps(summary, indent=2, default=str) + "\n"
    written.append(write_text_atomic(text, out / "fit.json"))
    return written
