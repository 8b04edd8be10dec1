"""Every command-line option is checked here, at the door, before any work starts.

An option is declared with :func:`option` (or :func:`argument`, :func:`flag`) and an
:class:`~reawaken.accepts.Accepts` (the vocabulary the library's settings use too): what is
accepted (shown in ``--help`` and in errors), a function that turns the given value into the
value the command uses or says why not, and bad values that the test suite tries on every
command (so a new option cannot go unchecked). A refused value raises
:class:`~reawaken.errors.InputError` naming the option, the value and what is accepted; the
command line prints it as one line and exits with status 2, with nothing written.

The general values (numbers, lists, choices, names, flags, text read by a library parser) come
from :mod:`reawaken.accepts` and are named here too; those only a command line has (files,
folders, columns of a data file, dates) are declared here.

Checks that need two options at once (an option that does not apply to the chosen design)
are made by :func:`refuse_inapplicable` at the top of the command.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import tempfile
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import typer

from reawaken.accepts import (
    FLAG as FLAG,
)
from reawaken.accepts import (
    NAME as NAME,
)
from reawaken.accepts import (
    SEED as SEED,
)
from reawaken.accepts import (
    SEED_MAX as SEED_MAX,
)
from reawaken.accepts import (
    Accepts,
    Refused,
    accepting,
    comma_parts,
)
from reawaken.accepts import (
    choice as choice,
)
from reawaken.accepts import (
    increasing as increasing,
)
from reawaken.accepts import (
    number_list as number_list,
)
from reawaken.accepts import (
    parsed as parsed,
)
from reawaken.accepts import (
    real as real,
)
from reawaken.accepts import (
    whole as whole,
)
from reawaken.errors import InputError

Check = Accepts
"""The name the commands declare their options' values with: an :class:`Accepts`."""

# Stand-ins the option walk replaces with real paths: an existing plain file, an existing folder.
A_FILE = "<existing file>"
A_FOLDER = "<existing folder>"


def _display_name(param: Any) -> str:
    opts = getattr(param, "opts", None) or []
    longest = max(opts, key=len) if opts else None
    if longest and longest.startswith("-"):
        return longest
    return str(getattr(param, "name", "value")).upper()


