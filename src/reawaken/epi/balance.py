"""Covariate balance between two groups: weighted standardized mean differences.

The standardized mean difference of a covariate between group 1 and group 0 is the difference
of the (weighted) means over the square root of the mean of the two groups' variances:
``(m1 - m0) / sqrt((s1^2 + s0^2) / 2)`` (Austin, "Balance diagnostics for comparing the
distribution of baseline covariates between treatment groups in propensity-score matched
samples", Stat Med 28:3083-3107, 2009). A categorical covariate gives one row per level, its
indicator's proportions ``p`` with variances ``p (1 - p)``; a numeric one its weighted mean and
the weighted variance ``sum(w) / (sum(w)^2 - sum(w^2)) * sum(w (x - m)^2)`` (Austin & Stuart,
"Moving towards best practice when using inverse probability of treatment weighting (IPTW)
using the propensity score to estimate causal treatment effects in observational studies",
Stat Med 34:3661-3679, 2015). An absolute difference above 0.1 is commonly read as meaningful
imbalance (Austin 2009).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reawaken.epi._values import show

SMD_THRESHOLD = 0.1
"""Absolute standardized mean difference above which a covariate is reported as imbalanced."""

BALANCE_COLUMNS = ["covariate", "level", "mean_1", "mean_0", "smd"]


def _weighted_mean_var(x: np.ndarray, w: np.ndarray, binary: bool) -> tuple[float, float]:
    total = w.sum()
    if total <= 0:
        return np.nan, np.nan
    mean = float(w @ x / total)
    if binary:
        return mean, max(mean * (1.0 - mean), 0.0)  # a level everyone has: mean 1 +- rounding
    denominator = total**2 - (w * w).sum()
    if denominator <= 0:
        return mean, np.nan
    return mean, float(total / denominator * (w @ (x - mean) ** 2))


def _smd(x: np.ndarray, group: np.ndarray, w: np.ndarray, binary: bool) -> tuple[float, ...]:
    m1, v1 = _weighted_mean_var(x[group], w[group], binary)
    m0, v0 = _weighted_mean_var(x[~group], w[~group], binary)
    diff = m1 - m0
    scale = np.sqrt(max((v1 + v0) / 2.0, 0.0)) if np.isfinite(v1 + v0) else np.nan
    if abs(diff) <= 1e-12 * max(1.0, abs(m1), abs(m0)):  # equal up to rounding of the weights
        return m1, m0, 0.0
    return m1, m0, float(diff / scale) if scale > 0 else np.nan


def standardized_differences(
    frame: pd.DataFrame,
    covariates: Sequence[str],
    *,
    group: np.ndarray,
    weights: np.ndarray | None = None,
    categorical: Sequence[str] = (),
) -> pd.DataFrame:
    """Weighted standardized mean difference of each covariate between two groups.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per member of either group.
    covariates : sequence of str
        Columns compared. Those in ``categorical``, and any column that is not numeric (or is
        boolean), are compared level by level (a missing value is the level ``missing``); the
        others as numbers, leaving out missing values.
    group : numpy.ndarray
        True (or 1) for group 1, False (or 0) for group 0, per row.
    weights : numpy.ndarray, optional
        Non-negative weight of each row (e.g. matching weights); all 1 by default.
    categorical : sequence of str, optional
        Columns compared level by level even if numeric (e.g. exact-matching strata coded as
        numbers).

    Returns
    -------
    pandas.DataFrame
        One row per numeric covariate and per level of a categorical one: ``covariate``,
        ``level`` (missing for a numeric covariate), ``mean_1`` and ``mean_0`` (weighted mean,
        or proportion of the level, per group) and ``smd`` (NaN when both variances are 0 and
        the means differ: no spread to scale the difference by).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [60.0, 70.0, 50.0, 60.0], "sex": ["f", "m", "f", "f"]})
    >>> standardized_differences(frame, ["age", "sex"], group=np.array([1, 1, 0, 0]))
      covariate level  mean_1  mean_0       smd
    0       age   NaN    65.0    55.0  1.414214
    1       sex     f     0.5     1.0 -1.414214
    2       sex     m     0.5     0.0  1.414214
    """
    group = np.asarray(group).astype(bool)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    rows = []
    for col in covariates:
        values = frame[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and col not in categorical:
            x = values.to_numpy(dtype=float)
            ok = np.isfinite(x)
            rows.append((col, None, *_smd(x[ok], group[ok], w[ok], binary=False)))
            continue
        codes, levels = pd.factorize(values, sort=True, use_na_sentinel=True)
        names = [show(v) if not isinstance(v, str) else v for v in levels]
        if (codes < 0).any():
            codes = np.where(codes < 0, len(names), codes)
            names.append("missing")
        for k, name in enumerate(names):
            x = (codes == k).astype(float)
            rows.append((col, name, *_smd(x, group, w, binary=True)))
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def imbalance_note(balance: pd.DataFrame, threshold: float = SMD_THRESHOLD) -> str | None:
    """One line naming the covariates (and levels) whose absolute standardized mean difference
    exceeds ``threshold`` or cannot be computed, or None when there are none."""
    smd = balance["smd"].to_numpy(dtype=float)
    bad = ~(np.abs(smd) <= threshold)
    if not bad.any():
        return None
    parts = []
    for row in balance[bad].itertuples(index=False):
        name = row.covariate if pd.isna(row.level) else f"{row.covariate}={row.level}"
        value = "not computable" if np.isnan(row.smd) else f"{row.smd:.2f}"
        parts.append(f"{name} ({value})")
    return (
        f"covariate balance: absolute standardized mean difference above {threshold:g} for "
        + ", ".join(parts)
    )
