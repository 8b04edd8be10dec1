"""The settings of a design as data: a frozen dataclass that checks itself.

Each design's settings derive from :class:`StudySettings` (outcome, exposure, source) and
declare every field with :func:`setting`: its default, a help text and what it accepts (an
:class:`~reawaken.accepts.Accepts`: :func:`~reawaken.accepts.choice`,
:func:`~reawaken.accepts.whole`, :data:`~reawaken.accepts.FLAG`, :data:`WINDOWS`,
:data:`~reawaken.accepts.NAME`, the vocabulary the command line's options use too). Made from
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
import textwrap
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from reawaken.accepts import NAME, Accepts, Refused, choice, parsed
from reawaken.epi.cohort_designs import OUTCOMES, exposures
from reawaken.epi.intervals import DEFAULT_WINDOWS, check_windows, parse_windows, window_label
from reawaken.errors import InputError

MAX_WINDOWS = 20  # one model term each; more leaves too few events per window to estimate


class SettingError(InputError):
    """Settings that are each acceptable but not together; ``names`` are the fields involved."""

    def __init__(self, reason: str, *, names: Sequence[str]) -> None:
        super().__init__(reason)
        self.names = tuple(names)


def exposure_choice() -> Accepts:
    """The ``exposure`` setting's values: the pathogen table's exposures and ``any``, looked up
    when a value is checked (a pathogen registered at run time is accepted)."""
    return choice(exposures(), known=exposures)


def _windows(value: Any) -> tuple[tuple[float, float], ...]:
    windows = parse_windows(value) if isinstance(value, str) else check_windows(value)
    if len(windows) > MAX_WINDOWS:
        raise Refused(f"{len(windows)} windows, more than {MAX_WINDOWS}")
    return windows


def _windows_text(windows: Sequence[tuple[float, float]]) -> str:
    return ",".join(window_label(w) for w in windows)


WINDOWS = parsed(
    "days since infection a-b or >n, comma-separated, in order, not overlapping; "
    f"at most {MAX_WINDOWS} (one model term each)",
    _windows,
    ("", "x", "30-10", "0-30,20-40", ",".join(f"{d}-{d}" for d in range(MAX_WINDOWS + 1))),
    "0-30,>30",
    "WINDOWS",
    kind="str or sequence of (float, float)",
    text=_windows_text,
)
"""Time-since-infection windows: pairs of days ``(a, b)`` (``b`` may be infinite) or their text
``a-b`` and ``>n``, comma-separated, in order, not overlapping; at most :data:`MAX_WINDOWS`."""


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
    if not (accepts.names or accepts.is_flag):  # the type line says those
        text += f" Accepted: {accepts.accepted}."
    wrapped = textwrap.fill(text, width=92, initial_indent="    ", subsequent_indent="    ")
    return [f"{f.name} : {accepts.kind}{default}", *wrapped.splitlines()]


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
            converted = setting_of(f).accepts.check(f.name, value)
            object.__setattr__(self, f.name, converted)
        self.check()

    def check(self) -> None:
        """Rules between fields (each field alone is already checked); raise SettingError."""

    def record(self) -> dict[str, Any]:
        """Every field with its value, as ``fit.json`` records it: text, numbers, true or
        false and ``None`` as they are, other values (windows) as their text."""
        plain = (str, int, float, bool, type(None))
        return {
            f.name: value if isinstance(value, plain) else setting_of(f).accepts.text(value)
            for f in fields(self)
            for value in [getattr(self, f.name)]
        }


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
