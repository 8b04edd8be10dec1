"""Input checks and the design matrix for the Cox model: every bad input names rows or terms.

Rows in messages are 1-based data rows, as a spreadsheet user counts them (header = row 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reawaken.epi._estimable import aliased_terms
from reawaken.epi._values import MAX_LISTED as _MAX_LISTED
from reawaken.epi._values import also, first_row, is_missing, reject_rows, rows_text, show
from reawaken.errors import InputError


def as_pandas(data) -> pd.DataFrame:
    """Accept a pandas or polars DataFrame (polars is converted once, columns unchanged)."""
    if isinstance(data, pd.DataFrame):
        return data
    to_pandas = getattr(data, "to_pandas", None)
    if callable(to_pandas):
        return to_pandas()
    raise InputError(f"expected a pandas or polars DataFrame, got {type(data).__name__}")


def _rows(mask: np.ndarray) -> str:
    return rows_text(mask)


def column_of(frame: pd.DataFrame, name: str, *, file=None) -> pd.Series:
    """The column ``name`` of ``frame``; an InputError naming the columns there are if none."""
    if name not in frame.columns:
        raise InputError(
            f"no column {name!r} (columns: {', '.join(map(str, frame.columns))})",
            file=file,
            column=name,
        )
    return frame[name]


def numeric_column(
    frame: pd.DataFrame,
    name: str,
    *,
    file=None,
    expected: str = "a number",
    missing_ok: bool = False,
) -> np.ndarray:
    """A column as float64; a missing column, or a missing, non-numeric or infinite value, is an
    InputError naming the value, its row and column, and what was ``expected``. With
    ``missing_ok`` a missing value (a blank cell) is NaN instead."""
    column = column_of(frame, name, file=file)
    if column.dtype == bool:
        column = column.astype(float)
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raw = column.to_numpy(dtype=object)
        missing = np.array([is_missing(v) for v in raw]) & bad
        if missing_ok:
            bad &= ~missing
            if not bad.any():
                return values
            missing[:] = False
        which = missing if missing.any() else bad
        row = first_row(which)
        if missing.any():
            reason = f"missing value (expected {expected})"
        elif np.isnan(values[row - 1]):
            reason = f"{show(raw[row - 1])} is not a number (expected {expected})"
        else:
            reason = f"{show(raw[row - 1])} is not a finite number (expected {expected})"
        raise InputError(reason + also(which), file=file, row=row, column=name)
    return values


def term_columns(covariates: Sequence[str]) -> list[list[str]]:
    """Split terms: ``a`` is a column, ``a:b`` the product of columns a and b (R's notation)."""
    terms = []
    for term in covariates:
        parts = [part.strip() for part in term.split(":")]
        if not term.strip() or any(not part for part in parts):
            raise InputError(f"empty covariate term in {[str(c) for c in covariates]!r}")
        terms.append(parts)
    return terms


def design_matrix(
    frame: pd.DataFrame, covariates: Sequence[str], *, file=None, missing_ok: bool = False
) -> np.ndarray:
    """The (n, p) covariate matrix; ``a:b`` terms are products of columns. With ``missing_ok`` a
    missing value is NaN (see :func:`numeric_column`)."""
    n = len(frame)
    x = np.empty((n, len(covariates)))
    cache: dict[str, np.ndarray] = {}
    for j, parts in enumerate(term_columns(covariates)):
        value = np.ones(n)
        for part in parts:
            if part not in cache:
                cache[part] = numeric_column(
                    frame,
                    part,
                    file=file,
                    expected="a numeric covariate value",
                    missing_ok=missing_ok,
                )
            value = value * cache[part]
        x[:, j] = value
    if len(set(covariates)) != len(covariates):
        raise InputError(f"covariate terms listed twice: {[str(c) for c in covariates]!r}")
    return x


def check_times(
    start: np.ndarray, stop: np.ndarray, *, start_name: str, stop_name: str, file=None
) -> None:
    for values, name in ((start, start_name), (stop, stop_name)):
        reject_rows(
            values < 0,
            lambda i, values=values: f"negative time {show(values[i])} (times are days >= 0)",
            file=file,
            column=name,
        )
    reject_rows(
        stop <= start,
        lambda i: (
            f"stop {show(stop[i])} is not after start {show(start[i])} "
            "(intervals are (start, stop] with stop > start)"
        ),
        file=file,
        column=stop_name,
    )


def check_event(event: np.ndarray, *, name: str, file=None) -> np.ndarray:
    reject_rows(
        (event != 0) & (event != 1),
        lambda i: f"event {show(event[i])} is not 0 or 1 (1 = event at stop, 0 = none)",
        file=file,
        column=name,
    )
    if not event.any():
        raise InputError(
            "no events: the Cox model needs at least one event", file=file, column=name
        )
    return event == 1


def check_weights(weights: np.ndarray, *, name: str, file=None) -> None:
    reject_rows(
        weights < 0,
        lambda i: f"negative case weight {show(weights[i])} (weights must be >= 0)",
        file=file,
        column=name,
    )


def check_overlap(
    ids: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    *,
    name: str,
    file=None,
    rows: np.ndarray | None = None,
) -> None:
    """Intervals of one id must not overlap (touching, stop == next start, is fine). ``rows``
    are the positions of these rows in the data, when some were left out."""
    order = np.lexsort((start, ids))
    sid, sst, ssp = ids[order], start[order], stop[order]
    clash = (sid[1:] == sid[:-1]) & (sst[1:] < ssp[:-1])
    if clash.any():
        first = np.flatnonzero(clash)
        row = (lambda i: i) if rows is None else (lambda i: int(rows[i]))
        pairs = [f"{row(order[i]) + 1} and {row(order[i + 1]) + 1}" for i in first[:_MAX_LISTED]]
        more = f" and {len(first) - _MAX_LISTED} more" if len(first) > _MAX_LISTED else ""
        raise InputError(
            f"overlapping intervals within one id: rows {'; '.join(pairs)}{more}",
            file=file,
            column=name,
        )


def incomplete_rows(
    frame: pd.DataFrame, roles: dict[str, str], *, missing: str, file=None
) -> tuple[np.ndarray, dict[str, int]]:
    """Rows with a missing value in any column of ``roles`` (column: what it holds), and the
    count of missing values per column that has any.

    ``missing="error"`` refuses the first missing value instead, naming its row and column;
    ``"drop"`` returns the rows for the caller to leave out (R's ``na.omit``).
    """
    if missing not in ("drop", "error"):
        raise InputError(f"missing must be 'drop' or 'error', got {show(missing)}")
    incomplete = np.zeros(len(frame), dtype=bool)
    counts: dict[str, int] = {}
    for column, role in roles.items():
        values = column_of(frame, column, file=file)
        gaps = np.array(values.isna(), dtype=bool)
        if values.dtype == object:
            gaps |= np.array([isinstance(v, str) and not v.strip() for v in values])
        if not gaps.any():
            continue
        if missing == "error":
            raise InputError(
                f"missing value (expected {role}){also(gaps)}",
                file=file,
                row=first_row(gaps),
                column=column,
            )
        counts[column] = int(gaps.sum())
        incomplete |= gaps
    return incomplete, counts


def codes(values: pd.Series) -> np.ndarray:
    """Integer codes 0..k-1 of a column (strata, clusters, ids); missing values not allowed."""
    codes_, _ = pd.factorize(values, sort=True)
    return codes_.astype(np.int64)


def unestimable_in_data(
    x: np.ndarray,
    weights: np.ndarray,
    strata: np.ndarray,
    terms: Sequence[str],
) -> dict[str, str]:
    """Terms constant (within every stratum) or aliased with earlier terms, with the reason
    (see :mod:`reawaken.epi._estimable`).

    Uses the weighted within-stratum cross-product matrix: a term without spread is constant;
    one whose residual on the kept terms before it vanishes is aliased.
    """
    p = x.shape[1]
    n_strata = int(strata.max()) + 1
    wsum = np.bincount(strata, weights=weights, minlength=n_strata)
    wsum[wsum == 0] = 1.0
    xc = np.empty_like(x)
    for j in range(p):
        mean = np.bincount(strata, weights=weights * x[:, j], minlength=n_strata) / wsum
        xc[:, j] = x[:, j] - mean[strata]
    cross = (xc * weights[:, None]).T @ xc
    scale_ = np.maximum(np.abs(x).max(axis=0), 1e-300) ** 2 * max(weights.sum(), 1e-300)
    several = n_strata > 1
    return aliased_terms(
        cross,
        terms,
        flat=np.diag(cross) <= 1e-24 * scale_,
        flat_reason="constant within every stratum" if several else "constant",
        aliased_reason="aliased: a linear combination of {terms}",
    )
