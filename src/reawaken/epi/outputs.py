"""Results as files: small-count suppression and atomic writing, one way for every caller.

``reawaken estimate``, the ``reawaken fit ...`` commands and the Python API
(``run_design(...).write(out)``, ``fit.write(out)``) write through these functions, so the files
are the same whichever way they were made. A run's folder is written as a whole
(:func:`reawaken.run_folder.write_run`): a folder holding an earlier run's files is refused
unless replacing them is asked for.

Patient data leave the machine as aggregates only: a count from 1 to ``min_cell - 1`` (default
10, as UK Biobank and Flatiron require) is suppressed (an empty cell in a table, ``null`` in
``fit.json``); zero is kept, since it reveals no one. ``min_cell=0`` shows every count. The
suppression holds across the files of a run (:mod:`reawaken.suppression` gives the rules),
:func:`publish_design` applies them to a design's result:

- events per window add up to the events in ``fit.json``: parts are hidden until what is hidden
  adds up to zero or at least ``min_cell`` (so ``total - shown windows`` is never small);
- an estimate whose events are hidden is hidden with them (ratio, interval, p-value, E-value,
  risks): a risk times the persons at risk, or a rate ratio times the reference rate times the
  window's person-time, would give the count back;
- the emulation's events by day 91, 183, 365 and by the end of follow-up are shown only where
  none or at least ``min_cell`` events separate them;
- cumulative incidence (``cif.csv`` and its figure) is reported only at times where at least
  ``min_cell`` events (or none) have accrued since the previous time reported, and not after
  the last such time; a curve without event counts to check this against is not written;
- a note that starts with a small count reads ``fewer than 10``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reawaken import __version__
from reawaken.epi.cohort_designs import competing_event_name
from reawaken.io import write_atomic, write_csv_atomic, write_text_atomic
from reawaken.run_folder import write_run
from reawaken.suppression import (
    DEFAULT_MIN_CELL as DEFAULT_MIN_CELL,
)
from reawaken.suppression import complement, shown_steps, suppress_note
from reawaken.suppression import is_small as is_small
from reawaken.suppression import suppress_count as suppress_count
from reawaken.suppression import suppress_small_counts as suppress_small_counts

if TYPE_CHECKING:
    from reawaken.epi.design import DesignResult, Figure

ESTIMATE_COLUMNS = ["term", "coef", "se", "ratio", "ci_lower", "ci_upper", "p_value"]
"""The standard columns of every estimates table, in this order."""
SUMMARY_COUNTS = ("outcome_events", "competing_events")
"""Counts of persons in a design's summary, suppressed in ``fit.json`` like table cells."""
PERSON_COUNTS = ("persons", "matched_cases", "matched_controls")
"""Counts of persons in a design's summary that are suppressed when small (the cohort, the
emulation's matched arms)."""
FIT_COUNTS = ("events", "cases", "competing")
"""Counts of persons in the summaries of the fits a design made (``outcome_fit``, ``fit``, ...),
suppressed in ``fit.json`` too: otherwise a count blanked above could be read back here."""
LABEL_COLUMNS = ("design", "outcome", "exposure", "event", "kind", "term", "window")
"""Columns of an estimates row that stay when its count is hidden (with ``person_years``)."""
COUNT_COLUMNS = ("events", "events_unexposed")
"""Count columns of an estimates table."""


FIT_TOTALS = (("n", ("events", "competing")), ("events", ("cases",)))
"""Counts of a fit's summary that are parts of another (with parts not shown: the censored,
the repeated events of a case): their remainder may not be small either."""


def suppress_fit_counts(summary: dict[str, Any], *, min_cell: int = DEFAULT_MIN_CELL) -> dict:
    """A fit's summary with its counts (``n`` and :data:`FIT_COUNTS`) suppressed, parts of a
    total (:data:`FIT_TOTALS`) with complementary suppression, and observed shares of the
    cases (``share_...``) hidden where they give a small count back."""
    out = dict(summary)
    counts = [k for k in ("n", *FIT_COUNTS) if isinstance(out.get(k), (int, np.integer))]
    for key in counts:
        out[key] = suppress_count(out[key], min_cell)
    for total, names in FIT_TOTALS:
        parts = [k for k in names if k in counts]
        if total in counts and parts and out[total] is not None:
            shown = complement([out[k] for k in parts], out[total], min_cell=min_cell)
            out.update(zip(parts, shown, strict=True))
    cases = summary.get("cases", summary.get("events"))
    return _shares(out, cases, min_cell) if isinstance(cases, (int, np.integer)) else out


