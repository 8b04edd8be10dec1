"""``reawaken fit cox``: a counting-process Cox model on one data file.

Writes ``DIR/estimates.csv`` (term, coef, se, ratio, ci_lower, ci_upper, p_value) and
``DIR/fit.json`` (loglik_null, loglik, n, events, iterations, converged, tests).
"""

from __future__ import annotations

from pathlib import Path

import typer

from reawaken.cli.fit_output import convergence_warnings, split_list, write_fit_outputs
from reawaken.errors import InputError
from reawaken.io import read_table


def cox(
    data: Path = typer.Option(..., "--data", help="Interval data, .csv or .parquet."),
    start: str = typer.Option(..., "--start", help="Column: interval start (days)."),
    stop: str = typer.Option(..., "--stop", help="Column: interval stop (days)."),
    event: str = typer.Option(..., "--event", help="Column: 1 if the event is at stop, else 0."),
    covariates: str = typer.Option(
        ..., "--covariates", help="Comma-separated columns; a:b is an interaction."
    ),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    strata: str = typer.Option(None, "--strata", help="Comma-separated stratum columns."),
    cluster: str = typer.Option(None, "--cluster", help="Column for robust (sandwich) variance."),
    weights: str = typer.Option(None, "--weights", help="Column of case weights."),
    id: str = typer.Option(None, "--id", help="Person column: checks intervals do not overlap."),
    ties: str = typer.Option("efron", "--ties", help="efron or breslow."),
    level: float = typer.Option(0.95, "--level", help="Confidence level of the intervals."),
) -> None:
    """Fit coxph(Surv(start, stop, event) ~ covariates) and write estimates.csv and fit.json."""
    from reawaken.epi.cox import fit_cox

    terms = split_list(covariates)
    if not terms:
        raise InputError("--covariates is empty")
    frame = read_table(data)
    with convergence_warnings() as caught:
        result = fit_cox(
            frame,
            start=start,
            stop=stop,
            event=event,
            covariates=terms,
            strata=split_list(strata) if strata else None,
            cluster=cluster,
            weights=weights,
            id=id,
            ties=ties,
            level=level,
            file=data,
        )
    summary = result.summary()
    write_fit_outputs(out, result.estimates, summary, data=data, terms=result.terms, caught=caught)
    typer.echo(
        f"n={result.n} events={result.events} loglik={result.loglik:.6f} "
        f"iterations={result.iterations} converged={result.converged} "
        f"variance={summary['variance']}"
    )
    typer.echo(f"wrote {out / 'estimates.csv'} and {out / 'fit.json'}")


def register(fit_app: typer.Typer) -> None:
    fit_app.command("cox")(cox)
