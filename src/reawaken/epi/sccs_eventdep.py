"""Self-controlled case series when the event can end or shorten observation.

The standard SCCS needs observation to end independently of the event. When the event raises
the risk of death (myocardial infarction, stroke, a metastasis), observation ends soon after it
more often than not, and the standard estimates are biased. Farrington, Anaya-Izquierdo,
Whitaker, Hocine & Douglas, "Self-controlled case series analysis with event-dependent
observation periods", JASA 106:417-426 (2011), model the end of observation after the event and
replace each interval's length by a weight: the integral over the interval of the density (for
a case whose observation ended early, e.g. by death) or of the survival (otherwise) of the
observed end, given the event at each age of the interval. Exposure relative incidences are
then unbiased; age terms absorb the censoring and lose their usual meaning.

Four censoring models are fitted by maximum likelihood, each a mixture of an exponential with a
Weibull or a gamma distribution on the age or the interval scale (:mod:`reawaken.epi._censoring`);
the model with the lowest AIC gives the weights. This follows R's SCCS package
(``eventdepenobs``, version 1.7) step for step: ages in years of 365.25 days, an observation
ending on the day of the event extended by one day, R's parameterisation and starting values,
R's minimiser (``nlm``, :mod:`reawaken.epi._nlm`), R's weights (integrated from each interval's
first to its last day, at least 1e-15), and the weighted conditional likelihood (R's
``clogit(event ~ ... + strata(case) + offset(log(weight)))``). It differs from R in one rule: a
censoring model whose fit did not converge (the minimiser stopped where the gradient is not near
zero) is reported but not chosen.

Only the first event of each case is used: one event per case, as in the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from reawaken.epi._censoring import (
    DESCRIPTIONS,
    MODELS,
    PARAMETERS,
    YEAR,
    interval_weights,
    neg2_loglik,
)
from reawaken.epi._nlm import nlm
from reawaken.epi._values import show
from reawaken.epi.sccs import SCCSFit, censoring_indicator, fit_case_series, split_case_series
from reawaken.epi.tables import NewtonRatioFit
from reawaken.errors import InputError

DEFAULT_INITIAL = (0.1, 0.1, 0.1, 0.1)
"""R's default starting values (``initval``) of the censoring models' four parameters."""

_GRADIENT_TOLERANCE = 1e-3  # relative gradient above which a censoring fit has not converged


@dataclass(frozen=True)
class CensoringModelFit:
    """One fitted model of the end of observation after the event.

    Parameters
    ----------
    model : str
        R's name: ``EWA``, ``EWI``, ``EGA`` or ``EGI`` (exponential mixed with a Weibull or a
        gamma, on the age or the interval scale).
    description : str
        The model in words.
    loglik : float
        Log-likelihood of the ends of observation.
    aic : float
        ``2 * 4 - 2 * loglik``.
    converged : bool
        Whether the fit ended near a maximum (code 1 to 3 and a relative gradient below 1e-3).
    code : int
        The minimiser's termination code, as R's ``nlm`` reports it (1 gradient near zero,
        2 steps below tolerance, 3 no lower point found, 4 iteration limit, 5 step too long).
    iterations : int
        Minimiser iterations.
    parameters : dict of str to float
        R's parameters: ``log_rho`` (log mean of the exponential, years), ``log_mu`` (log scale
        of the Weibull or log mean of the gamma), ``logit_pi`` (logit of the exponential's
        share) and ``log_nu`` (log shape).
    """

    model: str
    description: str
    loglik: float
    aic: float
    converged: bool
    code: int
    iterations: int
    parameters: dict[str, float]

    def as_dict(self) -> dict[str, object]:
        """The fit as plain JSON-ready values, in the order of its fields."""
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class EventDependentFit(SCCSFit):
    """A self-controlled case series fitted with event-dependent observation periods.

    Made by :func:`fit_event_dependent`: a :class:`~reawaken.epi.SCCSFit` (``estimates()``
    gives the standard table, ratio = relative incidence) whose intervals were weighted by the
    chosen model of the end of observation; ``summary()`` adds each censoring model's
    log-likelihood and AIC and the one chosen; ``censoring_table()`` gives the censoring models
    as a table.

    Parameters
    ----------
    censored_cases : int
        Cases whose observation ended early.
    censoring : list of CensoringModelFit
        The four censoring models, in R's order (EWA, EWI, EGA, EGI).
    chosen : str
        The censoring model whose weights were used: the converged one with the lowest AIC.
    **fit
        The fields of the weighted case series fit (:class:`~reawaken.epi.SCCSFit`), its
        ``loglik`` and ``loglik_null`` the weighted conditional log-likelihood, its
        ``assumptions`` the :class:`~reawaken.epi.sccs.ObservationCheck` that led to this fit.
    """

    model: ClassVar[str] = "sccs_event_dependent"
    counted: ClassVar[tuple[str, ...]] = ("cases", "events", "censored_cases", "intervals")
    censored_cases: int
    censoring: list[CensoringModelFit]
    chosen: str

    def censoring_table(self) -> pd.DataFrame:
        """One row per censoring model: ``model, description, loglik, aic, converged, chosen``
        and R's four parameters."""
        rows = []
        for fit in self.censoring:
            row = {
                "model": fit.model,
                "description": fit.description,
                "loglik": fit.loglik,
                "aic": fit.aic,
                "converged": fit.converged,
                "chosen": fit.model == self.chosen,
            }
            rows.append(row | fit.parameters)
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, object]:
        """Fit statistics, each censoring model and the one chosen, the assumption diagnostics
        and the notes, as plain JSON-ready values."""
        return {
            **NewtonRatioFit.summary(self),
            "censoring_models": [fit.as_dict() for fit in self.censoring],
            "censoring_model_chosen": self.chosen,
            "assumption_diagnostics": self.assumptions,
            "notes": self.notes,
        }