def _shares(value: Any, cases: int, min_cell: int) -> Any:
    """Observed shares (keys ``share_...``, not limits or expectations) hidden where ``share x
    cases`` or its complement is a small count."""
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        observed = key.startswith("share_") and not any(w in key for w in ("limit", "expected"))
        if observed and isinstance(item, float) and np.isfinite(item):
            count = round(item * cases)
            item = None if is_small(count, min_cell) or is_small(cases - count, min_cell) else item
        out[key] = _shares(item, cases, min_cell)
    return out


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hexadecimal), read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance(data: str | Path | None) -> dict[str, Any]:
    """What a fit read and what read it, for ``fit.json``: the data file, its SHA-256 and the
    reawaken version."""
    return {
        "data": None if data is None else str(data),
        "data_sha256": None if data is None else file_sha256(data),
        "reawaken_version": __version__,
    }


def write_fit(
    out: str | Path,
    estimates: pd.DataFrame,
    summary: dict[str, Any],
    *,
    data: str | Path | None,
    terms: Sequence[str],
    warnings: Sequence[str] = (),
    min_cell: int = DEFAULT_MIN_CELL,
    record: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``out/estimates.csv`` and ``out/fit.json`` (the fit summary plus its warnings, the
    terms, :func:`provenance` and ``record``, e.g. the command that ran) atomically; returns
    the paths written. The summary's counts are suppressed (:func:`suppress_fit_counts`;
    ``min_cell=0`` shows them all)."""
    out = Path(out)
    summary = {**suppress_fit_counts(summary, min_cell=min_cell), "warnings": list(warnings)}
    prov = provenance(data)
    summary["data"], summary["data_sha256"] = prov["data"], prov["data_sha256"]
    summary["terms"] = list(terms)
    summary["reawaken_version"] = prov["reawaken_version"]
    summary.update(record or {})
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


# ----- what a design's result may show ------------------------------------------------------


def _hide(values: pd.Series, shown: Sequence[int | None]) -> pd.Series:
    """``values`` (Int64) with the entries that ``shown`` gives as None made NA."""
    keep = np.array([v is not None for v in shown], dtype=bool)
    return values.astype("Int64").where(keep)


def _summary_counts(summary: dict, min_cell: int) -> dict:
    """Counts of the summary suppressed; the outcome and competing events are parts of the
    persons (with the censored, not shown), so their remainder may not be small either."""
    out = dict(summary)
    for key in (*PERSON_COUNTS, *SUMMARY_COUNTS):
        if isinstance(out.get(key), (int, np.integer)):
            out[key] = suppress_count(out[key], min_cell)
    if all(isinstance(summary.get(k), (int, np.integer)) for k in ("persons", *SUMMARY_COUNTS)):
        parts = [out[k] for k in SUMMARY_COUNTS]
        shown = complement(parts, out["persons"], min_cell=min_cell)
        out.update(zip(SUMMARY_COUNTS, shown, strict=True))
    hidden = {summary[k] for k in SUMMARY_COUNTS if k in summary and out[k] is None}
    for key, value in out.items():
        if isinstance(value, dict) and any(k in value for k in FIT_COUNTS):  # a fit's summary
            fit = suppress_fit_counts(value, min_cell=min_cell)
            out[key] = {k: None if k in FIT_COUNTS and value[k] in hidden else v
                        for k, v in fit.items()}  # fmt: skip
    return out


def _window_counts(counts: pd.DataFrame, total: int | None, min_cell: int) -> pd.DataFrame:
    """``counts`` with its events suppressed: against ``total`` when they add up to it."""
    out = counts.copy()
    raw = [int(v) for v in counts["events"]]
    adds_up = total is not None and sum(raw) == total
    out["events"] = _hide(
        counts["events"], complement(raw, total if adds_up else None, min_cell=min_cell)
    )
    return out


def _by_window(estimates: pd.DataFrame, counts: pd.DataFrame) -> pd.Series:
    """The outcome rows' events as ``counts`` shows them (NA where counts hides them)."""
    shown = counts.set_index("window")["events"]
    rows = (estimates["event"] == "outcome") & estimates["window"].isin(list(shown.index))
    events = estimates["events"].astype("Int64").copy()
    events[rows] = estimates.loc[rows, "window"].map(shown).astype("Int64")
    return events


