"""The data sources: one registry of the kinds a cohort store imports and the generator writes.

A source (:class:`Source`) has a kind (``ukb``), the column holding its person id, a title, the
field map that docs/cohort.md shows, its importer (``read``) and its synthetic layout
(``write_synthetic``, with ``synthetic``: how its synthetic persons enter follow-up). Each
built-in source is a module of this package that has these names (``ukb``, ``flatiron``,
``omop``), loaded on first use; others (a module, a class, any object with these names) are
added with :func:`register`. Everything that lists source kinds reads :func:`kinds`: the
store, the generator and the command line.

Example::

    from reawaken.cohort import sources
    sources.kinds()                    # ('ukb', 'flatiron', 'omop')
    sources.get("ukb").id_column       # 'eid'
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from reawaken.cohort.schema import Issues
from reawaken.cohort.sources.common import SourceTables
from reawaken.cohort.sources.synthetic import Cohort, SyntheticDesign, SyntheticFiles
from reawaken.errors import InputError


class Source(Protocol):
    """A data source: how to import its extracts and how to write a synthetic one."""

    kind: str  #: the name of its kind (``--source``/``--like`` on the command line)
    id_column: str  #: the column holding the person id in its files
    title: str  #: its name in words
    field_map: tuple[tuple[str, str], ...]  #: (source field, canonical column) rows
    synthetic: SyntheticDesign  #: how its synthetic persons enter follow-up

    def read(
        self,
        path: Path,
        issues: Issues,
        *,
        censor_date: pd.Timestamp | None = None,
        concepts: Path | None = None,
    ) -> SourceTables:
        """Read the extract at ``path`` into canonical tables carrying provenance; report
        bad rows through ``issues``; end follow-up at ``censor_date``; extra ``concepts``."""
        ...

    def write_synthetic(
        self, cohort: Cohort, out: Path, rng: np.random.Generator
    ) -> SyntheticFiles:
        """Write ``cohort`` as this source's files under ``out``; say what they hold."""
        ...


_BUILT_IN = {
    "ukb": "reawaken.cohort.sources.ukb",
    "flatiron": "reawaken.cohort.sources.flatiron",
    "omop": "reawaken.cohort.sources.omop",
}
_ADDED: dict[str, Source] = {}
_LOADED: dict[str, Any] = {}


def kinds() -> tuple[str, ...]:
    """The source kinds: built-in ones first, then those registered."""
    return (*_BUILT_IN, *_ADDED)


def get(kind: str) -> Source:
    """The source of ``kind``; an unknown kind is an InputError naming the known ones."""
    if kind in _ADDED:
        return _ADDED[kind]
    if kind not in _BUILT_IN:
        raise InputError(f"unknown source kind {kind!r} (expected one of {', '.join(kinds())})")
    if kind not in _LOADED:
        _LOADED[kind] = importlib.import_module(_BUILT_IN[kind])  # the module is the source
    return _LOADED[kind]


def register(source: Source) -> Source:
    """Add a source at run time; a kind that is taken is refused."""
    if source.kind in kinds():
        raise InputError(f"source kind {source.kind!r} is already registered")
    if not source.kind or not source.id_column:
        raise InputError("a source needs a kind and an id column")
    _ADDED[source.kind] = source
    return source


def unregister(kind: str) -> None:
    """Remove a source registered at run time (built-in sources stay)."""
    if kind not in _ADDED:
        raise InputError(f"source kind {kind!r} was not registered at run time")
    del _ADDED[kind]


def field_map_markdown(source: Source) -> str:
    """The source's field map as the Markdown table docs/cohort.md shows."""
    lines = ["| source field | canonical column |", "|---|---|"]
    lines += [f"| {field} | {column} |" for field, column in source.field_map]
    return "\n".join(lines)