def _case_values(
    frame: pd.DataFrame, column: str, codes: np.ndarray, values: np.ndarray, case: str, file
) -> np.ndarray:
    """Each case's value of ``column``, refusing a case whose rows disagree."""
    first = np.full(codes.max() + 1, np.nan)
    first[codes[::-1]] = values[::-1]
    bad = values != first[codes]
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{column} differs between rows of case {show(frame[case].iloc[row])} (one event "
            "per case: keep each case's first event)",
            file=file,
            row=row + 1,
            column=column,
        )
    return first


def fit_censoring_models(
    event: np.ndarray,
    end: np.ndarray,
    censored: np.ndarray,
    *,
    initial: Sequence[float] = DEFAULT_INITIAL,
) -> list[CensoringModelFit]:
    """Fit the four models of the end of observation after the event (R's ``eventdepenobs``).

    Parameters
    ----------
    event, end : numpy.ndarray
        Each case's age at the event and at the end of observation, in days (an end on the day
        of the event is moved one day later, as R does).
    censored : numpy.ndarray
        Each case's indicator that observation ended early (1, e.g. by death) or not (0).
    initial : sequence of four floats, default (0.1, 0.1, 0.1, 0.1)
        Starting values of ``log_rho, log_mu, logit_pi, log_nu``, as R's ``initval[1:4]``.

    Returns
    -------
    list of CensoringModelFit
        EWA, EWI, EGA and EGI, each maximised by R's ``nlm`` steps (iteration limit 100).
    """
    start = np.asarray(initial, dtype=float)
    if start.shape != (4,) or not np.all(np.isfinite(start)):
        raise InputError(f"four finite starting values are needed, got {list(initial)}")
    end = np.where(end == event, end + 1, end)
    t = event / YEAR
    e = end / YEAR
    flags = np.asarray(censored, dtype=bool)
    fits = []
    for model in MODELS:
        result = nlm(lambda p, m=model: neg2_loglik(m, p, t, e, flags), start, iterlim=100)
        scale = max(abs(result.minimum), 1.0)
        relative = np.abs(result.gradient) * np.maximum(np.abs(result.estimate), 1.0) / scale
        converged = (
            result.code in (1, 2, 3)
            and bool(np.isfinite(result.minimum))
            and float(relative.max()) < _GRADIENT_TOLERANCE
        )
        fits.append(
            CensoringModelFit(
                model=model,
                description=DESCRIPTIONS[model],
                parameters=dict(zip(PARAMETERS, map(float, result.estimate), strict=True)),
                loglik=-result.minimum / 2.0,
                aic=2.0 * start.size + result.minimum,
                code=result.code,
                iterations=result.iterations,
                converged=converged,
            )
        )
    return fits