def _competing_rows(estimates: pd.DataFrame, total: int | None, min_cell: int) -> pd.Series:
    """Events of the competing event's rows, parts of the competing events (with the unexposed
    time's, not shown)."""
    events = estimates["events"].astype("Int64").copy()
    rows = (estimates["event"] == "competing") & events.notna()
    if rows.any():
        raw = [int(v) for v in events[rows]]
        events[rows] = _hide(events[rows], complement(raw, total, min_cell=min_cell))
    return events


def _emulation_events(
    result: DesignResult, counts: pd.DataFrame, min_cell: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """The emulation's events by day as they may be shown: the estimates' (by day 91, 183,
    365), the arms' totals in ``counts`` and, per arm, the days the curves may show."""
    fit = result.fits["outcome"]
    matched = fit.matched
    days = fit.risks["day"].to_numpy(dtype=np.int64)
    horizon = int(max(matched["time"].max(), days.max()))
    est, counts = result.estimates.copy(), counts.copy()
    counts["events"] = counts["events"].astype("Int64")
    curve_days: dict[str, np.ndarray] = {}
    for arm, name, column in ((1, "infected", "events"), (0, "not infected", "events_unexposed")):
        rows = matched[(matched["arm"] == arm)]
        cum = _cumulative(rows["time"], rows["status"] == 1, horizon)
        total_row = counts["window"] == name
        total = int(cum[-1])
        total_shown = suppress_count(total, min_cell) is not None
        counts.loc[total_row, "events"] = total if total_shown else pd.NA
        anchors = np.append(days, horizon + 1)
        fixed = [False] * len(days) + [total_shown]
        ok = shown_steps(np.append(cum[days], total), fixed, min_cell=min_cell)[: len(days)]
        # rows by day (the risks), then rows over the whole horizon (Fine-Gray): its total
        by_day = est["term"].astype(str).str.startswith("risk_ratio").to_numpy()
        shown = np.full(len(est), total_shown)
        shown[by_day] = ok
        est[column] = est[column].astype("Int64").where(shown)
        kept = np.zeros(horizon + 2, dtype=bool)
        kept[anchors[np.array([*ok, total_shown])]] = True
        curve_days[name] = np.array(
            shown_steps(np.append(cum, total), kept, min_cell=min_cell)[:-1]
        )
        curve_days[f"{name}/competing"] = np.array(
            shown_steps(
                _cumulative(rows["time"], rows["status"] == 2, horizon),
                [False] * (horizon + 1),
                min_cell=min_cell,
            )
        )
    return est, counts, curve_days


def _cumulative(time: pd.Series, hit: pd.Series, horizon: int) -> np.ndarray:
    """Events up to each day 0..horizon."""
    days = time.to_numpy(dtype=np.int64)[hit.to_numpy()]
    return np.cumsum(np.bincount(days, minlength=horizon + 1)[: horizon + 1])


def _emulation_curves(curves: pd.DataFrame, shown: dict[str, np.ndarray]) -> pd.DataFrame:
    out = curves.copy()
    day = out["day"].to_numpy(dtype=np.int64)
    cif = np.zeros(len(out), dtype=bool)
    competing = np.zeros(len(out), dtype=bool)
    for name in out["arm"].unique():
        rows = (out["arm"] == name).to_numpy()
        cif[rows] = shown[name][day[rows]]
        competing[rows] = shown[f"{name}/competing"][day[rows]]
    for column in ("cif", "ci_lower", "ci_upper"):
        out[column] = out[column].where(cif)
    if "competing_cif" in out:
        out["competing_cif"] = out["competing_cif"].where(competing)
    return out[cif | competing].reset_index(drop=True)


def _cause_curves(curves: pd.DataFrame, shown_totals: dict, min_cell: int) -> pd.DataFrame:
    """A cumulative incidence table by cause, with ``events`` (events of the row's cause up to
    its time): the rows whose steps may be shown, without ``events``."""
    out = curves.copy()
    keep = np.zeros(len(out), dtype=bool)
    for cause, rows in out.groupby("cause", sort=False).groups.items():
        part = out.loc[rows].sort_values("day" if "day" in out else "time")
        total = shown_totals.get(int(cause))
        cum = np.append(part["events"].to_numpy(dtype=np.int64), total or 0)
        ok = shown_steps(cum, [False] * len(part) + [total is not None], min_cell=min_cell)
        keep[out.index.get_indexer(part.index)] = ok[:-1]
    return out[keep].drop(columns="events").reset_index(drop=True)


def publish_curves(curves: pd.DataFrame, *, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
    """A cumulative incidence table by cause as it may leave the machine.

    ``curves`` has ``cause``, ``time`` (or ``day``), the curve columns and ``events`` (events
    of the row's cause up to its time, e.g. from
    :func:`reawaken.epi.cohort_designs.events_by_time`). Kept are the rows where no step
    from the previous row kept is made by 1 to ``min_cell - 1`` events (and none from the
    last row kept to the end of the data): the steps of the table, times a denominator, give
    no small count. ``events`` is dropped; ``min_cell=0`` keeps every row.
    """
    if min_cell <= 0:
        return curves.drop(columns="events").reset_index(drop=True)
    return _cause_curves(curves, {}, min_cell)


def _blank_hidden_rows(
    estimates: pd.DataFrame, original: pd.DataFrame, counts: pd.DataFrame
) -> pd.DataFrame:
    """Rows whose count is hidden (in the row, or the outcome's window in ``counts``) keep
    their labels, person-time and words (a status) only: every other number of the row is
    computed from the count."""
    hidden = np.zeros(len(estimates), dtype=bool)
    for column in COUNT_COLUMNS:
        if column in estimates:
            hidden |= (estimates[column].isna() & original[column].notna()).to_numpy()
    if "window" in estimates and {"window", "events"} <= set(counts):
        gone = set(counts.loc[counts["events"].isna(), "window"])
        outcome = estimates["event"] == "outcome" if "event" in estimates else True
        hidden |= (estimates["window"].isin(gone) & outcome).to_numpy()
    if not hidden.any():
        return estimates
    out = estimates.copy()
    for column in out.columns:
        numeric = pd.api.types.is_numeric_dtype(out[column])
        if numeric and column not in (*LABEL_COLUMNS, *COUNT_COLUMNS, "person_years"):
            out[column] = out[column].astype(float).where(~hidden)
    return out


def _hidden_windows(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """The windows (or terms) whose events ``after`` hides, each once."""
    if "events" not in before or "window" not in before:
        return []
    gone = (before["events"].notna() & after["events"].isna()).to_numpy()
    return list(dict.fromkeys(str(w) or str(t) for w, t in zip(
        before["window"][gone], before["term"][gone], strict=True)))  # fmt: skip


def publish_design(result: DesignResult, *, min_cell: int = DEFAULT_MIN_CELL) -> DesignResult:
    """The result as it may leave the machine: counts from 1 to ``min_cell - 1``, and every
    number they could be read back from, hidden.

    The rules are the module's (see its docstring); the tables, curves, summary and notes of
    the result returned are those :func:`write_design` writes, and its figures are drawn from
    them. ``min_cell=0`` returns the result with every count shown (and the competing event
    named).

    Parameters
    ----------
    result : DesignResult
        What a design produced (counts not suppressed).
    min_cell : int, default 10
        The smallest count shown.

    Returns
    -------
    DesignResult
        A copy with the counts (NA, ``None`` in the summary) and the statistics of hidden
        counts suppressed, curves coarsened, and a note on what was hidden.
    """
    summary = _summary_counts(dict(result.summary), min_cell)
    notes = [suppress_note(n, min_cell=min_cell) for n in result.notes]
    counts = result.counts.copy()
    curves = result.curves
    fit = result.fits.get("outcome")
    if hasattr(fit, "matched") and hasattr(fit, "risks"):  # an emulation: events by day
        estimates, counts, shown = _emulation_events(result, counts, min_cell)
        if curves is not None:
            curves = _emulation_curves(curves, shown)
    else:
        counts = _window_counts(counts, summary.get("outcome_events"), min_cell)
        estimates = result.estimates.copy()
        if "events" in estimates:
            estimates["events"] = _by_window(estimates, counts)
            estimates["events"] = _competing_rows(
                estimates, summary.get("competing_events"), min_cell
            )
    for column in COUNT_COLUMNS:
        if column in estimates:
            values = estimates[column].astype("Int64")
            estimates[column] = values.mask(is_small(values, min_cell))
    estimates = _blank_hidden_rows(estimates, result.estimates, counts)
    if curves is not None and "cause" in curves:
        if "arm" in curves:
            outcome = summary["outcome"]
            arm = np.where(curves["cause"] == 1, outcome, competing_event_name(outcome))
            curves = curves.assign(arm=arm)
        if "events" in curves:
            totals = {1: summary.get("outcome_events"), 2: summary.get("competing_events")}
            curves = _cause_curves(curves, totals, min_cell)
        elif min_cell > 0:
            curves = None
            notes.append(
                "cumulative incidence not written: its table holds no event counts, so its "
                "steps could not be kept from showing fewer than the minimum cell count"
            )
    hidden = _hidden_windows(result.estimates, estimates)
    if hidden:
        notes.append(
            f"events hidden (fewer than {min_cell}, or needed to keep such a count from being "
            f"derived from the totals), with their estimates: {', '.join(hidden)}"
        )
    return dataclasses.replace(
        result, estimates=estimates, counts=counts, curves=curves, summary=summary, notes=notes
    )


def write_design(
    result: DesignResult,
    out: str | Path,
    *,
    min_cell: int = DEFAULT_MIN_CELL,
    overwrite: bool = False,
) -> list[Path]:
    """Suppress small counts and write a design's tables, figures and ``fit.json`` into ``out``.

    What is written is :func:`publish_design`'s result. Files: ``estimates.csv`` (``design,
    outcome, exposure, event, kind`` and the standard columns first), ``counts.csv``,
    ``cif.csv`` when the design has curves, the design's figures, and ``fit.json`` (the
    summary, notes and ``min_cell``), written as a whole
    (:func:`reawaken.run_folder.write_run`: a folder holding an earlier run's files is
    refused unless ``overwrite``). Returns the paths written.
    """
    return write_published(
        publish_design(result, min_cell=min_cell), out, min_cell=min_cell, overwrite=overwrite
    )


def write_published(
    shown: DesignResult, out: str | Path, *, min_cell: int, overwrite: bool = False
) -> list[Path]:
    """Write a result that :func:`publish_design` returned (with this ``min_cell``) as
    :func:`write_design` does, for a caller that also shows it (the command prints what the
    files hold) without suppressing twice."""
    first = ["design", "outcome", "exposure", "event", "kind", *ESTIMATE_COLUMNS]
    estimates = shown.estimates
    estimates = estimates[first + [c for c in estimates.columns if c not in first]]
    summary = dict(shown.summary, notes=shown.notes, min_cell=min_cell)
    figures = [f for f in shown.figures() if not (shown.curves is None and f.name == "cif.png")]

    def write(folder: Path) -> list[Path]:
        written = [
            write_csv_atomic(estimates, folder / "estimates.csv"),
            write_csv_atomic(shown.counts, folder / "counts.csv"),
        ]
        if shown.curves is not None:
            written.append(write_csv_atomic(shown.curves, folder / "cif.csv"))
        written += [_write_figure(figure, folder) for figure in figures]
        text = json.dumps(summary, indent=2, default=str) + "\n"
        written.append(write_text_atomic(text, folder / "fit.json"))
        return written

    return write_run(out, write, overwrite=overwrite)
