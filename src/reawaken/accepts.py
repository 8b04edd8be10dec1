"""What a value may be: one vocabulary for the command line's options and the library's settings.

An :class:`Accepts` says in a few words what is accepted, turns a given value (a Python value or
its text) into the value used or raises :class:`Refused` saying why not, and carries what a
command line and a docstring show of it (metavar, type, values that must be refused, an
example). :meth:`Accepts.check` names the refused value in one message::

    >>> from reawaken.accepts import whole
    >>> whole(1, 20).check("controls", 30)
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: controls 30: out of range (accepted: a whole number from 1 to 20)

The library names a value by its setting (``controls``); the command line checks the same
:class:`Accepts` under the option's name (``--controls``), so neither writes the other's words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reawaken.errors import InputError

SEED_MAX = 2**32 - 1  # numpy's legacy and SeedSequence-compatible range, as most tools accept
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
"""A plain name: letters, digits, '.', '_' or '-', starting with a letter or digit."""


class Refused(InputError):
    """A value is not accepted; the reason says why (:meth:`Accepts.check` adds the value and
    what is accepted)."""


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Accepts:
    """What a value may be, and how a given value becomes the value used.

    Parameters
    ----------
    accepted : str
        What is accepted, in a few words (shown in help texts and errors).
    convert : callable
        Turns a given value (or its text) into the value used; raises :class:`Refused` saying
        why a value is not accepted (another :class:`~reawaken.errors.InputError` is passed on
        as it is, under the value's name).
    bad : tuple of str
        Values that must be refused (the test suite tries each on every option).
    example : str, optional
        One accepted value.
    metavar : str
        The placeholder a command line shows (``INT``, ``NAME``, ...).
    kind : str
        The type as a numpydoc Parameters line shows it (``int``, ``{"a", "b"}``).
    text : callable
        The text of a converted value, as it would be given (default ``str``).
    names : tuple of str
        The values, where they can be listed (a choice).
    repeatable : bool
        A list of values, each checked (an option given several times).
    is_flag : bool
        On or off (a command line flag takes no value).
    in_help : bool
        Whether a help text repeats ``accepted`` (not where the metavar says it).

    Examples
    --------
    >>> from reawaken.accepts import Accepts, Refused
    >>> def even(value):
    ...     if int(value) % 2:
    ...         raise Refused("odd")
    ...     return int(value)
    >>> EVEN = Accepts("an even number", even, bad=("3",), example="2", metavar="INT")
    >>> EVEN.check("pairs", "4")
    4
    >>> EVEN.check("pairs", "3")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: pairs 3: odd (accepted: an even number)
    """

    accepted: str
    convert: Callable[[Any], Any] = _as_is
    bad: tuple[str, ...] = ()
    example: str | None = None
    metavar: str = "TEXT"
    kind: str = "str"
    text: Callable[[Any], str] = str
    names: tuple[str, ...] = ()
    repeatable: bool = False
    is_flag: bool = False
    in_help: bool = True

    def check(self, name: str, value: Any) -> Any:
        """``value`` converted, or an :class:`~reawaken.errors.InputError` naming ``name``, the
        value, why it is refused and what is accepted. A repeatable value's items are each
        checked."""
        if self.repeatable and isinstance(value, (list, tuple)):
            return [self.check(name, item) for item in value]
        try:
            return self.convert(value)
        except Refused as exc:
            shown = "missing" if value is None else str(value) or "''"
            raise InputError(f"{name} {shown}: {exc.reason} (accepted: {self.accepted})") from None
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from None


def accepting(
    accepted: str,
    bad: Sequence[str] = (),
    example: str | None = None,
    metavar: str = "TEXT",
    **more: Any,
) -> Callable[[Callable[[Any], Any]], Accepts]:
    """Decorator: the :class:`Accepts` whose ``convert`` is the decorated function (which
    raises :class:`Refused`), with these words; ``more`` are further fields of it.

    Examples
    --------
    >>> from reawaken.accepts import Refused, accepting
    >>> @accepting("a word in capitals", ("word",), "WORD")
    ... def CAPITALS(value):
    ...     if not str(value).isupper():
    ...         raise Refused("not in capitals")
    ...     return str(value)
    >>> CAPITALS.check("word", "word")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: word word: not in capitals (accepted: a word in capitals)
    """

    def make(convert: Callable[[Any], Any]) -> Accepts:
        return Accepts(accepted, convert, tuple(bad), example, metavar, **more)

    return make


def parsed(
    accepted: str,
    parse: Callable[[str], Any],
    bad: Sequence[str],
    example: str,
    metavar: str = "TEXT",
    **more: Any,
) -> Accepts:
    """Text read by a library parser: its :class:`~reawaken.errors.InputError` refuses the
    value (with the parser's reason)."""

    def convert(value: Any) -> Any:
        try:
            return parse(value)
        except Refused:
            raise
        except InputError as exc:
            raise Refused(exc.reason) from None

    return Accepts(accepted, convert, tuple(bad), example, metavar, **more)


# --- numbers -------------------------------------------------------------------------------


def whole(lo: int, hi: int, why: str = "") -> Accepts:
    """A whole number in ``[lo, hi]`` (``5``, ``"5"`` or ``5.0``); ``why`` gives the reason of a
    bound on size."""
    accepted = f"a whole number from {lo} to {hi}" + (f"; {why}" if why else "")

    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise Refused("not a whole number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise Refused("not a whole number") from None
        if not number.is_integer():
            raise Refused("not a whole number")
        if not lo <= number <= hi:
            raise Refused("out of range")
        return int(number)

    bad = ("abc", str(lo - 1), str(hi + 1))
    return Accepts(accepted, convert, bad, str(lo), "INT", kind="int")


SEED = whole(0, SEED_MAX)


def real(
    lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False, why: str = ""
) -> Accepts:
    """A finite number between ``lo`` and ``hi`` (each end included unless open)."""
    left = ">" if lo_open else ">="
    right = "<" if hi_open else "<="
    accepted = f"a number {left} {lo:g} and {right} {hi:g}" + (f"; {why}" if why else "")

    def convert(value: Any) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise Refused("not a number") from None
        if not math.isfinite(x):
            raise Refused("not a finite number")
        if x < lo or x > hi or (lo_open and x == lo) or (hi_open and x == hi):
            raise Refused("out of range")
        return x

    bad = ("abc", "nan", str(lo if lo_open else lo - 1), str(hi if hi_open else hi + 1))
    return Accepts(accepted, convert, bad, str((lo + hi) / 2), "NUMBER", kind="float")


def comma_parts(value: Any, empty: str = "empty") -> list[str]:
    """The comma-separated parts of ``value``, stripped; refused (``empty``) when none."""
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    if not parts:
        raise Refused(empty)
    return parts


def number_list(
    what: str, *, lo: float = 0.0, hi: float = 36_500.0, most: int = 1000, whole_days: bool = False
) -> Accepts:
    """A comma-separated list of numbers in ``[lo, hi]`` (at most ``most`` of them)."""
    kind = "whole numbers" if whole_days else "numbers"
    accepted = f"{what}: {kind} from {lo:g} to {hi:g}, comma-separated, at most {most}"

    def convert(value: Any) -> list[float]:
        parts = comma_parts(value)
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
    return Accepts(accepted, convert, ("", "x", str(lo - 1), too_many), str(lo), "LIST")


def increasing(accepts: Accepts) -> Accepts:
    """``accepts``'s list, which must also be strictly increasing."""

    def convert(value: Any) -> list:
        numbers = accepts.convert(value)
        if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
            raise Refused("not strictly increasing")
        return numbers

    return replace(
        accepts,
        accepted=accepts.accepted + ", increasing",
        convert=convert,
        bad=(*accepts.bad, "400,300"),
    )


# --- words ---------------------------------------------------------------------------------


def one_of(names: Sequence[str]) -> str:
    """``{"a", "b"}``: the values of a choice as a numpydoc type line shows them."""
    return "{" + ", ".join(f'"{n}"' for n in names) + "}"


def choice(
    names: Iterable[str],
    what: str = "one of",
    *,
    repeatable: bool = False,
    known: Callable[[], Sequence[str]] | None = None,
) -> Accepts:
    """One of ``names`` (the first is the example). With ``known``, the values are looked up
    when a value is checked (``names`` are those known now, for the help and the docs)."""
    names = tuple(names)

    def convert(value: Any) -> str:
        if known is not None and str(value) not in known():
            raise Refused(f"unknown (known now: {', '.join(known())})")
        if known is None and str(value) not in names:
            raise Refused("unknown")
        return str(value)

    accepted = f"{what} {', '.join(names)}"
    return Accepts(
        accepted,
        convert,
        ("nosuch",),
        names[0],
        "NAME",
        kind=one_of(names),
        names=names,
        repeatable=repeatable,
    )


@accepting(
    "letters, digits, '.', '_' or '-', starting with a letter or digit, at most 64",
    ("", "two words", "../x"),
    "site-a",
    "NAME",
)
def NAME(value: Any) -> str:
    """A plain name (:data:`NAME_PATTERN`), at most 64 characters."""
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value) or len(value) > 64:
        raise Refused("not a name")
    return value


@accepting("true or false", metavar="", kind="bool", is_flag=True, in_help=False)
def FLAG(value: Any) -> bool:
    """On or off (on the command line, a flag that takes no value)."""
    if not isinstance(value, bool):
        raise Refused("not true or false")
    return value
