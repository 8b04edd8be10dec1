"""The canonical rows an importer builds, each carrying its provenance (``_file``, ``_row``,
``_column``: where the row was read, for messages): persons, follow-up (every source's rule
written once), deaths, metastases, infections and cancer diagnoses.

The importers call them through the module (``canonical.death(...)``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def table(frame: pd.DataFrame, values: dict[str, object], column: str) -> pd.DataFrame:
    """Build a canonical table from ``values`` aligned with ``frame``, carrying its provenance.

    ``column`` names the source column that gave the row its date (for error messages).
    """
    out = pd.DataFrame(values, index=frame.index)
    out["_file"] = frame["_file"]
    out["_row"] = frame["_row"]
    out["_column"] = column
    return out.reset_index(drop=True)


def person(rows: pd.DataFrame, *, id_column: str, year_column: str, sex: pd.Series) -> pd.DataFrame:
    """The canonical person rows of checked ``rows`` (``sex``: canonical values per row)."""
    return table(
        rows,
        {
            "person_id": rows[id_column],
            "birth_year": pd.to_numeric(rows[year_column]).astype("Int64"),
            "sex": sex,
        },
        id_column,
    )


def end_follow_up(
    end: pd.Series, reason: np.ndarray, cut: pd.Timestamp | None, *, cut_reason: str
) -> tuple[pd.Series, np.ndarray]:
    """Follow-up ends at ``cut`` (None: no cut) for everybody followed beyond it or without an
    end of their own; their end reason becomes ``cut_reason``."""
    if cut is None:
        return end, reason
    late = end.isna() | (end > cut)
    return end.where(~late, cut), np.where(late, cut_reason, reason)


def follow_up(
    rows: pd.DataFrame,
    ids: pd.Series,
    start: pd.Series,
    end: pd.Series,
    reason: str,
    death: pd.Series,
    *,
    cut: pd.Timestamp | None,
    cut_reason: str,
    column: str,
) -> pd.DataFrame:
    """The canonical follow-up rows, one per person, every source's rule written once.

    Follow-up runs from ``start`` to the person's ``death`` (reason ``death``) where there is
    one, else to the source's own ``end`` (``reason``); it then ends at ``cut`` for everybody
    followed beyond it or without an end (``cut_reason``; None: no cut, see
    :func:`end_follow_up`). ``ids``, ``start``, ``end`` and ``death`` are aligned (one value
    per person, the same index); ``rows`` are the source rows they come from, in that order
    (their provenance, ``column`` naming the source column, goes with each row).
    """
    end, reason = end_follow_up(
        death.fillna(end), np.where(death.notna(), "death", reason), cut, cut_reason=cut_reason
    )
    values = {"person_id": ids, "start_date": start, "end_date": end, "end_reason": reason}
    return table(rows, {k: np.asarray(v) for k, v in values.items()}, column)


def death_dates(deaths: pd.DataFrame) -> pd.Series:
    """Person id -> date of the first death row of each person."""
    return deaths.drop_duplicates("person_id").set_index("person_id")["outcome_date"]


def death(
    rows: pd.DataFrame, ids: pd.Series, dates: pd.Series, cause: object, column: str
) -> pd.DataFrame:
    """Canonical ``death`` outcome rows (``cause``: per row, or None where not given)."""
    values = {"outcome_date": dates, "outcome_type": "death", "site": None, "cause": cause}
    return table(rows, {"person_id": ids, **values}, column)


def metastasis(
    rows: pd.DataFrame, ids: pd.Series, dates: pd.Series, site: object, column: str
) -> pd.DataFrame:
    """Canonical ``distant_metastasis`` outcome rows (``site`` None where not given)."""
    values = {"outcome_date": dates, "outcome_type": "distant_metastasis", "site": site}
    return table(rows, {"person_id": ids, **values, "cause": None}, column)


def infection(
    rows: pd.DataFrame,
    ids: pd.Series,
    dates: pd.Series,
    pathogen: object,
    evidence: str,
    column: str,
    *,
    hospitalised: pd.Series | None = None,
) -> pd.DataFrame:
    """Canonical infection records (``hospitalised`` False where the source does not say)."""
    if hospitalised is None:
        hospitalised = pd.array([False] * len(rows), dtype="boolean")
    values = {"infection_date": dates, "pathogen": pathogen, "evidence": evidence}
    return table(rows, {"person_id": ids, **values, "hospitalised": hospitalised}, column)


def diagnosis(
    rows: pd.DataFrame,
    ids: pd.Series,
    dates: pd.Series,
    site: object,
    column: str,
    *,
    code: object = None,
    stage: object = None,
) -> pd.DataFrame:
    """Canonical cancer diagnoses (receptors NULL: a source that knows them sets them)."""
    values = {"diagnosis_date": dates, "site": site, "code": code, "stage": stage}
    receptors = {"er": None, "pr": None, "her2": None}
    return table(rows, {"person_id": ids, **values, **receptors}, column)
