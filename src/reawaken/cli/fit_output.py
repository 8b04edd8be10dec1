"""Shared plumbing of the ``reawaken fit ...`` commands: the data read, the fit's warnings
collected and printed, the output folder written as a whole, the rows left out for missing
values counted, the exit after non-convergence (:func:`run_fit`).

The files are written by the fits themselves (``fit.write``, :mod:`reawaken.epi.outputs`), as
a Python user writes them, into a new folder that then takes the place of ``--out``
(:func:`reawaken.run_folder.write_run`): a folder holding an earlier run's files is refused
unless ``--overwrite`` is given.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from reawaken.cli.exit_status import NOT_CONVERGED
from reawaken.errors import ConvergenceWarning, InputError
from reawaken.run_folder import check_out_folder, write_run

if TYPE_CHECKING:  # pandas is imported by the fits, not when the command line starts
    import pandas as pd

    from reawaken.epi.tables import RatioFit


@contextmanager
def convergence_warnings() -> Iterator[list[str]]:
    """Collect the message of every ConvergenceWarning raised inside the block into the
    yielded list; other warnings are passed on unchanged after the block."""
    collected: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield collected
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            collected.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def print_fit(estimates: pd.DataFrame, messages: Sequence[str], notes: Sequence[str] = ()) -> None:
    """Print the warnings (and the notes that are not among them) on stderr, the estimates on
    stdout."""
    for message in [*messages, *(n for n in notes if n not in messages)]:
        typer.echo(f"warning: {message}", err=True)
    typer.echo(estimates.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


OVERWRITE_HELP = "Replace the files of an earlier run in the output folder."


def out_folder(out: Path, overwrite: bool) -> Path:
    """``out`` when a run may write into it (checked before the work starts): an earlier run's
    files there are refused unless ``overwrite``; the refusal names ``--out`` and
    ``--overwrite``."""
    try:
        check_out_folder(out, overwrite=overwrite)
    except InputError as exc:
        raise InputError(f"--out {out}: {exc.reason} (--overwrite replaces them)") from None
    return out


def write_out(
    out: Path,
    write: Callable[[Path], Iterable[Path]],
    overwrite: bool,
    names: Iterable[str] = (),
) -> list[Path]:
    """:func:`reawaken.run_folder.write_run` with the refusal naming the options; ``names``
    are further files of an earlier run (besides the usual run files)."""
    out_folder(out, overwrite)
    return write_run(out, write, overwrite=overwrite, names=names)


def plain_options(options: Mapping[str, object]) -> dict[str, object]:
    """Options as JSON values (paths and tuples as text and lists)."""
    out: dict[str, object] = {}
    for name, value in options.items():
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        out[name] = value
    return out


def echo_deleted(missing: Mapping[str, Any]) -> None:
    """Say, as R does, how many rows were left out for missing values, and in which columns."""
    deleted = missing["rows_deleted"]
    if deleted:
        where = ", ".join(f"{col}: {k}" for col, k in missing["by_variable"].items())
        plural = "observation" if deleted == 1 else "observations"
        typer.echo(f"({deleted} {plural} deleted due to missingness; {where})")


def run_fit(
    fit_frame: Callable[[pd.DataFrame], RatioFit],
    options: Mapping[str, Any],
    *,
    command: str,
    counts: Sequence[str],
    level: float | None = None,
    more: Callable[[RatioFit], str] | None = None,
    not_converged: str = "",
) -> None:
    """Run a ``reawaken fit ...`` command from its ``options`` as given (``data``, ``out`` and
    ``overwrite`` among them, all recorded in ``fit.json``): refuse an earlier run's folder
    before the work, read ``data``, fit it with ``fit_frame`` collecting the convergence
    warnings, then :func:`finish_fit`, with ``counts`` the names of the fit's counts shown
    (``n``, ``events``, ...) and ``more`` (the fit to text) what its line adds. The rows the fit
    left out for missing values (its ``missing``, where it has one) are then counted, and a fit
    that did not converge exits with status 3 (``NOT_CONVERGED``) after its ``not_converged``
    message, if any, on stderr."""
    from reawaken.io import read_table

    out, data, overwrite = Path(options["out"]), Path(options["data"]), bool(options["overwrite"])
    out_folder(out, overwrite)
    frame = read_table(data)
    with convergence_warnings() as caught:
        fit = fit_frame(frame)
    finish_fit(
        fit,
        out,
        data=data,
        caught=caught,
        counts=" ".join(f"{name}={getattr(fit, name)}" for name in counts),
        level=level,
        notes=getattr(fit, "notes", ()),
        more=more(fit) if more else "",
        overwrite=overwrite,
        command=command,
        options=options,
    )
    missing = getattr(fit, "missing", None)
    if missing is not None:
        echo_deleted(missing)
    if not getattr(fit, "converged", True):
        if not_converged:
            typer.echo(not_converged, err=True)
        raise typer.Exit(NOT_CONVERGED)


def finish_fit(
    fit: RatioFit,
    out: Path,
    *,
    data: Path,
    caught: Sequence[str],
    counts: str,
    level: float | None = None,
    notes: Sequence[str] = (),
    more: str = "",
    overwrite: bool = False,
    command: str = "",
    options: Mapping[str, object] | None = None,
) -> None:
    """Write the fit into ``out`` as a whole (an earlier run's files there refused unless
    ``overwrite``), print its warnings and estimates, then one line of its ``counts``,
    log-likelihood, iterations and convergence (and ``more``) and the files written.

    ``command`` (e.g. ``fit cox``) and its ``options`` as given are recorded in ``fit.json``
    (``command``), so that two analyses of one file can be told apart."""

    record = {"command": {"name": command, "options": plain_options(options or {})}}

    def write(folder: Path) -> list[Path]:
        return fit.write(
            folder, level=level, data=data, warnings=caught, record=record if command else None
        )

    write_out(out, write, overwrite)
    print_fit(fit.estimates(level=level), caught, notes)
    typer.echo(
        f"{counts} loglik={fit.loglik:.6f} iterations={fit.iterations} "
        f"converged={fit.converged}{more}"
    )
    typer.echo(f"wrote {out / 'estimates.csv'} and {out / 'fit.json'}")
