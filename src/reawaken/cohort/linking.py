"""No person counted twice: the files an import read (checksums), the person ids two stored
sources share, and how the user said to link them.

An import whose person ids are already in the store under another source, or whose files are
identical (SHA-256) to those of a stored import under any name, is refused unless the user
states how to link it (:data:`LINKS`):

``same-person``
    the ids refer to the same people: the store keeps the import under its own name, and every
    reader of the whole store (:class:`~reawaken.cohort.store.CohortStore` tables, its summary
    and the designs) merges them into one person each (:func:`merge_linked`), counted once.
``distinct``
    the ids are separate id spaces that happen to coincide: the import's ids are stored
    prefixed by its source name (``site-b:123``), so they are kept apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reawaken.cohort.defaults import DISTINCT as DISTINCT
from reawaken.cohort.defaults import LINKS as LINKS
from reawaken.cohort.defaults import SAME_PERSON as SAME_PERSON
from reawaken.cohort.schema import merge_infection_episodes
from reawaken.cohort.sources.common import SUFFIXES
from reawaken.errors import InputError

_SHOWN_IDS = 3  # person ids a refusal names


def check_link(link: str | None) -> None:
    """Refuse a link that is not one of :data:`LINKS` (None: no link stated)."""
    if link is not None and link not in LINKS:
        raise InputError(f"unknown link {link!r} (expected one of {', '.join(LINKS)})")


def checksums(path: Path) -> dict[str, str]:
    """SHA-256 of each file an import can read: the file itself, or the table files
    (``.csv``, ``.tsv``, ``.parquet``; UK Biobank's COVID-19 results also as ``.txt``) of a
    folder; file name -> hex digest."""
    files = [path] if path.is_file() else sorted(path.iterdir())
    return {f.name: _sha256(f) for f in files if f.is_file() and (f == path or _table_file(f))}


def _table_file(file: Path) -> bool:
    """Whether an import can read ``file`` as one of a folder's tables."""
    from reawaken.cohort.sources.ukb import COVID_FILES, COVID_NATIONS, COVID_SUFFIXES

    suffix = file.suffix.lower()
    if suffix in SUFFIXES:
        return True
    return suffix in COVID_SUFFIXES and file.stem.lower() in COVID_FILES + COVID_NATIONS


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def kept_apart(tables: dict[str, pd.DataFrame], name: str) -> dict[str, pd.DataFrame]:
    """The tables with every person id prefixed by the source ``name`` (``distinct``)."""
    return {
        t: f.assign(person_id=name + ":" + f["person_id"].astype(str)) for t, f in tables.items()
    }


@dataclass(frozen=True)
class Overlap:
    """What a new import shares with one stored source: person ids and identical files."""

    source: str
    person_ids: list[str]
    n_person_ids: int
    files: list[tuple[str, str]]  # (file of the new import, identical file of the source)

    def describe(self) -> str:
        """One clause naming the shared ids and files."""
        parts = []
        if self.n_person_ids:
            shown = ", ".join(self.person_ids[:_SHOWN_IDS])
            more = ", ..." if self.n_person_ids > _SHOWN_IDS else ""
            parts.append(f"{self.n_person_ids} person ids ({shown}{more})")
        if self.files:
            same = ", ".join(a if a == b else f"{a} = {b}" for a, b in self.files)
            parts.append(f"identical files ({same})")
        return f"{' and '.join(parts)} with source {self.source!r}"


class Unlinked(InputError):
    """An import that shares person ids or identical files with a stored source, and no link
    was stated. An :class:`~reawaken.errors.InputError`; the command line adds its flag names.

    Parameters
    ----------
    name : str
        The source name of the refused import.
    overlaps : list of Overlap
        What it shares, per stored source.
    store : pathlib.Path
        The store's file.
    """

    def __init__(self, name: str, overlaps: list[Overlap], store: Path) -> None:
        self.name = name
        self.overlaps = overlaps
        self.store = store
        super().__init__(self.message(how_to_link()), file=store)

    def message(self, how: str) -> str:
        """The refusal in one line, the choices written as ``how`` says."""
        shared = "; ".join(o.describe() for o in self.overlaps)
        return (
            f"import {self.name!r} shares {shared}: the same people would be counted twice; "
            f"state how to link them: {how}"
        )


def how_to_link(choice: str = 'link="{}"') -> str:
    """The choices a refusal offers, each written as ``choice`` (the caller's way of saying
    it: ``link="{}"`` in Python, ``--link {}`` on the command line)."""
    return (
        f"{choice.format(SAME_PERSON)} (the ids are the same people: merged, counted once) or "
        f"{choice.format(DISTINCT)} (separate id spaces: kept apart, prefixed by the source name)"
    )


def identities(person: pd.DataFrame, imports: pd.DataFrame) -> pd.Series:
    """The source each stored person is counted under: its own, or for an import linked as
    ``same-person``, the earliest stored source holding the same id. Indexed like ``person``.
    """
    order = imports.sort_values("imported_at", kind="stable")
    link = dict(zip(order["source"], order["link"], strict=True))
    first: dict[str, str] = {}
    counted = pd.Series(person["source"].to_numpy(), index=person.index, dtype=object)
    for source in order["source"]:
        rows = person["source"] == source
        ids = person.loc[rows, "person_id"]
        if link.get(source) == SAME_PERSON:
            counted[rows] = [first.get(pid, source) for pid in ids]
        for pid in ids:
            first.setdefault(pid, source)
    return counted


def merge_linked(
    tables: dict[str, pd.DataFrame], person: pd.DataFrame, imports: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The canonical tables with each linked person once (``same-person`` imports).

    A linked person's rows are counted under the source first holding the id: one person row
    (the first source's), one follow-up from the earliest start to the latest end (its end
    reason), records that are copies of each other once, the earliest death, and infection
    records merged into episodes again (:func:`~reawaken.cohort.schema.merge_infection_episodes`).
    """
    key = person["source"] + "\x00" + person["person_id"]
    counted = dict(zip(key, identities(person, imports), strict=True))
    out = {}
    for name, frame in tables.items():
        own = frame["source"] + "\x00" + frame["person_id"]
        source = own.map(counted).fillna(frame["source"])
        relabelled = frame.assign(source=source, _own=(source == frame["source"]).to_numpy())
        out[name] = _merge_table(
            name, relabelled.sort_values("_own", ascending=False, kind="stable")
        )
    return {
        name: frame.drop(columns="_own")
        .sort_values(["source", "person_id"], kind="stable")
        .reset_index(drop=True)
        for name, frame in out.items()
    }


def _merge_table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    who = ["source", "person_id"]
    if name == "person":
        return frame.drop_duplicates(who)
    if name == "follow_up":
        last = frame.sort_values("end_date", ascending=False, kind="stable").drop_duplicates(who)
        start = frame.groupby(who)["start_date"].min()
        return last.assign(start_date=pd.MultiIndex.from_frame(last[who]).map(start))
    if name == "infection":
        records = frame.assign(person_id=frame["source"] + "\x00" + frame["person_id"])
        episodes = merge_infection_episodes(records.drop_duplicates(list(frame.columns)))
        # two columns whatever the rows (split's expand gives one column for some inputs on
        # older pandas)
        parts = episodes["person_id"].astype(object).str.extract(r"^(.*?)\x00(.*)$")
        return episodes.assign(source=parts[0], person_id=parts[1])
    columns = [c for c in frame.columns if c != "_own"]
    frame = frame.drop_duplicates(columns)
    if name == "outcome":  # one death a person: the earliest
        deaths = frame[frame["outcome_type"] == "death"].sort_values("outcome_date", kind="stable")
        return frame.drop(index=deaths.index[deaths.duplicated(who)])
    return frame
