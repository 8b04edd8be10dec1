"""The ``reawaken`` command line: one module per command group, each thin.

Every command parses its options, calls the library and prints; a :class:`ReawakenError`
is printed as one line on stderr with exit status 2.
"""

from __future__ import annotations

import typer

from reawaken.errors import ReawakenError

app = typer.Typer(
    name="reawaken",
    help="Respiratory infections and the awakening of dormant breast cancer cells.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Attach each command group (imported here so that `reawaken.cli` stays cheap to import)."""
    from reawaken.cli import cohort, estimate, fit, model_commands

    for group in (model_commands, cohort, fit, estimate):
        group.register(app)


_register()


def _usage_error_type() -> type:
    """The base class of click's usage errors, found through typer so that it works whether
    typer uses the ``click`` package or the copy that newer typer releases bundle."""
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == "ClickException":
            return cls
    return typer.BadParameter  # pragma: no cover - every click has ClickException


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it).

    Reawaken's own errors and usage errors print one line on stderr and give status 2.
    """
    usage_errors = _usage_error_type()
    try:
        status = app(args=argv, standalone_mode=False, prog_name="reawaken")
    except ReawakenError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except usage_errors as exc:
        exc.show()
        return 2
    except typer.Abort:
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    return status if isinstance(status, int) else 0
