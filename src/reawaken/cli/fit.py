"""``reawaken fit ...``: fit one data file (Cox, SCCS, cumulative incidence, Fine-Gray)."""

from __future__ import annotations

import typer

fit_app = typer.Typer(
    help="Fit a survival or case-series model to a data file.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    from reawaken.cli import fit_competing, fit_cox, fit_sccs

    for commands in (fit_cox, fit_sccs, fit_competing):
        commands.register(fit_app)
    app.add_typer(fit_app, name="fit")
