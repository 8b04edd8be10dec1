"""Concept sets: which source codes mean a cancer, a metastasis, an infection, a vaccine, a cause.

Each set is the packaged data file under ``reawaken/cohort/concepts/`` plus the rows the
pathogen table gives (:mod:`reawaken.pathogens`: the ``infection`` and ``test`` roles and every
CVX code). Users extend the sets by passing a folder holding files of the same names
(``icd10.csv``, ``icd9.csv``, ``cvx.csv``, ``omop.csv``); their rows are added to the packaged
ones and win where both give a code.

* ``icd10.csv`` / ``icd9.csv``: ``prefix, role, value, label``. A code (dots removed, upper case)
  matches the longest prefix of its role. Roles: ``cancer`` (value: site), ``metastasis``
  (value: metastasis site), ``infection`` (value: pathogen), ``death_cause`` (value: cause).
* ``cvx.csv``: ``code, vaccine, label`` (CDC CVX vaccine codes).
* ``omop.csv``: ``concept_id, role, value, label`` (OMOP standard concepts; roles as above plus
  ``test`` (value: pathogen tested for), ``result`` (value ``positive``) and ``sex``).
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken import pathogens
from reawaken.errors import InputError

_ICD_SHAPE = re.compile(r"^[A-Z0-9]{3,7}$")


def normalise_code(codes: pd.Series) -> pd.Series:
    """Upper-case codes with dots and spaces removed (``'c78.01'`` -> ``'C7801'``); NA stays NA."""
    text = codes.astype("string").str.upper().str.replace(r"[.\s]", "", regex=True)
    return text.where(text != "", pd.NA)


def well_formed(codes: pd.Series) -> pd.Series:
    """True where a normalised code looks like an ICD-9/ICD-10 code (3-7 letters/digits)."""
    return codes.fillna("").str.match(_ICD_SHAPE).astype(bool)


CONCEPT_FILES = ("icd10.csv", "icd9.csv", "cvx.csv", "omop.csv")
_COLUMNS = {
    "icd10.csv": ["prefix", "role", "value", "label"],
    "icd9.csv": ["prefix", "role", "value", "label"],
    "cvx.csv": ["code", "vaccine", "label"],
    "omop.csv": ["concept_id", "role", "value", "label"],
}


def _packaged(name: str) -> pd.DataFrame:
    """The packaged file's rows, then the rows of the pathogen table."""
    return _concept_set(name, pathogens.table())


@cache
def _concept_set(name: str, table: tuple[pathogens.Pathogen, ...]) -> pd.DataFrame:
    folder = resources.files("reawaken.cohort").joinpath("concepts")
    frames = []
    if folder.joinpath(name).is_file():
        with folder.joinpath(name).open("r") as handle:
            frames.append(pd.read_csv(handle, dtype=str, keep_default_na=False))
    rows = [row for pathogen in table for row in _pathogen_rows(name, pathogen)]
    frames.append(pd.DataFrame(rows, columns=_COLUMNS[name], dtype=str))
    return pd.concat(frames, ignore_index=True)


def _pathogen_rows(name: str, p: pathogens.Pathogen) -> list[list[str]]:
    """The concept-set rows one pathogen gives to file ``name``."""
    if name == "cvx.csv":
        return [[c.code, p.id, c.label] for c in p.cvx]
    if name == "omop.csv":
        return [
            [str(c.concept_id), role, p.id, c.label]
            for role, concepts in (("infection", p.omop_conditions), ("test", p.omop_tests))
            for c in concepts
        ]
    icd = p.icd10 if name == "icd10.csv" else p.icd9
    return [[pathogens.icd_prefix(c.code), "infection", p.id, c.label] for c in icd]


def check_concepts(extra: str | Path | None) -> Path | None:
    """A user's concepts folder: it must exist, be a folder and hold at least one concept file
    (:data:`CONCEPT_FILES`); otherwise its codes would be silently ignored."""
    if extra is None:
        return None
    path = Path(extra)
    if not path.exists():
        raise InputError("concepts folder not found", file=path)
    if not path.is_dir():
        raise InputError(
            f"concepts must be a folder holding {', '.join(CONCEPT_FILES)} (any of them), "
            "not a file",
            file=path,
        )
    if not any((path / name).is_file() for name in CONCEPT_FILES):
        raise InputError(
            f"the concepts folder holds none of {', '.join(CONCEPT_FILES)}, so it would add "
            "no codes",
            file=path,
        )
    return path


def load(name: str, extra: str | Path | None = None) -> pd.DataFrame:
    """The concept set ``name`` (e.g. ``'icd10.csv'``), with a user's extra rows first if given."""
    table = _packaged(name)
    if extra is not None:
        path = Path(extra) / name
        if path.exists():
            try:
                user = pd.read_csv(path, dtype=str, keep_default_na=False)
            except (ValueError, OSError) as exc:
                raise InputError(f"cannot read concept file: {exc}", file=path) from exc
            missing = [c for c in table.columns if c not in user.columns and c != "label"]
            if missing:
                raise InputError(f"concept file lacks column(s) {missing}", file=path)
            table = pd.concat([user, table], ignore_index=True)
    return table


def classify_icd(
    codes: pd.Series, role: str, *, version: int = 10, extra: str | Path | None = None
) -> pd.Series:
    """Map ICD codes to the ``value`` of the longest matching ``role`` prefix; NA where none."""
    table = load(f"icd{version}.csv", extra)
    table = table[table["role"] == role]
    norm = normalise_code(codes)
    out = pd.Series(pd.NA, index=codes.index, dtype="object")
    if table.empty:
        return out
    prefixes = table.assign(n=table["prefix"].str.len())
    prefixes = prefixes.sort_values("n", ascending=False, kind="stable")  # user rows stay first
    prefixes = prefixes.drop_duplicates("prefix", keep="first")
    unresolved = np.ones(len(codes), dtype=bool)
    values = norm.fillna("").to_numpy(dtype=str)
    for prefix, value in zip(prefixes["prefix"], prefixes["value"], strict=True):
        hit = unresolved & np.char.startswith(values, prefix) & (values != "")
        out[hit] = value
        unresolved &= ~hit
    return out


def cvx_vaccines(extra: str | Path | None = None) -> dict[str, str]:
    """CVX code (no leading zeros) -> canonical vaccine."""
    return _cvx(load("cvx.csv", extra))


def _cvx(table: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, vaccine in zip(table["code"], table["vaccine"], strict=True):
        key = code.strip().lstrip("0") or "0"
        out.setdefault(key, vaccine)
    return out


def omop_concepts(role: str, extra: str | Path | None = None) -> dict[int, str]:
    """OMOP concept_id -> value for one role."""
    table = load("omop.csv", extra)
    table = table[table["role"] == role]
    out: dict[int, str] = {}
    for cid, value in zip(table["concept_id"], table["value"], strict=True):
        try:
            key = int(cid)
        except (TypeError, ValueError):
            file = Path(extra) / "omop.csv" if extra is not None else "omop.csv"
            raise InputError(
                f"concept_id {cid!r} of role {role} is not a whole number",
                file=file,
                column="concept_id",
            ) from None
        out.setdefault(key, value)
    return out
