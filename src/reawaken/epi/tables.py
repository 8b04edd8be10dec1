"""Tidy result tables shared by every estimator, and small-cell suppression.

Every ratio model (Cox, SCCS, Fine-Gray) reports the same columns::

    term, coef, se, ratio, ci_lower, ci_upper, p_value

``ratio = exp(coef)`` (hazard ratio, relative incidence or subdistribution hazard ratio) and the
confidence interval is the ratio's, ``exp(coef +/- z * se)``; ``p_value`` is the two-sided Wald p.
Counts leaving the machine below a threshold (default 10, as UK Biobank and Flatiron require)
are suppressed, never printed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from reawaken.epi._values import show
from reawaken.errors import InputError

ESTIMATE_COLUMNS = ["term", "coef", "se", "ratio", "ci_lower", "ci_upper", "p_value"]
DEFAULT_MIN_CELL = 10


def check_level(level: object) -> float:
    """The confidence level as a float in (0, 1), else an InputError saying so."""
    try:
        value = float(level)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(
            f"confidence level {show(level)} is not a number (expected e.g. 0.95)"
        ) from None
    if not (0.0 < value < 1.0):
        raise InputError(
            f"confidence level must be between 0 and 1 (exclusive), got {value:g}; "
            "e.g. 0.95 for 95% intervals"
        )
    return value


def estimates_table(
    terms: Sequence[str],
    coef: Sequence[float] | np.ndarray,
    se: Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Build the standard estimates table from log-scale coefficients and standard errors."""
    coef = np.asarray(coef, dtype=float)
    se = np.asarray(se, dtype=float)
    level = check_level(level)
    z = stats.norm.ppf(0.5 + level / 2.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        wald = coef / se
        return pd.DataFrame(
            {
                "term": list(terms),
                "coef": coef,
                "se": se,
                "ratio": np.exp(coef),
                "ci_lower": np.exp(coef - z * se),
                "ci_upper": np.exp(coef + z * se),
                "p_value": 2.0 * stats.norm.sf(np.abs(wald)),
            },
            columns=ESTIMATE_COLUMNS,
        )


class RatioEstimates:
    """Mixin for fitted ratio models holding ``terms``, ``coef`` (log scale) and ``var``."""

    terms: list[str]
    coef: np.ndarray
    var: np.ndarray

    @property
    def se(self) -> np.ndarray:
        """Standard errors, the square roots of the variance's diagonal."""
        return np.sqrt(np.diag(self.var))

    def estimates(self, *, level: float = 0.95) -> pd.DataFrame:
        """The standard estimates table (:data:`ESTIMATE_COLUMNS`)."""
        return estimates_table(self.terms, self.coef, self.se, level=level)


def suppress_small_counts(
    frame: pd.DataFrame, columns: Sequence[str], *, min_cell: int = DEFAULT_MIN_CELL
) -> pd.DataFrame:
    """Return a copy with counts in ``columns`` that are in ``1 .. min_cell - 1`` replaced by NA.

    Zero is kept (it reveals no one). The count columns become pandas nullable integers so a
    suppressed cell prints as empty, never as a number.
    """
    out = frame.copy()
    for column in columns:
        values = pd.to_numeric(out[column]).astype("Int64")
        out[column] = values.mask((values > 0) & (values < min_cell))
    return out