def fit_event_dependent(
    frame: pd.DataFrame,
    *,
    case: str,
    start: str,
    end: str,
    event: str,
    exposures: Sequence[str],
    windows: Sequence[tuple[int, int]],
    censored: str,
    pre_windows: Sequence[tuple[int, int]] = (),
    age_groups: Sequence[int] = (),
    dob: str | None = None,
    dob_format: str | None = None,
    seasons: Sequence[tuple[int, int]] = (),
    initial: Sequence[float] = DEFAULT_INITIAL,
    tol: float = 1e-10,
    max_iter: int = 50,
    file: str | Path | None = None,
) -> EventDependentFit:
    """Fit the SCCS with event-dependent observation periods (Farrington et al., JASA 2011).

    The data are laid out as for :func:`~reawaken.epi.split_case_series` (one row per event and
    exposure, or several exposure columns), with one event per case and a column saying whose
    observation ended early. The four censoring models are fitted to the ends of observation,
    the converged one with the lowest AIC gives each interval its weight, and the weighted
    conditional likelihood is maximised; R's ``eventdepenobs(event ~ <exposure> [+ age], indiv
    = case, astart = start, aend = end, aevent = event, adrug = <exposure>, aedrug = <exposure>
    + b, expogrp = c(a1, a2, ...), agegrp = age_groups, censor = censored, initval = initial)``
    gives the same censoring fits and estimates when its windows are contiguous.

    Parameters
    ----------
    frame : pandas.DataFrame
        The case series (cases only), as for :func:`~reawaken.epi.split_case_series`.
    case, start, end, event, exposures, windows, pre_windows, age_groups, dob, dob_format, seasons
        As for :func:`~reawaken.epi.split_case_series`: ages in whole days, observation from
        ``start`` to ``end`` inclusive, windows ``(a, b)`` in days after the exposure.
    censored : str
        Column of the indicator that observation ended early (1, e.g. by death or by the
        event's consequences) or not (0, e.g. the study's end); the same on every row of a
        case.
    initial : sequence of four floats, default (0.1, 0.1, 0.1, 0.1)
        Starting values of the censoring models' parameters ``log_rho, log_mu, logit_pi,
        log_nu`` (R's ``initval``; R's help page uses ``rep(1.1, 4)`` for ``midat``).
    tol, max_iter
        Convergence tolerance and iteration limit of the weighted SCCS fit
        (:func:`~reawaken.epi.fit_case_series`).
    file : str or path, optional
        Only names the source file in error messages.

    Returns
    -------
    EventDependentFit
        Estimates with the standard columns, each censoring model's log-likelihood and AIC,
        and the model chosen.

    Raises
    ------
    InputError
        What :func:`~reawaken.epi.split_case_series` refuses; the ``censored`` column missing,
        a missing value in it, or a value other than 0 and 1; a case with events on several
        days or with different ``censored`` values on its rows; four starting values not
        given; no censoring model converging; or a weighted fit with no estimable term.

    Examples
    --------
    Cases observed for a year, half of them dying within two months of the event:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from reawaken.epi.sccs_eventdep import fit_event_dependent
    >>> rng = np.random.default_rng(1)
    >>> n = 400
    >>> start = rng.integers(20000, 21000, n)
    >>> exposure = start + rng.integers(0, 365, n)
    >>> in_window = rng.random(n) < 0.3
    >>> event = np.where(in_window, exposure + rng.integers(0, 31, n),
    ...                  start + rng.integers(0, 365, n))
    >>> event = np.minimum(event, start + 364)
    >>> died = rng.random(n) < 0.5
    >>> end = np.where(died, np.minimum(event + rng.integers(0, 60, n), start + 364),
    ...                start + 364)
    >>> frame = pd.DataFrame({
    ...     "case": np.arange(n), "sta": start, "end": end, "ev": event,
    ...     "x": np.where(exposure <= end, exposure, np.nan),
    ...     "dead": (died & (end < start + 364)).astype(int),
    ... })
    >>> fit = fit_event_dependent(frame, case="case", start="sta", end="end", event="ev",
    ...                           exposures=["x"], windows=[(0, 30)], censored="dead")
    >>> fit.chosen
    'EGI'
    >>> fit.censoring_table()[["model", "converged", "chosen"]]
      model  converged  chosen
    0   EWA       True   False
    1   EWI       True   False
    2   EGA       True   False
    3   EGI       True    True
    >>> fit.estimates()[["term", "ratio", "ci_lower", "ci_upper"]].round(2)
          term  ratio  ci_lower  ci_upper
    0  x[0,30]   5.87      4.57      7.53
    """
    flags = censoring_indicator(frame, censored, file)
    split_options = dict(
        case=case,
        start=start,
        end=end,
        event=event,
        exposures=exposures,
        windows=windows,
        pre_windows=pre_windows,
        age_groups=age_groups,
        dob=dob,
        dob_format=dob_format,
        seasons=seasons,
        file=file,
    )
    # the standard checks of layout, days and windows, and the diagnostic of observation
    observation = split_case_series(frame, **split_options, censored=censored).observation
    codes, uniques = pd.factorize(frame[case], sort=True)
    ev = pd.to_numeric(frame[event]).to_numpy(dtype=float)
    fin = pd.to_numeric(frame[end]).to_numpy(dtype=float)
    case_event = _case_values(frame, event, codes, ev, case, file)
    case_end = _case_values(frame, end, codes, fin, case, file)
    case_censored = _case_values(frame, censored, codes, flags, case, file)

    fits = fit_censoring_models(case_event, case_end, case_censored, initial=initial)
    usable = [f for f in fits if f.converged]
    if not usable:
        raise InputError(
            "no model of the end of observation could be fitted (none converged): try other "
            "starting values"
        )
    chosen = min(usable, key=lambda f: f.aic)
    notes = [
        f"censoring model {f.model} ({f.description}) did not converge (code {f.code}): "
        "reported, not chosen"
        for f in fits
        if not f.converged
    ]

    # as R: observation that ends on the day of the event runs one day longer
    shifted = frame[end].where(fin != ev, fin + 1)
    series = split_case_series(frame.assign(**{end: shifted}), **split_options)
    iv = series.intervals
    position = np.searchsorted(np.asarray(uniques), iv["case"].to_numpy())
    interval_end = np.where(case_end == case_event, case_end + 1, case_end)[position]
    weights = interval_weights(
        chosen.model,
        np.array([chosen.parameters[name] for name in PARAMETERS]),
        (iv["lo"].to_numpy(dtype=float) + 1.0) / YEAR,
        iv["hi"].to_numpy(dtype=float) / YEAR,
        interval_end / YEAR,
        case_censored[position] == 1,
    )
    weighted = replace(series, intervals=iv.assign(length=weights))
    sccs = fit_case_series(weighted, tol=tol, max_iter=max_iter, check_observation=False)
    return EventDependentFit(
        terms=sccs.terms,
        coef=sccs.coef,
        var=sccs.var,
        loglik=sccs.loglik,
        loglik_null=sccs.loglik_null,
        cases=sccs.cases,
        events=sccs.events,
        intervals=sccs.intervals,
        censored_cases=int(case_censored.sum()),
        iterations=sccs.iterations,
        converged=sccs.converged,
        censoring=fits,
        chosen=chosen.model,
        notes=notes + sccs.notes,
        not_estimable=sccs.not_estimable,
        assumptions={"observation": observation.as_dict()} if observation else {},
    )
