"""``reawaken fit ...``: fit one data file (Cox, SCCS, cumulative incidence, Fine-Gray)."""

from __future__ import annotations

import importlib

import typer

fit_app = typer.Typer(
    help="Fit a survival or case-series model to a data file.", no_args_is_help=True
)

_COMMAND_MODULES = ("fit_cox", "fit_sccs", "fit_competing")


def register(app: typer.Typer) -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(f"reawaken.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"reawaken.cli.{name}":
                raise
            continue
        module.register(fit_app)
    app.add_typer(fit_app, name="fit")
