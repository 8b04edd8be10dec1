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

from reawaken.epi.estimate import DesignResult, run_design
from reawaken.epi.intervals import parse_windows
from reawaken.epi.tables import DEFAULT_MIN_CELL, ESTIMATE_COLUMNS, suppress_small_counts
from reawaken.errors import ConvergenceWarning, InputError


def _plots(result: DesignResult, out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

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
    fig, ax = plt.subplots(figsize=(6, 1.2 + 0.45 * max(len(main), 1)), dpi=150)
    plot_forest(
        main.assign(window=main["window"] + " days"),
        ax=ax,
        label=label,
        xlabel=xlabel,
        title=f"{result.summary['outcome']} after {result.summary['exposure']} ({design})",
    )
    fig.tight_layout()
    fig.savefig(out / "forest.png")
    plt.close(fig)
    written.append(out / "forest.png")
    if result.curves is not None:
        fig, ax = plt.subplots(figsize=(6, 4), dpi=150)
        plot_cumulative_incidence(
            result.curves,
            ax=ax,
            xlabel="Days since infection (time zero)" if design == "emulation" else "Days",
            title=f"Cumulative incidence of {result.summary['outcome']}",
        )
        fig.tight_layout()
        fig.savefig(out / "cif.png")
        plt.close(fig)
        written.append(out / "cif.png")
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
        n = summary[key]
        summary[key] = None if 0 < n < min_cell else n
    written += _plots(result, out)
    written.append(
        write_text_atomic(json.dumps(summary, indent=2, default=str) + "\n", out / "fit.json")
    )
    return written


def estimate(
    db: Path = typer.Option(..., "--db", help="Cohort store (DuckDB file)."),
    design: str = typer.Option(..., "--design", help="cox, sccs, emulation or competing."),
    outcome: str = typer.Option(
        ..., "--outcome", help="lung_metastasis, distant_metastasis or cancer_death."
    ),
    exposure: str = typer.Option(..., "--exposure", help="sars-cov-2, influenza or any."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    windows: str = typer.Option(
        "0-30,31-90,91-180,181-365,>365", "--windows", help="Time-since-infection windows (days)."
    ),
    time_scale: str = typer.Option(
        "diagnosis", "--time-scale", help="Cox time scale: diagnosis or calendar."
    ),
    calendar_years: bool = typer.Option(
        False, "--calendar-years", help="Adjust Cox for calendar year (time-varying)."
    ),
    controls: int = typer.Option(5, "--controls", help="Emulation: controls per case."),
    horizon: int = typer.Option(365, "--horizon", help="Emulation: follow-up in days."),
    bootstrap: int = typer.Option(200, "--bootstrap", help="Emulation: bootstrap replicates."),
    seed: int = typer.Option(1, "--seed", help="Emulation: seed of matching and bootstrap."),
    min_cell: int = typer.Option(
        DEFAULT_MIN_CELL, "--min-cell", help="Suppress counts below this (0 shows all)."
    ),
    source: str = typer.Option(None, "--source", help="Only this stored source."),
) -> None:
    """Estimate the effect of infection on an outcome with one design on the cohort store."""
    from reawaken.cohort.store import CohortStore

    if min_cell < 0:
        raise InputError(f"--min-cell must be 0 or more, got {min_cell}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = run_design(
            CohortStore(db),
            design=design,
            outcome=outcome,
            exposure=exposure,
            windows=parse_windows(windows),
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
