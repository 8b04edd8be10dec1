"""Input checks and the design matrix for the Cox model: every bad input names rows or terms.

Rows in messages are 1-based data rows, as a spreadsheet user counts them (header = row 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

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


def numeric_column(
    frame: pd.DataFrame, name: str, *, file=None, expected: str = "a number"
) -> np.ndarray:
    """A column as float64; a missing column, or a missing, non-numeric or infinite value, is an
    InputError naming the value, its row and column, and what was ``expected``."""
    if name not in frame.columns:
        raise InputError(
            f"no column {name!r} (columns: {', '.join(map(str, frame.columns))})",
            file=file,
            column=name,
        )
    column = frame[name]
    if column.dtype == bool:
        column = column.astype(float)
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raw = column.to_numpy(dtype=object)
        missing = np.array([is_missing(v) for v in raw]) & bad
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


def design_matrix(frame: pd.DataFrame, covariates: Sequence[str], *, file=None) -> np.ndarray:
    """The (n, p) covariate matrix; ``a:b`` terms are products of columns."""
    n = len(frame)
    x = np.empty((n, len(covariates)))
    cache: dict[str, np.ndarray] = {}
    for j, parts in enumerate(term_columns(covariates)):
        value = np.ones(n)
        for part in parts:
            if part not in cache:
                cache[part] = numeric_column(
                    frame, part, file=file, expected="a numeric covariate value"
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
    ids: np.ndarray, start: np.ndarray, stop: np.ndarray, *, name: str, file=None
) -> None:
    """Intervals of one id must not overlap (touching, stop == next start, is fine)."""
    order = np.lexsort((start, ids))
    sid, sst, ssp = ids[order], start[order], stop[order]
    clash = (sid[1:] == sid[:-1]) & (sst[1:] < ssp[:-1])
    if clash.any():
        first = np.flatnonzero(clash)
        pairs = [f"{order[i] + 1} and {order[i + 1] + 1}" for i in first[:_MAX_LISTED]]
        more = f" and {len(first) - _MAX_LISTED} more" if len(first) > _MAX_LISTED else ""
        raise InputError(
            f"overlapping intervals within one id: rows {'; '.join(pairs)}{more}",
            file=file,
            column=name,
        )


def codes(values: pd.Series) -> np.ndarray:
    """Integer codes 0..k-1 of a column (strata, clusters, ids); missing values not allowed."""
    codes_, _ = pd.factorize(values, sort=True)
    return codes_.astype(np.int64)


def check_design(
    x: np.ndarray,
    weights: np.ndarray,
    strata: np.ndarray,
    terms: Sequence[str],
    *,
    tol: float = 1e-10,
) -> None:
    """Constant (within every stratum) or collinear covariates are errors naming the terms.

    Uses the weighted within-stratum cross-product matrix scaled to unit diagonal and a
    sequential Cholesky: a term whose pivot falls under ``tol`` lies in the span of the terms
    before it.
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
    diag = np.diag(cross).copy()
    scale_ = np.maximum(np.abs(x).max(axis=0), 1e-300) ** 2 * max(weights.sum(), 1e-300)
    constant = diag <= 1e-24 * scale_
    if constant.any():
        names = ", ".join(repr(str(terms[j])) for j in np.flatnonzero(constant))
        raise InputError(
            f"covariate {names} is constant (within every stratum) and cannot be estimated"
        )
    corr = cross / np.sqrt(np.outer(diag, diag))
    for j in range(1, p):
        sub = corr[:j, :j]
        coef = np.linalg.lstsq(sub, corr[:j, j], rcond=None)[0]
        residual = corr[j, j] - corr[:j, j] @ coef
        if residual < tol:
            involved = [repr(str(terms[i])) for i in range(j) if abs(coef[i]) > 1e-8]
            raise InputError(
                f"covariate {str(terms[j])!r} is collinear with "
                f"{', '.join(involved) or 'earlier terms'}; drop one of them"
            )
