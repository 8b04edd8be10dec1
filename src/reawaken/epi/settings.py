"""The settings of a design as data: a frozen dataclass that checks itself.

Each design's settings derive from :class:`StudySettings` (outcome, exposure, source) and
declare every field with :func:`setting`: its default, a help text and what it accepts
(:class:`Choice`, :class:`Whole`, :class:`Flag`, :class:`Windows`, :class:`Name`). Made from
Python values or from their text (``"0-30,>30"``, ``"5"``), a settings object converts and
checks every field (an :class:`~reawaken.errors.InputError` names the field, the value and what
is accepted), then the rules that tie fields together (:meth:`StudySettings.check`, raising
:class:`SettingError`). ``reawaken estimate`` builds its options from the same declarations,
so each option is written once.

Example::

    CoxSettings(outcome="lung_metastasis", exposure="any", windows="0-30,31-90,>90")
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from reawaken.epi._values import show
from reawaken.epi.cohort_designs import OUTCOMES, exposures
from reawaken.epi.intervals import DEFAULT_WINDOWS, check_windows, parse_windows, window_label
from reawaken.errors import InputError

SEED_MAX = 2**32 - 1  # numpy's legacy and SeedSequence-compatible range
MAX_WINDOWS = 20  # one model term each; more leaves too few events per window to estimate


class SettingError(InputError):
    """Settings that are each acceptable but not together; ``names`` are the fields involved."""

    def __init__(self, reason: str, *, names: Sequence[str]) -> None:
        super().__init__(reason)
        self.names = tuple(names)


@dataclass(frozen=True)
class Accepts:
    """What a setting accepts: ``accepted`` in a few words, ``convert`` from a value or its text
    (raising InputError with the reason), ``text`` back, values that must be refused (``bad``),
    one accepted ``example`` and the ``metavar`` a command line shows."""

    accepted: str
    bad: tuple[str, ...] = ()
    example: str = ""
    metavar: str = "TEXT"

    def convert(self, value: Any) -> Any:
        return value

    def text(self, value: Any) -> str:
        return str(value)

    def kind(self) -> str:
        """The value's type as a numpydoc Parameters line shows it."""
        return "str"


def _one_of(names: Sequence[str]) -> str:
    return "{" + ", ".join(f'"{n}"' for n in names) + "}"


@dataclass(frozen=True)
class Choice(Accepts):
    """One of ``names``."""

    names: tuple[str, ...] = ()

    def kind(self) -> str:
        return _one_of(self.names)

    def convert(self, value: Any) -> str:
        if str(value) not in self.names:
            raise InputError("unknown")
        return str(value)


@dataclass(frozen=True)
class ExposureChoice(Accepts):
    """An exposure of the pathogen table, looked up when a value is checked (a pathogen
    registered at run time is accepted)."""

    def convert(self, value: Any) -> str:
        if str(value) not in exposures():
            raise InputError(f"unknown (known now: {', '.join(exposures())})")
        return str(value)

    def kind(self) -> str:
        return _one_of(exposures())


def exposure_choice() -> ExposureChoice:
    """The ``exposure`` setting's values: the pathogen table's exposures and ``any``."""
    names = tuple(exposures())
    return ExposureChoice(f"one of {', '.join(names)}", ("nosuch",), names[0], "NAME")


def choice(names: Sequence[str]) -> Choice:
    """One of ``names`` (the first is the example)."""
    names = tuple(names)
    return Choice(f"one of {', '.join(names)}", ("nosuch",), names[0], "NAME", names=names)


