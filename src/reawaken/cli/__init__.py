"""The ``reawaken`` command line: one module per command group, each thin.

Every command's options are checked at the door (:mod:`reawaken.cli.checks`), then the
command calls the library and prints. A :class:`ReawakenError`, a usage error or a file that
cannot be written is printed as one line on stderr with exit status 2. A computation that ran
but did not converge (a fit, a calibration that stopped on its budget) writes its results marked
as such, says so on stderr and exits with status 3 (:mod:`reawaken.cli.exit_status`).
"""

from __future__ import annotations

import typer

from reawaken import __version__
from reawaken.cli.deferred import DeferredGroup
from reawaken.cli.exit_status import NOT_CONVERGED
from reawaken.errors import ReawakenError

__all__ = ["NOT_CONVERGED", "app", "main"]

app = typer.Typer(
    name="reawaken",
    cls=DeferredGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"reawaken {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """Respiratory infections and the awakening of dormant breast cancer cells.

    \b
    Example:
      reawaken simulate --protocol mouse-lung --out results/
    """


def _register() -> None:
    """Attach each command group (imported here so that `reawaken.cli` stays cheap to import)."""
    from reawaken.cli import bridge, cohort, estimate, fit, model_commands, population, risk, study

    for group in (model_commands, cohort, fit, estimate, risk, bridge, population, study):
        group.register(app)


_register()


def _usage_error_type() -> type:
    """The base class of click's usage errors, found through typer so that it works whether
    typer uses the ``click`` package or the copy that newer typer releases bundle."""
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == "ClickException":
            return cls
    return typer.BadParameter  # pragma: no cover - every click has ClickException


def _one_line(exc: Exception) -> str:
    """A usage error as one line, pointing to the command's help."""
    message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it).

    Reawaken's own errors, usage errors and files that cannot be read or written print one
    line on stderr and give status 2. Asked for nothing (no command), it prints the help.
    """
    usage_errors = _usage_error_type()
    try:
        status = app(args=argv, standalone_mode=False, prog_name="reawaken")
    except ReawakenError as exc:
        typer.echo(f"error: {exc}", err=True)
        return 2
    except usage_errors as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            typer.echo(exc.format_message())
            return 0
        typer.echo(f"error: {_one_line(exc)}", err=True)
        return 2
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "a file"
        typer.echo(f"error: cannot use {where}: {exc.strerror or exc}", err=True)
        return 2
    except typer.Abort:
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    return status if isinstance(status, int) else 0
