"""Every command-line option is checked here, at the door, before any work starts.

An option is declared with :func:`option` (or :func:`argument`, :func:`flag`) and a
:class:`Check`: what is accepted (shown in ``--help`` and in errors), a function that turns
the given value into the value the command uses or says why not, and bad values that the test
suite tries on every command (so a new option cannot go unchecked). A refused value raises
:class:`~reawaken.errors.InputError` naming the option, the value and what is accepted; the
command line prints it as one line and exits with status 2, with nothing written.

Checks that need two options at once (an option that does not apply to the chosen design)
are made by :func:`refuse_inapplicable` at the top of the command.
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
import tempfile
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from reawaken.errors import InputError

# Stand-ins the option walk replaces with real paths: an existing plain file, an existing folder.
A_FILE = "<existing file>"
A_FOLDER = "<existing folder>"

SEED_MAX = 2**32 - 1  # numpy's legacy and SeedSequence-compatible range, as most tools accept


class Refused(ValueError):
    """Raised by a check's function: the value is not accepted (the message says why)."""


@dataclass(frozen=True)
class Check:
    """How one option's value is checked.

    ``accepted`` says in a few words what is accepted; ``convert`` turns a given value into the
    value the command receives or raises :class:`Refused`; ``bad`` are values that must be
    refused (the option walk in the tests tries each); ``example`` is one accepted value.
    """

    accepted: str
    convert: Callable[[Any], Any]
    bad: tuple[str, ...] = ()
    example: str | None = None
    repeatable: bool = False
    is_flag: bool = False
    metavar: str = "TEXT"
    in_help: bool = True  # False where the metavar already says it (COLUMN)

    def __call__(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        if self.repeatable and isinstance(value, (list, tuple)):
            return [self(name, item) for item in value]
        try:
            return self.convert(value)
        except Refused as exc:
            shown = str(value) if str(value) else "''"
            raise InputError(f"{name} {shown}: {exc} (accepted: {self.accepted})") from None
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from None


def _display_name(param: Any) -> str:
    opts = getattr(param, "opts", None) or []
    longest = max(opts, key=len) if opts else None
    if longest and longest.startswith("-"):
        return longest
    return str(getattr(param, "name", "value")).upper()


def _callback(check: Check) -> Callable[..., Any]:
    def callback(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
        return check(_display_name(param), value)

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


FLAG = Check("a flag, takes no value", lambda v: bool(v), is_flag=True, metavar="", in_help=False)


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


def whole(lo: int, hi: int, why: str = "") -> Check:
    """A whole number in ``[lo, hi]``; ``why`` gives the reason of a bound on size."""
    accepted = f"a whole number from {lo:,} to {hi:,}".replace(",", "")
    if why:
        accepted += f"; {why}"

    def convert(value: Any) -> int:
        if not lo <= int(value) <= hi:
            raise Refused("out of range")
        return int(value)

    return Check(
        accepted, convert, bad=("abc", str(lo - 1), str(hi + 1)), example=str(lo), metavar="INT"
    )


SEED = whole(0, SEED_MAX)


def real(
    lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False, why: str = ""
) -> Check:
    """A finite number between ``lo`` and ``hi`` (each end included unless open)."""
    left = ">" if lo_open else ">="
    right = "<" if hi_open else "<="
    accepted = f"a number {left} {lo:g} and {right} {hi:g}" + (f"; {why}" if why else "")

    def convert(value: Any) -> float:
        x = float(value)
        if not math.isfinite(x):
            raise Refused("not a finite number")
        if x < lo or x > hi or (lo_open and x == lo) or (hi_open and x == hi):
            raise Refused("out of range")
        return x

    bad = ["abc", "nan", str(lo if lo_open else lo - 1), str(hi if hi_open else hi + 1)]
    return Check(accepted, convert, bad=tuple(bad), example=str((lo + hi) / 2), metavar="NUMBER")


LEVEL = real(0.0, 1.0, lo_open=True, hi_open=True, why="e.g. 0.95")
MIN_CELL = whole(0, 1_000_000, "counts below it are suppressed; 0 shows all")


def number_list(
    what: str, *, lo: float = 0.0, hi: float = 36_500.0, most: int = 1000, whole_days: bool = False
) -> Check:
    """A comma-separated list of numbers in ``[lo, hi]`` (at most ``most`` of them)."""
    kind = "whole numbers" if whole_days else "numbers"
    accepted = f"{what}: {kind} from {lo:g} to {hi:g}, comma-separated, at most {most}"

    def convert(value: Any) -> list[float]:
        parts = [p.strip() for p in str(value).split(",") if p.strip()]
        if not parts:
            raise Refused("empty")
        if len(parts) > most:
            raise Refused(f"{len(parts)} values, more than {most}")
        numbers = []
        for part in parts:
            try:
                x = int(part) if whole_days else float(part)
            except ValueError:
                raise Refused(f"{part!r} is not a {'whole ' if whole_days else ''}number") from None
            if not (math.isfinite(x) and lo <= x <= hi):
                raise Refused(f"{part} is out of range")
            numbers.append(x)
        return numbers

    too_many = ",".join(["1"] * (most + 1))
    return Check(
        accepted, convert, bad=("", "x", str(lo - 1), too_many), example=str(lo), metavar="LIST"
    )


def increasing(check: Check) -> Check:
    """``check``'s list, which must also be strictly increasing."""

    def convert(value: Any) -> list:
        numbers = check.convert(value)
        if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
            raise Refused("not strictly increasing")
        return numbers

    return Check(
        check.accepted + ", increasing",
        convert,
        bad=(*check.bad, "400,300"),
        example=check.example,
        metavar="LIST",
    )


# --- words and formats ----------------------------------------------------------------------


def choice(names: Iterable[str], what: str = "one of", *, repeatable: bool = False) -> Check:
    """One of ``names``."""
    names = tuple(names)

    def convert(value: Any) -> str:
        if str(value) not in names:
            raise Refused("unknown")
        return str(value)

    return Check(
        f"{what} {', '.join(names)}",
        convert,
        bad=("nosuch",),
        example=names[0],
        repeatable=repeatable,
        metavar="NAME",
    )


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


def _name(value: Any) -> str:
    if not _NAME.fullmatch(str(value)) or len(str(value)) > 64:
        raise Refused("not a name")
    return str(value)


NAME = Check(
    "letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64",
    _name,
    bad=("", "two words", "../x"),
    example="site-a",
    metavar="NAME",
)


def _column(value: Any) -> str:
    if not str(value).strip():
        raise Refused("empty")
    return str(value)


COLUMN = Check(
    "a column name of the data file",
    _column,
    bad=("", "no_such_column"),
    example="x",
    metavar="COLUMN",
    in_help=False,
)


def _columns(value: Any) -> list[str]:
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    if not parts:
        raise Refused("no column named")
    if len(set(parts)) != len(parts):
        raise Refused("a column is named twice")
    return parts


COLUMNS = Check(
    "column names of the data file, comma-separated",
    _columns,
    bad=("", " , ", "no_such_column", "a,a"),
    example="x",
    metavar="COLUMNS",
    in_help=False,
)


def _date(value: Any) -> str:
    text = str(value).strip()
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise Refused("not a calendar date") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise Refused("not written YYYY-MM-DD")
    return text


DATE = Check(
    "a date YYYY-MM-DD, e.g. 2022-12-31",
    _date,
    bad=("2020-13-01", "31/12/2022"),
    example="2022-12-31",
    metavar="YYYY-MM-DD",
)


def _strftime(value: Any) -> str:
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


STRFTIME = Check(
    "a strftime format with day, month and year, e.g. %d%m%Y",
    _strftime,
    bad=("dmy", "%Y"),
    example="%d%m%Y",
    metavar="FORMAT",
)


def parsed(
    accepted: str,
    parse: Callable[[str], Any],
    bad: Sequence[str],
    example: str,
    metavar: str = "TEXT",
) -> Check:
    """Text read by a library parser (which raises InputError on a bad value)."""

    def convert(value: Any) -> Any:
        try:
            return parse(str(value))
        except InputError as exc:
            raise Refused(re.sub(r"^--[\w-]+:?\s*", "", exc.reason)) from None

    return Check(accepted, convert, bad=tuple(bad), example=example, metavar=metavar)


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


def _out_folder(value: Any) -> Path:
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


OUT_FOLDER = Check(
    "a folder to write into (made if missing)",
    _out_folder,
    bad=(A_FILE, f"{A_FILE}/inside", "/proc/reawaken-out"),
    example="out",
    metavar="DIR",
)


def out_file(suffixes: Sequence[str]) -> Check:
    """A file to write (replaced if it exists) with one of ``suffixes``."""

    def convert(value: Any) -> Path:
        path = Path(value)
        if path.suffix.lower() not in suffixes:
            raise Refused(f"does not end in {' or '.join(suffixes)}")
        if path.is_dir():
            raise Refused("is a folder")
        _writable_folder(_nearest_existing(path.parent))
        return path

    accepted = f"a file to write, {' or '.join(suffixes)}"
    bad = (A_FOLDER, f"{A_FILE}/inside{suffixes[0]}", "model.txt", f"/proc/model{suffixes[0]}")
    return Check(accepted, convert, bad=bad, example=f"out{suffixes[0]}", metavar="FILE")


def _store_to_write(value: Any) -> Path:
    path = Path(value)
    if path.is_dir():
        raise Refused("is a folder, not a DuckDB file")
    _writable_folder(_nearest_existing(path.parent))
    return path


STORE_TO_WRITE = Check(
    "a DuckDB file (made if missing)",
    _store_to_write,
    bad=(A_FOLDER, f"{A_FILE}/inside.duckdb"),
    example="cohort.duckdb",
    metavar="FILE",
)


def _store_to_read(value: Any) -> Path:
    path = Path(value)
    if not path.exists():
        raise Refused("no such file")
    if path.is_dir():
        raise Refused("is a folder, not a DuckDB file")
    return path


STORE_TO_READ = Check(
    "an existing cohort store (DuckDB file)",
    _store_to_read,
    bad=("/nonexistent/cohort.duckdb", A_FOLDER, A_FILE),
    example="cohort.duckdb",
    metavar="FILE",
)


def existing_file(suffixes: Sequence[str] = ()) -> Check:
    """An existing file (with one of ``suffixes`` when given)."""

    def convert(value: Any) -> Path:
        path = Path(value)
        if not path.exists():
            raise Refused("no such file")
        if path.is_dir():
            raise Refused("is a folder")
        if suffixes and path.suffix.lower() not in suffixes:
            raise Refused(f"does not end in {', '.join(suffixes)}")
        return path

    accepted = "an existing file" + (f" ({', '.join(suffixes)})" if suffixes else "")
    bad = ("/nonexistent/data.csv", A_FOLDER, A_FILE)
    return Check(accepted, convert, bad=bad, metavar="FILE")


DATA_FILE = existing_file((".csv", ".tsv", ".parquet"))
JSON_FILE = existing_file((".json",))


def _existing_folder(value: Any) -> Path:
    path = Path(value)
    if not path.exists():
        raise Refused("no such folder")
    if not path.is_dir():
        raise Refused("is a file, not a folder")
    return path


EXISTING_FOLDER = Check(
    "an existing folder", _existing_folder, bad=("/nonexistent", A_FILE), metavar="DIR"
)


def _file_or_folder(value: Any) -> Path:
    path = Path(value)
    if not path.exists():
        raise Refused("no such file or folder")
    return path


FILE_OR_FOLDER = Check(
    "an existing folder of extract files, or a DuckDB file",
    _file_or_folder,
    bad=("/nonexistent",),
    metavar="PATH",
)


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