@dataclass(frozen=True)
class Whole(Accepts):
    """A whole number from ``lo`` to ``hi``."""

    lo: int = 0
    hi: int = 0

    def convert(self, value: Any) -> int:
        if isinstance(value, bool):
            raise InputError("not a whole number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError("not a whole number") from None
        if not number.is_integer():
            raise InputError("not a whole number")
        if not self.lo <= number <= self.hi:
            raise InputError("out of range")
        return int(number)

    def kind(self) -> str:
        return "int"


def whole(lo: int, hi: int, why: str = "") -> Whole:
    """A whole number in ``[lo, hi]``; ``why`` gives the reason of a bound on size."""
    accepted = f"a whole number from {lo} to {hi}" + (f"; {why}" if why else "")
    return Whole(accepted, ("abc", str(lo - 1), str(hi + 1)), str(lo), "INT", lo=lo, hi=hi)


@dataclass(frozen=True)
class Flag(Accepts):
    """On or off."""

    def convert(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise InputError("not true or false")
        return value

    def kind(self) -> str:
        return "bool"


FLAG = Flag("true or false")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class Name(Accepts):
    """A plain name: letters, digits, '.', '_' or '-', at most 64 characters."""

    def convert(self, value: Any) -> str:
        if not isinstance(value, str) or not _NAME.fullmatch(value) or len(value) > 64:
            raise InputError("not a name")
        return value


NAME = Name(
    "letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64",
    ("", "two words", "../x"),
    "site-a",
    "NAME",
)


@dataclass(frozen=True)
class Windows(Accepts):
    """Time-since-infection windows: pairs of days ``(a, b)`` (``b`` may be infinite) or their
    text ``a-b`` and ``>n``, comma-separated, in order, not overlapping; at most ``most``."""

    most: int = MAX_WINDOWS

    def convert(self, value: Any) -> tuple[tuple[float, float], ...]:
        windows = parse_windows(value) if isinstance(value, str) else check_windows(value)
        if len(windows) > self.most:
            raise InputError(f"{len(windows)} windows, more than {self.most}")
        return windows

    def text(self, value: Any) -> str:
        return ",".join(window_label(w) for w in value)

    def kind(self) -> str:
        return "str or sequence of (float, float)"


WINDOWS = Windows(
    "days since infection a-b or >n, comma-separated, in order, not overlapping; "
    f"at most {MAX_WINDOWS} (one model term each)",
    ("", "x", "30-10", "0-30,20-40", ",".join(f"{d}-{d}" for d in range(MAX_WINDOWS + 1))),
    "0-30,>30",
    "WINDOWS",
)


@dataclass(frozen=True)
class Setting:
    """A field's help text and what it accepts (kept in the dataclass field's metadata)."""

    help: str
    accepts: Accepts
    doc: str = ""  # the longer description of the settings class's docstring (default: help)


def setting(default: Any, help: str, accepts: Accepts, *, doc: str = "") -> Any:
    """A settings field: ``default`` (``...`` for a required one), ``help`` (the command
    line's), ``accepts`` and ``doc`` (the docstring's description, when longer than help)."""
    meta = {"setting": Setting(help, accepts, doc)}
    if default is ...:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


RAISES = """Raises
------
InputError
    If a field is not accepted (the message names the field, the value and what is
    accepted).
SettingError
    If fields are each accepted but not together (an :class:`InputError`; ``names`` are
    the fields involved)."""


def _parameter_lines(f: Any) -> list[str]:
    meta = setting_of(f)
    accepts = meta.accepts
    if f.default is MISSING:
        default = ""
    elif f.default is None:
        default = ", optional"
    else:
        shown = accepts.text(f.default)
        default = f", default {shown!r}" if isinstance(f.default, str) else f", default {shown}"
    text = meta.doc or meta.help
    if not isinstance(accepts, (Choice, ExposureChoice, Flag)):  # the type line says those
        text += f" Accepted: {accepts.accepted}."
    wrapped = textwrap.fill(text, width=92, initial_indent="    ", subsequent_indent="    ")
    return [f"{f.name} : {accepts.kind()}{default}", *wrapped.splitlines()]


def documented(cls: type) -> type:
    """Write the Parameters and Raises sections of a settings class's docstring from its
    fields (their type, default and description), before its Examples: the fields are the
    one definition of what the settings are, for the docs as for the command line."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    head, sep, examples = doc.partition("Examples\n--------")
    lines = ["Parameters", "----------"]
    for f in fields(cls):
        lines += _parameter_lines(f)
    cls.__doc__ = f"{head.rstrip()}\n\n" + "\n".join(lines) + f"\n\n{RAISES}\n\n{sep}{examples}"
    return cls


def setting_of(f: Any) -> Setting:
    """The :class:`Setting` of a dataclass field."""
    return f.metadata["setting"]


@documented
@dataclass(frozen=True)
class StudySettings:
    """What every design studies: an outcome after an infection, in one stored source or all.

    The base of every design's settings: a frozen dataclass whose fields are declared with
    :func:`setting` (default, help text, what it accepts). Every field is converted (from a
    Python value or its text) and checked when the object is made, then :meth:`check` applies
    the rules between fields. ``reawaken estimate`` builds its options from these fields.


    Examples
    --------
    >>> from reawaken.epi import StudySettings
    >>> StudySettings(outcome="lung_metastasis", exposure="any")
    StudySettings(outcome='lung_metastasis', exposure='any', source=None)
    >>> StudySettings(outcome="relapse", exposure="any")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: outcome relapse: unknown (accepted: one of lung_metastasis, ...)
    """

    outcome: str = setting(..., "Outcome.", choice(OUTCOMES), doc="The outcome studied.")
    exposure: str = setting(
        ...,
        "Infection.",
        exposure_choice(),
        doc="The infection (``any``: any of them; windows restart at the most recent one).",
    )
    source: str | None = setting(
        None,
        "Only this stored source.",
        NAME,
        doc="Only this stored source (by its name in the cohort store); all sources by default.",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.default is None:
                continue
            accepts = setting_of(f).accepts
            try:
                converted = accepts.convert(value)
            except InputError as exc:
                shown = show(value) if not isinstance(value, str) else value or "''"
                raise InputError(
                    f"{f.name} {shown}: {exc.reason} (accepted: {accepts.accepted})"
                ) from None
            object.__setattr__(self, f.name, converted)
        self.check()

    def check(self) -> None:
        """Rules between fields (each field alone is already checked); raise SettingError."""


def windows_setting() -> Any:
    """The ``windows`` field, the same in every design that uses windows (default 0-30, 31-90,
    91-180, 181-365 and >365 days)."""
    return setting(
        DEFAULT_WINDOWS,
        "Time-since-infection windows.",
        WINDOWS,
        doc="Time-since-infection windows in days: pairs ``(a, b)`` (``b`` may be infinite) "
        "or their text ``0-30,31-90,>90``.",
    )
