"""``reawaken fit cox``: a counting-process Cox model on one data file.

Writes ``DIR/estimates.csv`` (term, coef, se, ratio, ci_lower, ci_upper, p_value, and ``status``
when an estimate is not an ordinary one) and ``DIR/fit.json`` (loglik_null, loglik, n, events,
iterations, converged, tests, the proportional-hazards test, rows left out for missing values).
A fit that did not converge is written marked and exits with status 3 (``NOT_CONVERGED``).
What the regression commands share is here too: ``--missing``, the line that counts the rows
left out, the exit after non-convergence.
"""

from __future__ import annotations

from pathlib import Path

import typer

from reawaken.cli import checks
from reawaken.cli.checks import COLUMN, COLUMNS, option
from reawaken.cli.exit_status import NOT_CONVERGED
from reawaken.cli.fit_output import OVERWRITE_HELP, convergence_warnings, finish_fit, out_folder
from reawaken.io import read_table

MISSING = checks.choice(("drop", "error"))
MISSING_HELP = "Rows with a missing model value: drop (as R's na.omit) or error."


def echo_deleted(missing: dict) -> None:
    """Say, as R does, how many rows were left out for missing values, and in which columns."""
    deleted = missing["rows_deleted"]
    if deleted:
        where = ", ".join(f"{col}: {k}" for col, k in missing["by_variable"].items())
        plural = "observation" if deleted == 1 else "observations"
        typer.echo(f"({deleted} {plural} deleted due to missingness; {where})")


def exit_if_not_converged(converged: bool) -> None:
    """Exit with status 3 after a fit that did not converge (its files are written, marked)."""
    if not converged:
        raise typer.Exit(NOT_CONVERGED)


def cox(
    data: Path = option(checks.DATA_FILE, ..., "--data", help="Interval data."),
    start: str = option(COLUMN, ..., "--start", help="Column: interval start (days)."),
    stop: str = option(COLUMN, ..., "--stop", help="Column: interval stop (days)."),
    event: str = option(COLUMN, ..., "--event", help="Column: 1 if the event is at stop, else 0."),
    covariates: str = option(
        COLUMNS, ..., "--covariates", help="Covariate columns; a:b is an interaction."
    ),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    strata: str = option(COLUMNS, None, "--strata", help="Stratum columns."),
    cluster: str = option(COLUMN, None, "--cluster", help="Column for robust (sandwich) variance."),
    weights: str = option(COLUMN, None, "--weights", help="Column of case weights."),
    id: str = option(COLUMN, None, "--id", help="Person column: checks intervals do not overlap."),
    ties: str = option(
        checks.choice(("efron", "breslow")), "efron", "--ties", help="Handling of tied times."
    ),
    level: float = option(checks.LEVEL, 0.95, "--level", help="Confidence level of intervals."),
    missing: str = option(MISSING, "drop", "--missing", help=MISSING_HELP),
    overwrite: bool = checks.flag("--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Fit coxph(Surv(start, stop, event) ~ covariates); write estimates.csv and fit.json.

    \b
    Example:
      reawaken fit cox --data jasa1.csv --start start --stop stop --event event \\
        --covariates age,transplant --cluster id --out cox/
    """
    given = dict(locals())  # the options as given, recorded in fit.json
    from reawaken.epi.cox import fit_cox

    terms = covariates  # the check gives the list of columns
    out_folder(out, overwrite)
    frame = read_table(data)
    with convergence_warnings() as caught:
        result = fit_cox(
            frame,
            start=start,
            stop=stop,
            event=event,
            covariates=terms,
            strata=strata,
            cluster=cluster,
            weights=weights,
            id=id,
            ties=ties,
            level=level,
            missing=missing,
            file=data,
        )
    counts = f"n={result.n} events={result.events}"
    more = f" variance={result.summary()['variance']}"
    finish_fit(
        result,
        out,
        data=data,
        caught=caught,
        counts=counts,
        more=more,
        notes=result.notes,
        overwrite=overwrite,
        command="fit cox",
        options=given,
    )
    echo_deleted(result.missing)
    exit_if_not_converged(result.converged)


def register(fit_app: typer.Typer) -> None:
    fit_app.command("cox")(cox)
