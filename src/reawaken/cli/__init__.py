"""The ``reawaken`` command line: one module per command group, each thin.

Every command parses its options, calls the library and prints; a :class:`ReawakenError`
is printed as one line on stderr with exit status 2.
"""

from __future__ import annotations

import importlib

import typer

from reawaken.errors import ReawakenError

app = typer.Typer(
    name="reawaken",
    help="Respiratory infections and the awakening of dormant breast cancer cells.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


_GROUP_MODULES = ("model_commands", "cohort", "fit", "estimate")


def _register() -> None:
    """Attach each command group; a group whose module is not part of this build is skipped."""
    for name in _GROUP_MODULES:
        try:
            module = importlib.import_module(f"reawaken.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"reawaken.cli.{name}":
                raise
            continue
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it).

    Reawaken's own errors and usage errors print one line on stderr and give status 2.
    """
    import click

    try:
        app(args=argv, standalone_mode=False, prog_name="reawaken")
    except ReawakenError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except click.exceptions.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    return 0
