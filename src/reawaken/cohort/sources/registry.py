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
from typing import TYPE_CHECKING, Any, Protocol

from reawaken.errors import InputError

if TYPE_CHECKING:  # the types of a source's names; listing the kinds loads none of them
    import numpy as np

    from reawaken.cohort.sources.common import Extract, SourceTables
    from reawaken.cohort.sources.sql_import import SqlTables
    from reawaken.cohort.sources.synthetic import Cohort, SyntheticDesign, SyntheticFiles


class Source(Protocol):
    """A data source: how to import its extracts and how to write a synthetic one.

    Any object with these names is a source: a module (the built-in ones are modules of
    this package), a class or a namespace; add it with :func:`register`.

    Attributes
    ----------
    kind : str
        The name of its kind (``ukb``), as the store, the generator and the command line take.
    id_column : str
        The column holding the person id in its files (``eid``).
    title : str
        Its name in words.
    field_map : tuple of (str, str)
        (source field, canonical column) rows, as docs/cohort.md shows them.
    synthetic : reawaken.cohort.sources.synthetic.SyntheticDesign
        How its synthetic persons enter follow-up, and how often they are lost.
    read : callable
        ``read(extract)``: its importer, given what to read
        (:class:`~reawaken.cohort.sources.common.Extract`: the path, where to report bad rows,
        the censor date, extra concept sets), returning
        :class:`~reawaken.cohort.sources.common.SourceTables` (pandas DataFrames, validated
        by :func:`reawaken.cohort.schema.finalize`) or
        :class:`~reawaken.cohort.sources.sql_import.SqlTables` (tables in DuckDB, validated
        there by :func:`reawaken.cohort.sources.sql_validate.finalize`: the UK Biobank and
        Flatiron importers).
    write_synthetic : callable
        ``write_synthetic(cohort, out, rng)``: its synthetic layout, returning
        :class:`~reawaken.cohort.sources.synthetic.SyntheticFiles`.

    Examples
    --------
    >>> from reawaken.cohort import sources
    >>> ukb = sources.get("ukb")
    >>> ukb.kind, ukb.id_column, ukb.title
    ('ukb', 'eid', 'UK Biobank (Research Analysis Platform export)')
    >>> ukb.field_map[0]
    ('`eid`', '`person_id`')
    """

    kind: str  #: the name of its kind (``--source``/``--like`` on the command line)
    id_column: str  #: the column holding the person id in its files
    title: str  #: its name in words
    field_map: tuple[tuple[str, str], ...]  #: (source field, canonical column) rows
    synthetic: SyntheticDesign  #: how its synthetic persons enter follow-up

    def read(self, extract: Extract) -> SourceTables | SqlTables:
        """Read ``extract.path`` into canonical tables carrying provenance (pandas
        DataFrames, or tables in DuckDB); report bad rows through ``extract.issues``; end
        follow-up at ``extract.censor_date``; add ``extract.concepts`` to the concept sets."""
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
    """The source kinds: built-in ones first, then those registered.

    Returns
    -------
    tuple of str
        The kinds, in order of registration.

    Raises
    ------
    None
        It loads no source module: the built-in kinds are listed by name.

    Examples
    --------
    >>> from reawaken.cohort import sources
    >>> sources.kinds()
    ('ukb', 'flatiron', 'omop')
    """
    return (*_BUILT_IN, *_ADDED)


def get(kind: str) -> Source:
    """The source of a kind (a built-in one is loaded on first use).

    Parameters
    ----------
    kind : str
        A source kind (:func:`kinds`).

    Returns
    -------
    Source
        The source (for a built-in kind, its module).

    Raises
    ------
    InputError
        If the kind is unknown (the message names the known ones).

    Examples
    --------
    >>> from reawaken.cohort import sources
    >>> sources.get("flatiron").id_column
    'PatientID'
    >>> sources.get("epic")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: unknown source kind 'epic' (expected one of ukb, flatiron, omop)
    """
    if kind in _ADDED:
        return _ADDED[kind]
    if kind not in _BUILT_IN:
        raise InputError(f"unknown source kind {kind!r} (expected one of {', '.join(kinds())})")
    if kind not in _LOADED:
        _LOADED[kind] = importlib.import_module(_BUILT_IN[kind])  # the module is the source
    return _LOADED[kind]


def register(source: Source) -> Source:
    """Add a source at run time: the store, the generator and the command line then take it.

    Parameters
    ----------
    source : Source
        The source: any object with the names of :class:`Source`.

    Returns
    -------
    Source
        The same source.

    Raises
    ------
    InputError
        If its kind is taken, or it has no kind or no id column.

    Examples
    --------
    Flatiron's importer and layout under a second kind, then removed:

    >>> import types
    >>> from reawaken.cohort import generate, sources
    >>> flatiron = sources.get("flatiron")
    >>> copy = types.SimpleNamespace(
    ...     kind="flatiron-copy", id_column="PatientID", title="Flatiron Health, a copy",
    ...     field_map=flatiron.field_map, synthetic=flatiron.synthetic, read=flatiron.read,
    ...     write_synthetic=flatiron.write_synthetic,
    ... )
    >>> sources.register(copy).kind
    'flatiron-copy'
    >>> sources.kinds()
    ('ukb', 'flatiron', 'omop', 'flatiron-copy')
    >>> generate("flatiron-copy", 300, 1, "synthetic")["counts"]["persons"]
    300
    >>> sources.unregister("flatiron-copy")
    """
    if source.kind in kinds():
        raise InputError(f"source kind {source.kind!r} is already registered")
    if not source.kind or not source.id_column:
        raise InputError("a source needs a kind and an id column")
    _ADDED[source.kind] = source
    return source


def unregister(kind: str) -> None:
    """Remove a source kind added with :func:`register`: the store, the generator and the
    command line no longer take it. The built-in ``ukb``, ``flatiron`` and ``omop`` stay.

    Parameters
    ----------
    kind : str
        The kind to remove, ``source.kind`` of a source given to :func:`register` (stores
        that imported it are not changed).

    Returns
    -------
    None
        :func:`kinds` no longer lists it.

    Raises
    ------
    InputError
        If ``kind`` is built in, unknown or already removed: only kinds added at run time
        are removed.

    Examples
    --------
    >>> from reawaken.cohort import sources
    >>> sources.unregister("ukb")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: source kind 'ukb' was not registered at run time
    """
    if kind not in _ADDED:
        raise InputError(f"source kind {kind!r} was not registered at run time")
    del _ADDED[kind]


def field_map_markdown(source: Source) -> str:
    """The source's field map as the Markdown table docs/cohort.md shows.

    Parameters
    ----------
    source : Source
        A source (:func:`get`).

    Returns
    -------
    str
        A Markdown table: one row per (source field, canonical column).

    Raises
    ------
    AttributeError
        If ``source`` has no ``field_map``.

    Examples
    --------
    >>> from reawaken.cohort import sources
    >>> print(sources.field_map_markdown(sources.get("ukb")))  # doctest: +ELLIPSIS
    | source field | canonical column |
    |---|---|
    | `eid` | `person_id` |
    | `p31` (0 female, 1 male; other codes are errors) | `person.sex` |
    ...
    """
    lines = ["| source field | canonical column |", "|---|---|"]
    lines += [f"| {field} | {column} |" for field, column in source.field_map]
    return "\n".join(lines)
