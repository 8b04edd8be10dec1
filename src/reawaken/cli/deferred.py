"""Commands built only when they are used, so that the others start without their imports.

``reawaken estimate`` reads its options from the settings of every registered design, which
imports the estimators (pandas, SciPy). Its module registers a stand-in (:func:`stand_in`): a
command with the real one's name and docstring and no options. The command line's group
(:class:`DeferredGroup`) puts a :class:`DeferredCommand` in its place, which answers the list of
commands in ``reawaken --help`` from the stand-in and builds the real command the first time
anything else is asked of it (its options, its help, running it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import typer
from typer.core import TyperGroup

#: What the list of commands in the group's help asks of a command; answered by the stand-in.
_LISTED = frozenset({"name", "hidden", "deprecated", "get_short_help_str"})


class DeferredCommand:
    """A command that builds itself (``build``) when first used; until then ``stand_in`` (same
    name and docstring) answers what the group's list of commands asks."""

    def __init__(self, stand_in: Any, build: Callable[[], Any]) -> None:
        self._stand_in = stand_in
        self._build = build
        self._command: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in {"_stand_in", "_build", "_command"}:
            raise AttributeError(name)
        if name in _LISTED:
            return getattr(self._stand_in, name)
        if self._command is None:
            self._command = self._build()
        return getattr(self._command, name)


class DeferredGroup(TyperGroup):
    """The typer group whose stand-in commands (:func:`stand_in`) are built when used."""

    def __init__(self, *, commands: Mapping[str, Any] | None = None, **attrs: Any) -> None:
        if isinstance(commands, dict):
            for name, command in list(commands.items()):
                build = getattr(command.callback, "deferred_build", None)
                if build is not None:  # replaced in place: the help keeps the order
                    commands[name] = DeferredCommand(command, build)
        super().__init__(commands=commands, **attrs)


def stand_in(doc: str | None, build: Callable[[], Any]) -> Callable[[], None]:
    """A command function with docstring ``doc`` and no options, to register in place of a
    command that ``build`` makes (a click command) when it is first used."""

    def command() -> None:  # pragma: no cover - DeferredGroup never runs it
        raise typer.Exit(1)

    command.__doc__ = doc
    command.deferred_build = build  # type: ignore[attr-defined]
    return command


def build_single(name: str, function: Callable[..., Any]) -> Any:
    """The click command typer makes of ``function`` as the command ``name`` of the
    ``reawaken`` command line (same settings as its group)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command(name)(function)
    return typer.main.get_command(app)
