"""``reawaken fit cif`` and ``reawaken fit finegray``: competing risks on one data file.

``cif`` writes ``DIR/cif.csv`` (time, cause, cif, ci_lower, ci_upper): Aalen-Johansen cumulative
incidence as ``cmprsk::cuminc`` with a log(-log) interval. ``finegray`` writes
``DIR/estimates.csv`` (term, coef, se, ratio, ci_lower, ci_upper, p_value; ratio is the
subdistribution hazard ratio) and ``DIR/fit.json``, as ``cmprsk::crr``.
Events are coded 0 censored, 1 outcome, 2 competing (any other positive code is one more cause).
"""

from __future__ import annotations

from pathlib import Path

import typer

from reawaken.cli.fit_output import convergence_warnings, split_list, write_fit_outputs
from reawaken.errors import InputError
from reawaken.io import read_table, write_csv_atomic


def _times(value: str) -> list[float]:
    times = []
    for part in split_list(value):
        try:
            times.append(float(part))
        except ValueError:
            raise InputError(f"--at: {part!r} is not a number (expected e.g. 90,180,365)") from None
    if not times:
        raise InputError("--at is empty (expected e.g. 90,180,365)")
    return times


def cif(
    data: Path = typer.Option(..., "--data", help="One row per person, .csv or .parquet."),
    time: str = typer.Option(..., "--time", help="Column: follow-up time (days)."),
    event: str = typer.Option(..., "--event", help="Column: 0 censored, 1 outcome, 2 competing."),
    at: str = typer.Option(..., "--at", help="Comma-separated times (days), e.g. 90,180,365."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    level: float = typer.Option(0.95, "--level", help="Confidence level of the intervals."),
) -> None:
    """Cumulative incidence of each cause at the given times (cmprsk::cuminc)."""
    from reawaken.epi.competing import CIF_COLUMNS, check_competing_data, cumulative_incidence

    times = _times(at)
    frame = read_table(data)
    t, e = check_competing_data(frame, time, event, file=data)
    table = cumulative_incidence(t, e, times, level=level)
    write_csv_atomic(table[CIF_COLUMNS], out / "cif.csv")
    typer.echo(table[CIF_COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    typer.echo(f"wrote {out / 'cif.csv'}")


def finegray(
    data: Path = typer.Option(..., "--data", help="One row per person, .csv or .parquet."),
    time: str = typer.Option(..., "--time", help="Column: follow-up time (days)."),
    event: str = typer.Option(..., "--event", help="Column: 0 censored, 1 outcome, 2 competing."),
    covariates: str = typer.Option(..., "--covariates", help="Comma-separated numeric columns."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    cause: int = typer.Option(1, "--cause", help="Event code of the failure of interest."),
    level: float = typer.Option(0.95, "--level", help="Confidence level of the intervals."),
) -> None:
    """Fine-Gray subdistribution hazards regression (cmprsk::crr)."""
    from reawaken.epi.finegray import fit_fine_gray

    terms = split_list(covariates)
    if not terms:
        raise InputError("--covariates is empty")
    frame = read_table(data)
    with convergence_warnings() as caught:
        fit = fit_fine_gray(
            frame, time=time, event=event, covariates=terms, cause=cause, file=str(data)
        )
    write_fit_outputs(
        out, fit.estimates(level=level), fit.summary(), data=data, terms=fit.terms, caught=caught
    )
    typer.echo(
        f"n={fit.n} events={fit.events} competing={fit.competing} loglik={fit.loglik:.6f} "
        f"iterations={fit.iterations} converged={fit.converged}"
    )
    typer.echo(f"wrote {out / 'estimates.csv'} and {out / 'fit.json'}")


def register(fit_app: typer.Typer) -> None:
    fit_app.command("cif")(cif)
    fit_app.command("finegray")(finegray)