def _callback(check: Check) -> Callable[..., Any]:
    def callback(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        return None if value is None else check.check(_display_name(param), value)

    callback.check = check  # type: ignore[attr-defined]
    return callback


def _help(text: str, check: Check) -> str:
    return f"{text} ({check.accepted})" if check.in_help and not check.is_flag else text


def option(check: Check, default: Any = ..., *decls: str, help: str, **kwargs: Any) -> Any:
    """A typer option whose value goes through ``check`` when the command line is read."""
    kwargs.setdefault("metavar", check.metavar)
    return typer.Option(
        default, *decls, help=_help(help, check), callback=_callback(check), **kwargs
    )


def argument(check: Check, default: Any = ..., *, help: str, **kwargs: Any) -> Any:
    """A typer argument whose value goes through ``check``."""
    kwargs.setdefault("metavar", check.metavar)
    return typer.Argument(default, help=_help(help, check), callback=_callback(check), **kwargs)


def flag(decl: str, *, help: str) -> Any:
    """An on/off flag (``--name``; off unless given)."""
    return typer.Option(False, decl, help=help, callback=_callback(FLAG))


def checks_of(function: Callable[..., Any]) -> dict[str, Check]:
    """The :class:`Check` of each parameter of a command function, by parameter name
    (parameters declared without one are missing from the result)."""
    function = inspect.unwrap(function)
    hints = typing.get_type_hints(function, include_extras=True)
    found = {}
    for name, parameter in inspect.signature(function).parameters.items():
        infos = [parameter.default, *getattr(hints.get(name), "__metadata__", ())]
        for info in infos:
            check = getattr(getattr(info, "callback", None), "check", None)
            if isinstance(check, Check):
                found[name] = check
    return found


# --- numbers -------------------------------------------------------------------------------

LEVEL = real(0.0, 1.0, lo_open=True, hi_open=True, why="e.g. 0.95")
MIN_CELL = whole(0, 1_000_000, "counts below it are suppressed; 0 shows all")


# --- words and formats ----------------------------------------------------------------------


@accepting("a column name of the data file", ("", "no_such_column"), "x", "COLUMN", in_help=False)
def COLUMN(value: Any) -> str:
    """A column of the data file (the command finds whether it is there)."""
    if not str(value).strip():
        raise Refused("empty")
    return str(value)


@accepting(
    "column names of the data file, comma-separated",
    ("", " , ", "no_such_column", "a,a"),
    "x",
    "COLUMNS",
    in_help=False,
)
def COLUMNS(value: Any) -> list[str]:
    """Columns of the data file, each named once."""
    parts = comma_parts(value, "no column named")
    if len(set(parts)) != len(parts):
        raise Refused("a column is named twice")
    return parts


@accepting(
    "a date YYYY-MM-DD, e.g. 2022-12-31", ("2020-13-01", "31/12/2022"), "2022-12-31", "YYYY-MM-DD"
)
def DATE(value: Any) -> str:
    """A calendar date written YYYY-MM-DD."""
    text = str(value).strip()
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise Refused("not a calendar date") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise Refused("not written YYYY-MM-DD")
    return text


@accepting(
    "a strftime format with day, month and year, e.g. %d%m%Y", ("dmy", "%Y"), "%d%m%Y", "FORMAT"
)
def STRFTIME(value: Any) -> str:
    """A strftime format that writes a date it reads back (day, month and year)."""
    text = str(value)
    if "%" not in text:
        raise Refused("has no % directive")
    sample = dt.datetime(2001, 2, 3)
    try:
        back = dt.datetime.strptime(sample.strftime(text), text)
    except ValueError:
        raise Refused("not a strftime format that reads back a date") from None
    if back.date() != sample.date():
        raise Refused("does not give day, month and year")
    return text


# --- files and folders ----------------------------------------------------------------------


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _writable_folder(folder: Path) -> None:
    """Refused unless a file can be created in ``folder`` (tried; nothing is left behind)."""
    if not folder.is_dir():
        raise Refused(f"{folder} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise Refused(f"cannot write in {folder} ({exc.strerror or exc})") from None


def _existing(value: Any, what: str, *, folder: bool | None, not_it: str = "") -> Path:
    """``value`` as a path that exists (``what`` when it does not): a folder, a file or
    either (``folder`` True, False or None); ``not_it`` says what the other kind is."""
    path = Path(value)
    if not path.exists():
        raise Refused(f"no such {what}")
    if folder is not None and path.is_dir() != folder:
        raise Refused(not_it)
    return path


def _to_write(value: Any, folder_is: str) -> Path:
    """``value`` as a file to write: not a folder (``folder_is`` says so), in a folder (made
    if missing) where a file can be written."""
    path = Path(value)
    if path.is_dir():
        raise Refused(folder_is)
    _writable_folder(_nearest_existing(path.parent))
    return path


@accepting(
    "a folder to write into (made if missing)",
    (A_FILE, f"{A_FILE}/inside", "/proc/reawaken-out"),
    "out",
    "DIR",
)
def OUT_FOLDER(value: Any) -> Path:
    """A folder to write into: an existing one where a file can be written, or a new one."""
    path = Path(value)
    if str(value).strip() == "":
        raise Refused("empty")
    if path.exists():
        if not path.is_dir():
            raise Refused("is an existing file, not a folder")
        _writable_folder(path)
    else:
        _writable_folder(_nearest_existing(path))
    return path


def out_file(suffixes: Sequence[str]) -> Accepts:
    """A file to write (replaced if it exists) with one of ``suffixes``."""

    def convert(value: Any) -> Path:
        if Path(value).suffix.lower() not in suffixes:
            raise Refused(f"does not end in {' or '.join(suffixes)}")
        return _to_write(value, "is a folder")

    accepted = f"a file to write, {' or '.join(suffixes)}"
    bad = (A_FOLDER, f"{A_FILE}/inside{suffixes[0]}", "model.txt", f"/proc/model{suffixes[0]}")
    return Accepts(accepted, convert, bad, f"out{suffixes[0]}", "FILE")


@accepting(
    "a DuckDB file (made if missing)",
    (A_FOLDER, f"{A_FILE}/inside.duckdb"),
    "cohort.duckdb",
    "FILE",
)
def STORE_TO_WRITE(value: Any) -> Path:
    """A cohort store to write: an existing one or a new one."""
    return _to_write(value, "is a folder, not a DuckDB file")


@accepting(
    "an existing cohort store (DuckDB file)",
    ("/nonexistent/cohort.duckdb", A_FOLDER, A_FILE),
    "cohort.duckdb",
    "FILE",
)
def STORE_TO_READ(value: Any) -> Path:
    """An existing cohort store (the store itself says whether the file is one)."""
    return _existing(value, "file", folder=False, not_it="is a folder, not a DuckDB file")


def existing_file(suffixes: Sequence[str] = ()) -> Accepts:
    """An existing file (with one of ``suffixes`` when given)."""

    def convert(value: Any) -> Path:
        path = _existing(value, "file", folder=False, not_it="is a folder")
        if suffixes and path.suffix.lower() not in suffixes:
            raise Refused(f"does not end in {', '.join(suffixes)}")
        return path

    accepted = "an existing file" + (f" ({', '.join(suffixes)})" if suffixes else "")
    return Accepts(accepted, convert, ("/nonexistent/data.csv", A_FOLDER, A_FILE), None, "FILE")


DATA_FILE = existing_file((".csv", ".tsv", ".parquet"))
JSON_FILE = existing_file((".json",))


@accepting("an existing folder", ("/nonexistent", A_FILE), metavar="DIR")
def EXISTING_FOLDER(value: Any) -> Path:
    """An existing folder."""
    return _existing(value, "folder", folder=True, not_it="is a file, not a folder")


@accepting(
    "an existing folder of extract files, or a DuckDB file", ("/nonexistent",), metavar="PATH"
)
def FILE_OR_FOLDER(value: Any) -> Path:
    """An existing file or folder."""
    return _existing(value, "file or folder", folder=None)


# --- options that only some choices use -----------------------------------------------------


def refuse_inapplicable(
    ctx: typer.Context, chosen: str, applies: Mapping[str, Sequence[str]], *, option: str
) -> None:
    """Refuse options given on the command line that do not apply to ``chosen`` (the value of
    ``option``). ``applies`` maps a parameter name to the choices that use it."""
    for name, users in applies.items():
        source = ctx.get_parameter_source(name)
        if chosen in users or source is None or source.name != "COMMANDLINE":
            continue
        param = next(p for p in ctx.command.params if p.name == name)
        raise InputError(
            f"{_display_name(param)} does not apply to {option} {chosen} "
            f"(it applies to {', '.join(users)})"
        )
