"""Tidy result tables shared by every estimator, and the result base of every ratio fit.

Every ratio model (Cox, SCCS, Fine-Gray, emulation) derives from :class:`RatioResult` and
reports the same columns::

    term, coef, se, ratio, ci_lower, ci_upper, p_value

``ratio = exp(coef)`` (hazard ratio, relative incidence or subdistribution hazard ratio) and the
confidence interval is the ratio's, ``exp(coef +/- z * se)``; ``p_value`` is the two-sided Wald p.
Small counts are suppressed where results are written (:mod:`reawaken.epi.outputs`).

A table holding an estimate that is not an ordinary one has one more column, ``status``
(:func:`mark_estimates`): ``not estimable`` for a term reported as NA (empty numbers; see
:mod:`reawaken.epi._estimable`), ``not converged`` for every other term of a fit that did not
converge (its numbers are where the iteration stopped, not estimates), ``estimated`` for the
rest. A table without the column holds ordinary estimates only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from reawaken.accepts import real
from reawaken.epi.outputs import ESTIMATE_COLUMNS, write_fit

LEVEL = real(0.0, 1.0, lo_open=True, hi_open=True, why="e.g. 0.95 for 95% intervals")
"""What a confidence level may be."""


def check_level(level: object) -> float:
    """The confidence level as a float in (0, 1), else an InputError saying so."""
    return LEVEL.check("confidence level", level)


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


STATUS_COLUMN = "status"
"""The column that marks estimates that are not ordinary ones (:func:`mark_estimates`)."""
ESTIMATED, NOT_ESTIMABLE, NOT_CONVERGED = "estimated", "not estimable", "not converged"


def mark_estimates(
    table: pd.DataFrame, *, converged: bool = True, not_estimable: Iterable[str] = ()
) -> pd.DataFrame:
    """Mark a standard estimates table whose fit did not converge or has terms reported as NA.

    The numbers of the terms in ``not_estimable`` are emptied (NA) and a ``status`` column is
    added: ``not estimable`` for them, ``not converged`` for the others when the fit did not
    converge, else ``estimated``. A converged fit with every term estimable is returned
    unchanged (no ``status`` column). ``table`` is changed in place and returned.
    """
    not_estimable = list(not_estimable)
    if converged and not not_estimable:
        return table
    na = table["term"].isin(not_estimable).to_numpy()
    table.loc[na, ESTIMATE_COLUMNS[1:]] = np.nan
    table[STATUS_COLUMN] = np.where(na, NOT_ESTIMABLE, ESTIMATED if converged else NOT_CONVERGED)
    return table


class RatioResult(ABC):
    """What every ratio fit shares: Cox, SCCS, Fine-Gray and emulation results derive from it.

    :meth:`estimates` gives the standard table (:data:`ESTIMATE_COLUMNS`: ``term, coef, se,
    ratio, ci_lower, ci_upper, p_value``, with ``ratio = exp(coef)``) at a confidence level,
    :meth:`summary` the fit statistics as plain JSON-ready values, :meth:`write` both as files
    (``estimates.csv`` and ``fit.json``). A new estimator derives from it and defines
    ``estimates`` and ``summary``.

    Attributes
    ----------
    level : float
        The confidence level the fit was made at (0.95 unless the fit records another);
        ``estimates(level=None)`` uses it.

    Examples
    --------
    >>> from reawaken.epi import RatioResult, example_data, fit_fine_gray
    >>> df = example_data("competing")
    >>> fit = fit_fine_gray(df, time="time", event="event", covariates=["infected"])
    >>> isinstance(fit, RatioResult)
    True
    >>> fit.estimates(level=0.9)[["term", "ratio", "ci_lower", "ci_upper"]].round(3)
           term  ratio  ci_lower  ci_upper
    0  infected  4.681     0.915    23.942
    """

    level: float = 0.95

    @abstractmethod
    def estimates(self, *, level: float | None = None) -> pd.DataFrame:
        """The standard estimates table: ``term, coef, se, ratio, ci_lower, ci_upper, p_value``."""

    @abstractmethod
    def summary(self) -> dict:
        """Fit statistics as plain JSON-ready values (what ``fit.json`` holds)."""

    def write(
        self,
        out: str | Path,
        *,
        level: float | None = None,
        data: str | Path | None = None,
        warnings: Sequence[str] = (),
        record: Mapping[str, Any] | None = None,
    ) -> list[Path]:
        """Write ``out/estimates.csv`` and ``out/fit.json`` (the summary, the warnings given,
        the data file and the terms, plus the entries of ``record``) atomically; returns the
        paths written."""
        table = self.estimates(level=level)
        terms = list(table["term"])
        return write_fit(
            out, table, self.summary(), data=data, terms=terms, warnings=warnings, record=record
        )


class RatioFit(RatioResult):
    """A ratio model fitted on the log scale: ``terms``, ``coef`` and their variance ``var``;
    intervals and p-values are Wald's (:func:`estimates_table`)."""

    terms: list[str]
    coef: np.ndarray
    var: np.ndarray

    @property
    def se(self) -> np.ndarray:
        """Standard errors, the square roots of the variance's diagonal."""
        return np.sqrt(np.diag(self.var))

    def estimates(self, *, level: float | None = None) -> pd.DataFrame:
        """The standard estimates table (:data:`ESTIMATE_COLUMNS`) at ``level`` (default: the
        fit's own level), marked (:func:`mark_estimates`) when the fit did not converge
        (``converged``) or has terms reported as NA (``not_estimable``)."""
        level = self.level if level is None else level
        table = estimates_table(self.terms, self.coef, self.se, level=level)
        return mark_estimates(
            table,
            converged=bool(getattr(self, "converged", True)),
            not_estimable=getattr(self, "not_estimable", {}),
        )


@dataclass(frozen=True, kw_only=True)
class NewtonRatioFit(RatioFit):
    """A ratio model fitted by Newton-Raphson on a log-likelihood (Fine-Gray, case series).

    Its ``summary()`` is ``model``, the fit's own counts (:meth:`counts`: the fields a fit names
    in its ``counted``), the log-likelihoods at zero and at the estimate, the iterations and
    whether the fit converged.

    Parameters
    ----------
    terms : list of str
        The model terms, in the order of ``coef``.
    coef : numpy.ndarray
        Log ratios.
    var : numpy.ndarray
        Their variance matrix (NaN where the information matrix is singular).
    loglik, loglik_null : float
        Log-likelihood at the estimate and at zero.
    iterations : int
        Newton-Raphson iterations.
    converged : bool
        Whether the fit converged to a finite maximum.
    notes : list of str
        What the fit found worth saying (non-convergence, a singular information matrix).
    not_estimable : dict of str to str
        Terms reported as NA, with the reason (see :mod:`reawaken.epi._estimable`).

    Attributes
    ----------
    se : numpy.ndarray
        Standard errors, the square roots of the diagonal of ``var``.
    """

    model: ClassVar[str]
    counted: ClassVar[tuple[str, ...]]
    terms: list[str]
    coef: np.ndarray
    var: np.ndarray
    loglik: float
    loglik_null: float
    iterations: int
    converged: bool
    notes: list[str] = field(default_factory=list)
    not_estimable: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """The numbers the fit was made on (persons, events, ...): its fields named in
        ``counted``, in that order."""
        return {name: getattr(self, name) for name in self.counted}

    def summary(self) -> dict[str, object]:
        """Fit statistics as plain JSON-ready values."""
        return {
            "model": self.model,
            **self.counts(),
            "loglik_null": self.loglik_null,
            "loglik": self.loglik,
            "iterations": self.iterations,
            "converged": self.converged,
        }
