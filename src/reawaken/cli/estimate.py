"""``reawaken estimate``: run one design on the cohort store and write tidy tables and figures.

Writes into ``--out``: ``estimates.csv`` (the standard columns ``term, coef, se, ratio,
ci_lower, ci_upper, p_value`` plus ``design, outcome, exposure, kind, window, events,
person_years, evalue, evalue_ci``; counts under ``--min-cell`` suppressed), ``counts.csv``
(events and person-years per time-since-infection window), ``forest.png``, and for the
emulation and competing designs ``cif.csv`` and ``cif.png``; ``fit.json`` holds the settings,
the numbers of persons, notes and warnings (never silent about non-convergence).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import typer

from reawaken.cli import checks
from reawaken.cli.checks import option
from reawaken.epi.cohort_designs import EXPOSURES, OUTCOMES
from reawaken.epi.estimate import DESIGNS, DesignResult, run_design
from reawaken.epi.intervals import parse_windows
from reawaken.epi.outputs import DEFAULT_MIN_CELL, suppress_count, suppress_small_counts
from reawaken.epi.tables import ESTIMATE_COLUMNS
from reawaken.errors import ConvergenceWarning, InputError


def _save(ax, path: Path) -> None:
    ax.figure.tight_layout()
    ax.figure.savefig(path, format="png")


def _plots(result: DesignResult, out: Path) -> list[Path]:
    from reawaken.io import write_atomic
    from reawaken.plots import file_axes
    from reawaken.plots.forest import plot_forest
    from reawaken.plots.incidence import plot_cumulative_incidence

    written = []
    est = result.estimates
    main = est[(est["kind"] == "exposure") & (est["event"] == "outcome")]
    design = result.summary["design"]
    xlabel = {
        "sccs": "Relative incidence (95% CI)",
        "emulation": "Risk ratio (95% CI)",
    }.get(design, "Hazard ratio (95% CI)")
    label = "term" if design == "emulation" else "window"
    ax = file_axes(6, 1.2 + 0.45 * max(len(main), 1))
    plot_forest(
        main.assign(window=main["window"] + " days"),
        ax=ax,
        label=label,
        xlabel=xlabel,
        title=f"{result.summary['outcome']} after {result.summary['exposure']} ({design})",
    )
    written.append(write_atomic(out / "forest.png", lambda tmp: _save(ax, tmp)))
    if result.curves is not None:
        ax = file_axes(6, 4)
        plot_cumulative_incidence(
            result.curves,
            ax=ax,
            xlabel="Days since infection (time zero)" if design == "emulation" else "Days",
            title=f"Cumulative incidence of {result.summary['outcome']}",
        )
        written.append(write_atomic(out / "cif.png", lambda tmp: _save(ax, tmp)))
    return written


def write_outputs(result: DesignResult, out: Path, *, min_cell: int) -> list[Path]:
    """Suppress small counts and write the tables, figures and fit.json atomically."""
    from reawaken.io import write_csv_atomic, write_text_atomic

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
    for key in ("outcome_events", "competing_events"):
        summary[key] = suppress_count(summary[key], min_cell)
    written += _plots(result, out)
    written.append(
        write_text_atomic(json.dumps(summary, indent=2, default=str) + "\n", out / "fit.json")
    )
    return written


MAX_WINDOWS = 20  # one Cox term each; more leaves too few events per window to estimate


def _windows(text: str) -> tuple[tuple[float, float], ...]:
    windows = parse_windows(text)
    if len(windows) > MAX_WINDOWS:
        raise checks.Refused(f"{len(windows)} windows, more than {MAX_WINDOWS}")
    return windows


WINDOWS = checks.parsed(
    "days since infection a-b or >n, comma-separated, in order, not overlapping; "
    f"at most {MAX_WINDOWS} (one model term each)",
    _windows,
    bad=("", "x", "30-10", "0-30,20-40", ",".join(f"{d}-{d}" for d in range(MAX_WINDOWS + 1))),
    example="0-30,>30",
    metavar="WINDOWS",
)
# options that only some designs use: parameter name -> the designs that use it
APPLIES = {
    "windows": ("cox", "sccs", "competing"),
    "time_scale": ("cox", "competing"),
    "calendar_years": ("cox", "competing"),
    "controls": ("emulation",),
    "horizon": ("emulation",),
    "bootstrap": ("emulation",),
    "seed": ("emulation",),
}


def estimate(
    ctx: typer.Context,
    db: Path = option(checks.STORE_TO_READ, ..., "--db", help="Cohort store."),
    design: str = option(checks.choice(DESIGNS), ..., "--design", help="Design."),
    outcome: str = option(checks.choice(OUTCOMES), ..., "--outcome", help="Outcome."),
    exposure: str = option(checks.choice(EXPOSURES), ..., "--exposure", help="Infection."),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    windows: str = option(
        WINDOWS, "0-30,31-90,91-180,181-365,>365", "--windows", help="Time-since-infection windows."
    ),
    time_scale: str = option(
        checks.choice(("diagnosis", "calendar")),
        "diagnosis",
        "--time-scale",
        help="Time scale of the Cox models.",
    ),
    calendar_years: bool = checks.flag(
        "--calendar-years", help="Adjust the Cox models for calendar year (time-varying)."
    ),
    controls: int = option(
        checks.whole(1, 20, "beyond ~5 controls per case precision barely improves"),
        5,
        "--controls",
        help="Emulation: controls per case.",
    ),
    horizon: int = option(
        checks.whole(1, 3650), 365, "--horizon", help="Emulation: follow-up in days."
    ),
    bootstrap: int = option(
        checks.whole(0, 10_000, "each replicate refits the emulation"),
        200,
        "--bootstrap",
        help="Emulation: bootstrap replicates (0: no intervals).",
    ),
    seed: int = option(checks.SEED, 1, "--seed", help="Emulation: seed of matching and bootstrap."),
    min_cell: int = option(
        checks.MIN_CELL, DEFAULT_MIN_CELL, "--min-cell", help="Small-cell threshold."
    ),
    source: str = option(checks.NAME, None, "--source", help="Only this stored source."),
) -> None:
    """Estimate the effect of infection on an outcome with one design on the cohort store.

    \b
    Example:
      reawaken estimate --db cohort.duckdb --design cox --outcome lung_metastasis \\
        --exposure any --out est/
    """
    from reawaken.cohort.store import CohortStore

    checks.refuse_inapplicable(ctx, design, APPLIES, option="--design")
    if time_scale == "calendar" and calendar_years:
        raise InputError(
            "--calendar-years does not apply with --time-scale calendar: the time scale is "
            "already calendar time"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = run_design(
            CohortStore(db),
            design=design,
            outcome=outcome,
            exposure=exposure,
            windows=windows,  # the check gives the parsed windows
            time_scale=time_scale,
            calendar_years=calendar_years,
            controls=controls,
            horizon=horizon,
            bootstrap=bootstrap,
            seed=seed,
            source=source,
        )
    result.summary["warnings"] = [str(w.message) for w in caught]
    written = write_outputs(result, out, min_cell=min_cell)
    for message in result.summary["warnings"]:
        typer.echo(f"warning: {message}", err=True)
    for note in result.notes:
        typer.echo(f"note: {note}")
    main = result.estimates[result.estimates["kind"] == "exposure"]
    cols = ["event", "term", "window", "ratio", "ci_lower", "ci_upper", "evalue", "evalue_ci"]
    typer.echo(main[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    typer.echo("wrote " + ", ".join(str(p) for p in written))


def register(app: typer.Typer) -> None:
    """Attach the top-level ``estimate`` command."""
    app.command("estimate")(estimate)
