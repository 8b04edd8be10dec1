"""Cox design: hazard ratios of the outcome by time-since-infection window.

Counting-process intervals (:func:`reawaken.epi.cohort_designs.cox_intervals`) on the time
scale of diagnosis or calendar time, one term per window with follow-up (reference: time not
after an infection), adjusted for stage, age at diagnosis and, optionally, calendar year; fitted
with :func:`reawaken.epi.cox.fit_cox` (as R's ``coxph``). E-values of the window terms treat the
hazard ratio as a risk ratio when the outcome is rare (cumulative risk under 15%).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from reawaken.accepts import FLAG, choice
from reawaken.epi import cohort_designs, engine_inputs
from reawaken.epi.cohort_designs import TIME_SCALES, CoxData
from reawaken.epi.cox import CoxResult, fit_cox
from reawaken.epi.design import Cohort, CohortDesign, DesignResult, base_summary, window_columns
from reawaken.epi.engine_inputs import PersonCounts
from reawaken.epi.settings import (
    SettingError,
    StudySettings,
    documented,
    setting,
    windows_setting,
)
from reawaken.errors import InputError

RARE_OUTCOME = 0.15  # cumulative risk under which HR ~ RR (VanderWeele & Ding 2017)


@documented
@dataclass(frozen=True)
class CoxSettings(StudySettings):
    """Settings of the Cox design: windows, time scale, calendar-year adjustment.

    The design fits a Cox model of the outcome with one term per time-since-infection window
    (reference: time not after an infection), adjusted for stage, age at diagnosis and,
    optionally, calendar year.


    Examples
    --------
    >>> from reawaken.epi import CoxSettings
    >>> settings = CoxSettings(outcome="lung_metastasis", exposure="any",
    ...                        windows="0-30,31-90,>90")
    >>> settings.windows
    ((0.0, 30.0), (31.0, 90.0), (91.0, inf))
    """

    windows: tuple[tuple[float, float], ...] = windows_setting()
    time_scale: str = setting(
        "diagnosis",
        "Time scale of the Cox models.",
        choice(TIME_SCALES),
        doc="Time scale of the Cox models: days since diagnosis or calendar time.",
    )
    calendar_years: bool = setting(
        False,
        "Adjust the Cox models for calendar year (time-varying).",
        FLAG,
        doc="Adjust for calendar year (time-varying); only on the diagnosis time scale.",
    )

    def check(self) -> None:
        try:
            cohort_designs.check_time_scale(self.time_scale, self.calendar_years)
        except InputError as exc:
            raise SettingError(exc.reason, names=("time_scale", "calendar_years")) from None


@dataclass
class CoxPrepared:
    """The cohort and the intervals of each event fitted (``outcome``, ``competing``).

    With the intervals split in the engine (:func:`reawaken.epi.engine_inputs.cox_intervals`)
    ``cohort`` is None and ``persons`` counts the persons at risk."""

    cohort: Cohort | None
    intervals: dict[str, CoxData]
    persons: PersonCounts | None = None


def _rows(fit: CoxResult, data: CoxData, event: str) -> pd.DataFrame:
    labels = dict(zip(data.window_terms, data.window_labels, strict=True))
    return window_columns(fit.estimates(), labels, cohort_designs.window_counts(data), event)


PH_LEVEL = 0.05
"""Proportional-hazards p-value below which a window term or the global test gets a note."""


def _proportional_hazards_notes(fit_summary: dict, data: CoxData, event: str) -> list[str]:
    """Notes for the window terms (and the global test) whose proportional-hazards test
    (:func:`reawaken.epi.cox.cox_zph`, km transform, as R's ``cox.zph``) has p < PH_LEVEL."""
    test = fit_summary.get("proportional_hazards")
    if not test:
        return []
    rows = pd.DataFrame(test["table"])
    watched = set(data.window_terms) | {"GLOBAL"}
    bad = rows[rows["term"].isin(watched) & (rows["p"] < PH_LEVEL)]
    return [
        f"{event} model: proportional hazards doubtful for {r.term} (cox.zph chisq "
        f"{r.chisq:.2f}, p = {r.p:.3g}): its hazard ratio may change over follow-up"
        for r in bad.itertuples(index=False)
    ]


def _fit(data: CoxData) -> CoxResult:
    return fit_cox(
        data.intervals,
        start="start",
        stop="stop",
        event="event",
        covariates=data.window_terms + data.adjustment_terms,
        id="id",
    )


class CoxDesign(CohortDesign):
    """Cox models of the outcome (``events``: status 1) with time-since-infection windows."""

    name = "cox"
    settings: type[CoxSettings] = CoxSettings
    events: tuple[tuple[int, str], ...] = ((1, "outcome"),)
    xlabel = "Hazard ratio (95% CI)"

    def from_cohort(self, cohort: Cohort, settings: CoxSettings) -> CoxPrepared:
        intervals = {
            event: cohort_designs.cox_intervals(
                cohort.persons,
                cohort.infections,
                exposure=settings.exposure,
                windows=settings.windows,
                time_scale=settings.time_scale,
                calendar_years=settings.calendar_years,
                event_status=status,
            )
            for status, event in self.events
        }
        return CoxPrepared(cohort, intervals)

    def prepare_in_engine(self, store: Any, settings: CoxSettings) -> CoxPrepared:
        """The design's input built in the store's engine (:mod:`reawaken.epi.engine_inputs`).

        The counting-process intervals and their windows are split by SQL and streamed
        (:func:`~reawaken.epi.engine_inputs.cox_intervals`); the Cox fitter needs them all at
        once, so memory is of the size of the intervals of the persons at risk, never of the
        store's tables. For a design that draws curves from the persons (``competing``), the
        persons at risk and their infections come from the engine
        (:func:`~reawaken.epi.engine_inputs.read_cohort`) and the intervals are split in
        memory."""
        if type(self).curves is not CoxDesign.curves:
            return self.from_cohort(engine_inputs.read_cohort(store, settings), settings)
        with engine_inputs.engine(store) as con:
            persons = engine_inputs.define_persons(con, store, settings.outcome, settings.source)
            intervals = {
                event: engine_inputs.cox_intervals(
                    con,
                    exposure=settings.exposure,
                    windows=settings.windows,
                    time_scale=settings.time_scale,
                    calendar_years=settings.calendar_years,
                    event_status=status,
                    source=settings.source,
                )
                for status, event in self.events
            }
        return CoxPrepared(None, intervals, persons)

    def curves(self, cohort: Cohort | None, settings: CoxSettings) -> pd.DataFrame | None:
        """Cumulative incidence curves (none for the Cox design)."""
        return None

    def fit(self, prepared: CoxPrepared, settings: CoxSettings) -> DesignResult:
        cohort, persons = prepared.cohort, prepared.persons
        if cohort is not None:
            summary = base_summary(self.name, settings, cohort)
            notes = cohort.notes + prepared.intervals["outcome"].notes
            at_risk = len(cohort.persons)
        else:  # counted in the engine
            summary = persons.summary(self.name, settings.outcome, settings.exposure)
            notes = persons.notes + prepared.intervals["outcome"].notes
            at_risk = persons.persons
        parts, fits = [], {}
        for event, data in prepared.intervals.items():
            fits[event] = _fit(data)
            parts.append(_rows(fits[event], data, event))
            summary[f"{event}_fit"] = fits[event].summary()
            notes += [f"{event} model: {note}" for note in fits[event].notes]
            notes += _proportional_hazards_notes(summary[f"{event}_fit"], data, event)
        estimates = pd.concat(parts, ignore_index=True)
        counts = cohort_designs.window_counts(prepared.intervals["outcome"])
        risk = summary["outcome_events"] / at_risk
        return self.result(
            settings,
            estimates,
            counts,
            summary,
            notes,
            fits,
            curves=self.curves(cohort, settings),
            measure="HR",
            rare=risk < RARE_OUTCOME,
            rows=estimates["kind"] == "exposure",
        )


COX = CoxDesign()
