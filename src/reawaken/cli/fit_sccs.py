"""``reawaken fit sccs``: a self-controlled case series on one data file.

Writes ``DIR/estimates.csv`` (term, coef, se, ratio, ci_lower, ci_upper, p_value; ratio is the
relative incidence against time outside every risk window) and ``DIR/fit.json``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from reawaken.cli.fit_output import convergence_warnings, split_list, write_fit_outputs
from reawaken.errors import InputError
from reawaken.io import read_table


def _ages(value: str) -> list[int]:
    ages = []
    for part in split_list(value):
        try:
            ages.append(int(part))
        except ValueError:
            raise InputError(f"--age-groups: {part!r} is not a whole number of days") from None
    return ages


def sccs(
    data: Path = typer.Option(..., "--data", help="One row per event, .csv, .tsv or .parquet."),
    case: str = typer.Option(..., "--case", help="Column: case identifier."),
    start: str = typer.Option(..., "--start", help="Column: age (days) observation starts."),
    end: str = typer.Option(..., "--end", help="Column: age (days) observation ends."),
    event: str = typer.Option(..., "--event", help="Column: age (days) at the event."),
    exposure: str = typer.Option(
        ..., "--exposure", help="Column(s), comma-separated: age (days) at exposure; empty = none."
    ),
    windows: str = typer.Option(
        ..., "--windows", help="Risk windows in days after exposure, e.g. 1-7,8-14."
    ),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    pre_window: str = typer.Option(
        None, "--pre-window", help="Pre-exposure window(s), e.g. --pre-window=-14--1."
    ),
    age_groups: str = typer.Option(
        None, "--age-groups", help="Start days of the 2nd, 3rd, ... age groups, e.g. 427,488."
    ),
    dob: str = typer.Option(None, "--dob", help="Column: date of birth (needed for seasons)."),
    dob_format: str = typer.Option(
        None, "--dob-format", help="strftime format of --dob, e.g. %d%m%Y; default ISO dates."
    ),
    seasons: str = typer.Option(
        None, "--seasons", help="Season start days MM-DD, the first is the reference: 01-01,04-01"
    ),
    level: float = typer.Option(0.95, "--level", help="Confidence level of the intervals."),
) -> None:
    """Fit a self-controlled case series (conditional Poisson) model."""
    from reawaken.epi.sccs import fit_case_series, parse_seasons, parse_windows, split_case_series

    exposures = split_list(exposure)
    options = dict(
        case=case,
        start=start,
        end=end,
        event=event,
        exposures=exposures,
        windows=parse_windows(windows),
        pre_windows=parse_windows(pre_window, option="--pre-window") if pre_window else [],
        age_groups=_ages(age_groups) if age_groups else [],
        dob=dob,
        dob_format=dob_format,
        seasons=parse_seasons(seasons) if seasons else [],
    )
    frame = read_table(data)
    series = split_case_series(frame, file=data, **options)
    with convergence_warnings() as caught:
        fit = fit_case_series(series)
    write_fit_outputs(
        out,
        fit.estimates(level=level),
        fit.summary(),
        data=data,
        terms=fit.terms,
        caught=caught,
        notes=fit.notes,
    )
    typer.echo(
        f"cases={fit.cases} events={fit.events} loglik={fit.loglik:.6f} "
        f"iterations={fit.iterations} converged={fit.converged}"
    )
    typer.echo(f"wrote {out / 'estimates.csv'} and {out / 'fit.json'}")


def register(fit_app: typer.Typer) -> None:
    fit_app.command("sccs")(sccs)
