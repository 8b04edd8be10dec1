"""``reawaken fit ...``: fit one data file (Cox, SCCS, cumulative incidence, Fine-Gray).

Also what the regression commands share: ``--missing`` (rows with a missing model value left
out, as R's ``na.omit``, or refused), the line that counts the rows left out, and exit status 3
(:data:`reawaken.cli.NOT_CONVERGED`) after a fit that did not converge.
"""

from __future__ import annotations

import typer

from reawaken.cli import NOT_CONVERGED, checks

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


fit_app = typer.Typer(
    help="Fit a survival or case-series model to a data file.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    from reawaken.cli import fit_competing, fit_cox, fit_sccs

    for commands in (fit_cox, fit_sccs, fit_competing):
        commands.register(fit_app)
    app.add_typer(fit_app, name="fit")
