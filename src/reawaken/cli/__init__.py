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


def _click_exception_types() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(usage error, abort, exit) classes of click, of typer, and of the click copy that newer
    typer releases bundle, whichever exist."""
    import click

    usage: list[type] = [click.exceptions.ClickException]
    aborts: list[type] = [click.exceptions.Abort, getattr(typer, "Abort", click.exceptions.Abort)]
    exits: list[type] = [click.exceptions.Exit, getattr(typer, "Exit", click.exceptions.Exit)]
    try:
        from typer._click import exceptions as bundled  # typer >= 0.2x ships its own click
    except ImportError:
        pass
    else:
        usage.append(bundled.ClickException)
    return tuple(usage), tuple(aborts), tuple(exits)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it).

    Reawaken's own errors and usage errors print one line on stderr and give status 2.
    """
    usage_errors, aborts, exits = _click_exception_types()
    try:
        status = app(args=argv, standalone_mode=False, prog_name="reawaken")
    except ReawakenError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except usage_errors as exc:
        exc.show()
        return 2
    except aborts:
        return 1
    except exits as exc:
        return exc.exit_code
    return status if isinstance(status, int) else 0
