"""Counting-process Cox proportional hazards model, equal to R's ``survival::coxph``.

Data are intervals ``(start, stop]`` (days, or any one time scale) with an event flag at
``stop``: time-varying exposures such as time-since-infection windows enter by splitting a
person's follow-up into several rows (see :mod:`reawaken.epi.intervals`). Supported: Efron
(default) and Breslow ties, strata, case weights, cluster-robust (sandwich) variance as
``coxph(..., cluster=)`` gives, Wald, likelihood-ratio and score tests, and confidence intervals
of the hazard ratio.

Method: Cox (1972) partial likelihood; Andersen and Gill (1982) counting process; Efron (1977)
ties; Lin and Wei (1989) robust variance from dfbeta residuals summed within clusters;
Newton-Raphson with step-halving as in Therneau and Grambsch (2000), *Modeling Survival Data*,
and R's survival 3.5 (coxph.control: eps = 1e-9, iter.max = 20). The risk-set sums are vectorised
(see :mod:`reawaken.epi._cox_core`); the iteration is :func:`reawaken.epi._newton.coxph_newton`.

Example::

    result = fit_cox(df, start="start", stop="stop", event="event",
                     covariates=["age", "year", "surgery", "transplant"], cluster="id")
    result.estimates()        # term, coef, se, ratio, ci_lower, ci_upper, p_value
    result.summary()          # loglik_null, loglik, n, events, iterations, converged, tests
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, stats

from reawaken.epi import _cox_input as checks
from reawaken.epi._cox_core import RiskSets, not_estimable
from reawaken.epi._cox_zph import TRANSFORMS, ZphInput, zph_table
from reawaken.epi._estimable import INFINITE, na_notes
from reawaken.epi._newton import coxph_newton
from reawaken.epi._values import show
from reawaken.epi.tables import RatioFit, check_level
from reawaken.errors import ConvergenceWarning, InputError

TIES = ("efron", "breslow")
MISSING = ("drop", "error")


@dataclass(frozen=True)
class CoxResult(RatioFit):
    """A fitted Cox model, as :func:`fit_cox` returns it.

    ``estimates()`` gives the standard table (``term, coef, se, ratio, ci_lower, ci_upper,
    p_value``; ratio = hazard ratio) at the ``level`` given to :func:`fit_cox` unless another is
    asked for; ``summary()`` the log-likelihoods, counts, iterations and global tests as plain
    values (what ``fit.json`` holds); ``write(out)`` both as files.

    Parameters
    ----------
    terms : list of str
        The covariate terms, in the order of ``coef``.
    coef : numpy.ndarray
        Log hazard ratios.
    var : numpy.ndarray
        Their variance matrix: the robust (sandwich) one when ``robust`` is true, else
        ``naive_var``. ``se`` is the square root of its diagonal.
    naive_var : numpy.ndarray
        The model-based variance, the inverse of the information matrix.
    robust : bool
        Whether ``var`` is the robust variance.
    loglik_null, loglik : float
        Partial log-likelihood at zero and at the estimate.
    n : int
        Number of rows (intervals) fitted.
    events : int
        Number of events.
    iterations : int
        Newton-Raphson iterations (as R's ``coxph`` counts them).
    converged : bool
        Whether the iteration converged within ``max_iter``.
    ties : str
        ``"efron"`` or ``"breslow"``.
    score_test : float
        Score (log-rank) test of all coefficients.
    robust_score_test : float or None
        Robust score test, when ``robust``.
    level : float, default 0.95
        Confidence level of ``estimates()``.
    infinite_terms : list of str
        Terms whose coefficient may be infinite (the log-likelihood converged before them, R's
        check); they are reported as NA.
    not_estimable : dict of str to str
        Terms reported as NA, with the reason (:mod:`reawaken.epi._estimable`): constant or
        aliased ones are left out of the fit (their ``coef`` and ``var`` entries are NaN),
        infinite ones keep the values where the fit stopped.
    notes : list of str
        What the fit found worth saying: terms reported as NA, why it did not converge.
    missing : dict
        Rows left out for missing values: ``rows_deleted`` and ``by_variable`` (the count of
        missing values in each variable of the model that has any).

    Attributes
    ----------
    se, naive_se : numpy.ndarray
        Standard errors from ``var`` and from ``naive_var``.
    df : int
        Degrees of freedom of the global tests (the number of terms fitted: not the constant
        or aliased ones).
    wald_test, lr_test : float
        Wald (with ``var``) and likelihood-ratio chi-square of all coefficients.

    Examples
    --------
    A fit with Breslow's handling of ties, and what the result holds besides the estimates:

    >>> from reawaken.epi import example_data, fit_cox
    >>> one = fit_cox(example_data("cox"), start="start", stop="stop", event="event",
    ...               covariates=["infected"], ties="breslow")
    >>> one.events, one.converged, one.iterations, one.df
    (5, True, 3, 1)
    >>> round(one.lr_test, 3), round(float(one.se[0]), 3)
    (0.826, 0.933)
    """

    terms: list[str]
    coef: np.ndarray
    var: np.ndarray
    naive_var: np.ndarray
    robust: bool
    loglik_null: float
    loglik: float
    n: int
    events: int
    iterations: int
    converged: bool
    ties: str
    score_test: float
    robust_score_test: float | None
    level: float = 0.95
    infinite_terms: list[str] = field(default_factory=list)
    not_estimable: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    missing: dict = field(default_factory=lambda: {"rows_deleted": 0, "by_variable": {}})
    zph_input: ZphInput | None = field(default=None, repr=False, compare=False)

    @property
    def naive_se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.naive_var))

    @property
    def fitted(self) -> np.ndarray:
        """Which terms were fitted (not left out as constant or aliased)."""
        return ~np.isnan(self.coef)

    @property
    def df(self) -> int:
        return int(self.fitted.sum())

    @property
    def wald_test(self) -> float:
        """Wald chi-square of all coefficients, with the variance reported in ``se``."""
        b, k = self.coef[self.fitted], self.fitted
        try:
            return float(b @ linalg.solve(self.var[np.ix_(k, k)], b, assume_a="pos"))
        except (linalg.LinAlgError, ValueError):
            return float("nan")  # a singular variance: no Wald test (reported as null)

    @property
    def lr_test(self) -> float:
        return 2.0 * (self.loglik - self.loglik_null)

    @property
    def variance_type(self) -> str:
        """``"robust"`` (sandwich, with a cluster) or ``"model"`` (inverse information)."""
        return "robust" if self.robust else "model"

    def summary(self) -> dict:
        """Plain dict for fit.json: log-likelihoods, counts, iterations and the global tests."""

        def test(stat: float | None) -> dict | None:
            if stat is None or not np.isfinite(stat):
                return None
            return {
                "statistic": stat,
                "df": self.df,
                "p_value": float(stats.chi2.sf(stat, self.df)),
            }

        return {
            "loglik_null": self.loglik_null,
            "loglik": self.loglik,
            "n": self.n,
            "events": self.events,
            "iterations": self.iterations,
            "converged": self.converged,
            "ties": self.ties,
            "variance": self.variance_type,
            "likelihood_ratio_test": test(self.lr_test),
            "wald_test": test(self.wald_test),
            "score_test": test(self.score_test),
            "robust_score_test": test(self.robust_score_test),
            "infinite_terms": self.infinite_terms,
            "not_estimable": self.not_estimable,
            "missing": self.missing,
            "proportional_hazards": self._zph_summary(),
            "notes": self.notes,
        }

    def _zph_summary(self) -> dict | None:
        """cox.zph's table (transform km) for fit.json; None when the fit did not converge or
        holds no data."""
        if not self.converged or self.zph_input is None:
            return None
        try:
            table = cox_zph(self)
        except (linalg.LinAlgError, ValueError):
            return None
        return {
            "test": "score test of beta(t) = beta + theta g(t), as R's cox.zph (survival >= 3)",
            "transform": "km",
            "table": table.to_dict(orient="records"),
        }


def cox_zph(fit: CoxResult, *, transform: str = "km") -> pd.DataFrame:
    """Test proportional hazards per term and globally, as R's ``cox.zph(fit, transform)``.

    The score test of survival >= 3 (see :mod:`reawaken.epi._cox_zph`): for each fitted term
    the chi-square of adding ``theta * g(t)`` to its coefficient, and GLOBAL for all terms at
    once; a small p says the hazard ratio changes over time. Terms left out of the fit
    (constant or aliased) are left out here too, as R leaves out NA coefficients.

    Parameters
    ----------
    fit : CoxResult
        A fit made by :func:`fit_cox`.
    transform : {"km", "rank", "identity", "log"}, default "km"
        The function of time ``g`` (R's ``transform``): ``km`` is one minus the Kaplan-Meier
        estimate just before the time.

    Returns
    -------
    pandas.DataFrame
        Columns ``term, chisq, df, p``: one row per fitted term, then ``GLOBAL``.

    Raises
    ------
    InputError
        If ``transform`` is not one of those accepted, or ``fit`` was not made by
        :func:`fit_cox` (it holds no data).

    Examples
    --------
    >>> from reawaken.epi import example_data, fit_cox
    >>> from reawaken.epi.cox import cox_zph
    >>> df = example_data("cox")
    >>> fit = fit_cox(df, start="start", stop="stop", event="event",
    ...               covariates=["infected", "age"])
    >>> cox_zph(fit).round(3)  # R: cox.zph(coxph(Surv(stop, event) ~ infected + age, df))
           term  chisq  df      p
    0  infected  3.681   1  0.055
    1       age  2.010   1  0.156
    2    GLOBAL  9.584   2  0.008
    """
    if transform not in TRANSFORMS:
        raise InputError(f"transform must be one of {', '.join(TRANSFORMS)}, got {show(transform)}")
    if fit.zph_input is None:
        raise InputError("this Cox fit holds no data to test: fit it with fit_cox")
    terms = [t for t, ok in zip(fit.terms, fit.fitted, strict=True) if ok]
    return zph_table(fit.zph_input, fit.coef[fit.fitted], terms, transform)


def _cluster_sums(resid: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    if clusters is None:
        return resid
    k = int(clusters.max()) + 1
    return np.column_stack(
        [np.bincount(clusters, weights=resid[:, j], minlength=k) for j in range(resid.shape[1])]
    )


def fit_cox(
    data,
    *,
    start: str,
    stop: str,
    event: str,
    covariates: Sequence[str],
    strata: str | Sequence[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    id: str | None = None,
    ties: str = "efron",
    robust: bool | None = None,
    level: float = 0.95,
    max_iter: int = 20,
    eps: float = 1e-9,
    missing: str = "drop",
    file=None,
) -> CoxResult:
    """Fit a counting-process Cox model, as R's ``coxph(Surv(start, stop, event) ~ ...)``.

    The model is ``coxph(Surv(start, stop, event) ~ covariates + strata(..) + cluster(..))``:
    estimates, standard errors, tests and iteration counts equal R's survival package.
    Non-convergence is never silent: it gives a :class:`~reawaken.errors.ConvergenceWarning`
    and ``converged=False``, and ``estimates()`` marks every row ``not converged``. A covariate
    the data cannot inform (constant, aliased with others, flat within the risk sets, or with
    an infinite estimate) is reported as NA (:mod:`reawaken.epi._estimable`): empty numbers,
    status ``not estimable``, a note naming it, the other terms estimated without it.

    Parameters
    ----------
    data : pandas.DataFrame or polars.DataFrame
        One row per interval ``(start, stop]`` of one person (polars is converted to pandas
        once; the results are pandas).
    start, stop : str
        Columns of the interval's start and stop, in days (or any one time scale), with
        ``0 <= start < stop``.
    event : str
        Column of the event flag at ``stop``, 0 or 1.
    covariates : sequence of str
        Covariate columns (numeric); ``"a:b"`` is the product of columns a and b (an
        interaction).
    strata : str or sequence of str, optional
        One column or several (their combinations are the strata): a baseline hazard each.
    weights : str, optional
        Column of case weights (>= 0).
    cluster : str, optional
        Column grouping the rows for the robust (sandwich) variance, as ``cluster()`` in R.
    id : str, optional
        Column of the person, used to check that one person's intervals do not overlap.
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied event times.
    robust : bool, optional
        Robust variance. Defaults, as in R, to true when ``cluster`` is given or the weights
        are not whole numbers (then each row is its own cluster).
    level : float, default 0.95
        Confidence level of ``estimates()``.
    max_iter : int, default 20
        Most Newton-Raphson iterations (R's ``iter.max``).
    eps : float, default 1e-9
        Convergence tolerance on the relative change of the log-likelihood (R's ``eps``).
    missing : {"drop", "error"}, default "drop"
        Rows with a missing value in a covariate, stratum, weight, cluster or id column:
        ``drop`` leaves them out (R's ``na.omit``; ``missing`` of the result counts them per
        variable), ``error`` refuses them. A missing start, stop or event is always an error.
    file : str or path, optional
        Only names the source file in error messages.

    Returns
    -------
    CoxResult
        The fit: ``estimates()`` (ratio = hazard ratio), ``summary()``, ``write(out)``.

    Raises
    ------
    InputError
        If ``data`` is not a DataFrame or has no rows; a column is missing; a time, event,
        covariate or weight is missing, not a number or out of range (negative times,
        ``stop <= start``, events other than 0 and 1, negative weights), or there is no
        event; one ``id``'s intervals overlap; ``ties``, ``level`` or ``missing`` is not
        accepted; no covariate is given, or a term is listed twice; a covariate value is
        missing and ``missing="error"``; no covariate can be estimated; or the information
        matrix is singular at the estimate. The message names the file, row and column where
        known.

    Warns
    -----
    ConvergenceWarning
        If the iteration did not converge in ``max_iter`` iterations, or the log-likelihood
        converged before a coefficient did (an infinite coefficient, reported as NA).

    Examples
    --------
    >>> from reawaken.epi import example_data, fit_cox
    >>> df = example_data("cox")
    >>> fit = fit_cox(df, start="start", stop="stop", event="event",
    ...               covariates=["infected", "age"])
    >>> fit.estimates()[["term", "ratio", "ci_lower", "ci_upper"]].round(3)
           term  ratio  ci_lower  ci_upper
    0  infected  2.432     0.365    16.199
    1       age  1.017     0.866     1.194
    """
    if ties not in TIES:
        raise InputError(f"ties must be one of {', '.join(TIES)}, got {ties!r}")
    covariates = list(covariates)
    if not covariates:
        raise InputError("at least one covariate is needed")
    frame = checks.as_pandas(data)
    if len(frame) == 0:
        raise InputError("no rows", file=file)
    check_level(level)
    t0 = checks.numeric_column(frame, start, file=file, expected="the interval start in days")
    t1 = checks.numeric_column(frame, stop, file=file, expected="the interval stop in days")
    checks.check_times(t0, t1, start_name=start, stop_name=stop, file=file)
    status = checks.check_event(
        checks.numeric_column(frame, event, file=file, expected="the event flag, 0 or 1"),
        name=event,
        file=file,
    )
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    roles = {
        part: "a numeric covariate value"
        for term in checks.term_columns(covariates)
        for part in term
    }
    roles.update({col: "a stratum" for col in strata_cols})
    roles.update(
        {
            c: r
            for c, r in (
                (weights, "a case weight >= 0"),
                (cluster, "a cluster"),
                (id, "a person id"),
            )
            if c is not None
        }
    )
    incomplete, missing_counts = checks.incomplete_rows(frame, roles, missing=missing, file=file)
    x = checks.design_matrix(frame, covariates, file=file, missing_ok=True)
    w = (
        np.ones(len(frame))
        if weights is None
        else checks.numeric_column(
            frame, weights, file=file, expected="a case weight >= 0", missing_ok=True
        )
    )
    if weights is not None:
        checks.check_weights(w, name=weights, file=file)
    rows = np.flatnonzero(~incomplete)  # the rows fitted, as positions in the data
    if incomplete.any():
        frame = frame.iloc[rows]
        t0, t1, status, x, w = t0[rows], t1[rows], status[rows], x[rows], w[rows]
        if not status.any():
            raise InputError(f"no events in the {len(rows)} rows without missing values", file=file)
    if strata_cols:
        keys = (
            frame[strata_cols].astype(str).agg("\x1f".join, axis=1)
            if len(strata_cols) > 1
            else frame[strata_cols[0]]
        )
        strata_codes = checks.codes(keys)
    else:
        strata_codes = np.zeros(len(frame), dtype=np.int64)
    if id is not None:
        checks.check_overlap(checks.codes(frame[id]), t0, t1, name=id, file=file, rows=rows)

    dropped = checks.unestimable_in_data(x, w, strata_codes, covariates)
    keep = [j for j, term in enumerate(covariates) if term not in dropped]
    risk_sets = RiskSets(t0, t1, status, x[:, keep], w, strata_codes, efron=(ties == "efron"))
    flat = not_estimable(risk_sets, [covariates[j] for j in keep])
    if flat:
        dropped.update(flat)
        keep = [j for j in keep if covariates[j] not in flat]
        risk_sets = RiskSets(t0, t1, status, x[:, keep], w, strata_codes, efron=(ties == "efron"))
    if not keep:
        reasons = "; ".join(f"{t!r}: {r}" for t, r in dropped.items())
        raise InputError(f"no covariate can be estimated ({reasons})", file=file)
    terms = [covariates[j] for j in keep]
    fit = coxph_newton(risk_sets.derivatives, len(keep), max_iter=max_iter, eps=eps)
    try:
        naive_var = linalg.inv(fit.information)
        if not np.all(np.isfinite(naive_var)):
            raise linalg.LinAlgError("non-finite inverse")
    except (linalg.LinAlgError, ValueError) as exc:
        raise InputError(
            "the information matrix is singular at the estimate, so no standard errors: "
            f"check covariates {', '.join(terms)} for separation (no events in a group) "
            "or collinearity within the risk sets",
            file=file,
        ) from exc

    if robust is None:
        robust = cluster is not None or bool(np.any(w != np.floor(w)))
    var = naive_var
    robust_score = None
    if robust:
        clusters = checks.codes(frame[cluster]) if cluster is not None else None
        resid = risk_sets.score_residuals(fit.beta) * w[:, None]
        dfbeta = _cluster_sums(resid @ naive_var, clusters)
        var = dfbeta.T @ dfbeta
        resid0 = risk_sets.score_residuals(np.zeros(len(keep))) * w[:, None]
        resid0 = _cluster_sums(resid0, clusters)
        u0 = resid0.sum(axis=0)
        try:
            robust_score = float(u0 @ linalg.solve(resid0.T @ resid0, u0, assume_a="pos"))
        except (linalg.LinAlgError, ValueError):
            robust_score = float("nan")

    # R's check (agreg.fit) for a log-likelihood that converged before a coefficient did
    # (monotone likelihood): the remaining step |u' V| large against 1 + |beta|.
    step = np.abs(fit.score @ naive_var)
    infinite = [terms[j] for j in np.flatnonzero(step > np.sqrt(eps) * (1.0 + np.abs(fit.beta)))]
    notes = []
    if not fit.converged:
        why = f"did not converge in {max_iter} iterations (loglik {fit.loglik:.6g})"
        notes.append(f"Cox model {why}: its numbers are where the iteration stopped")
        warnings.warn(
            f"Cox model {why}; estimates are unreliable", ConvergenceWarning, stacklevel=2
        )
        infinite = []
    elif infinite:
        dropped.update({term: INFINITE for term in infinite})
        warnings.warn(
            f"log-likelihood converged before coefficient(s) {', '.join(infinite)}; "
            "they are infinite (no events in one group?) and reported as NA",
            ConvergenceWarning,
            stacklevel=2,
        )
    notes = na_notes({t: dropped[t] for t in covariates if t in dropped}) + notes
    return CoxResult(
        terms=covariates,
        coef=_full(fit.beta, keep, len(covariates)),
        var=_full(var, keep, len(covariates)),
        naive_var=_full(naive_var, keep, len(covariates)),
        robust=bool(robust),
        loglik_null=fit.loglik_start,
        loglik=fit.loglik,
        n=len(frame),
        events=int(status.sum()),
        iterations=fit.iterations,
        converged=fit.converged,
        ties=ties,
        score_test=fit.score_test,
        robust_score_test=robust_score,
        level=level,
        infinite_terms=infinite,
        not_estimable={t: dropped[t] for t in covariates if t in dropped},
        notes=notes,
        missing={"rows_deleted": int(incomplete.sum()), "by_variable": missing_counts},
        zph_input=ZphInput(risk_sets, t0, t1, status),
    )


def _full(values: np.ndarray, keep: list[int], p: int) -> np.ndarray:
    """A vector or matrix over the fitted terms, widened to all ``p`` terms with NaN."""
    if values.ndim == 1:
        out = np.full(p, np.nan)
        out[keep] = values
    else:
        out = np.full((p, p), np.nan)
        out[np.ix_(keep, keep)] = values
    return out
