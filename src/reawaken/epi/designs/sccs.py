"""Self-controlled case series design: relative incidence of the outcome in risk windows after
infection, within the cases (:mod:`reawaken.epi.sccs`).

"Age" is days since diagnosis, in groups starting 2 and 5 years after it
(:data:`reawaken.epi.cohort_designs.SCCS_GROUPS_DAYS`). Open-ended windows (``>n``) cannot be
risk windows: their time counts as baseline. A window without person-time among the cases is
left out with a note; when no window holds both person-time and events, nothing is estimated.

The case series assumes that the event does not end or shorten observation: the fit checks it
(:func:`reawaken.epi.sccs.observation_check`, with deaths as the censoring indicator) and
refuses a series that violates it, unless ``event_dependent`` asks for the extension for
event-dependent observation periods (:func:`reawaken.epi.sccs_eventdep.fit_event_dependent`,
Farrington et al., JASA 2011). The extension's censoring models on the age scale take the
logarithm of ages, so it counts days from the day before diagnosis (day 1 = diagnosis day):
the estimates of the exposure windows do not depend on that origin, the age-scale censoring
models do.

Built in the store's engine (``reawaken estimate --in-engine``, :meth:`SCCSDesign.
prepare_in_engine`), the standard case series is fitted on person-time and events per case,
window and age group aggregated by SQL (:func:`reawaken.epi.engine_inputs.sccs_aggregates`):
the same estimates, with memory of the size of the aggregates; the extension is fitted on the
cases' rows streamed from the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reawaken.accepts import FLAG
from reawaken.epi import cohort_designs, engine_inputs
from reawaken.epi.design import Cohort, CohortDesign, DesignResult, base_summary, window_columns
from reawaken.epi.engine_inputs import PersonCounts, SCCSAggregates
from reawaken.epi.intervals import window_label
from reawaken.epi.sccs import CaseSeries, fit_case_series, split_case_series
from reawaken.epi.sccs_eventdep import fit_event_dependent
from reawaken.epi.settings import (
    SettingError,
    StudySettings,
    documented,
    setting,
    windows_setting,
)
from reawaken.errors import InputError


def sccs_windows(windows: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
    """The risk windows of the case series: open-ended windows (``>n``) cannot be risk windows
    (their time stays in the baseline); at least one window with an end is needed."""
    post = [(int(a), int(b)) for a, b in windows if not math.isinf(b)]
    if not post:
        open_ = ", ".join(window_label(w) for w in windows)
        raise InputError(
            f"the self-controlled case series needs risk windows with an end, but window "
            f"{open_} is open-ended (its time counts as baseline, so nothing is left to "
            "compare); give windows a-b, e.g. 0-30,31-90,91-180,181-365"
        )
    return post


@documented
@dataclass(frozen=True)
class SCCSSettings(StudySettings):
    """Settings of the self-controlled case series design: the risk windows.

    Open-ended windows (``>n``) cannot be risk windows: their time counts as baseline, so at
    least one window needs an end.


    Examples
    --------
    >>> from reawaken.epi import SCCSSettings
    >>> SCCSSettings(outcome="lung_metastasis", exposure="influenza", windows="0-30,31-90").windows
    ((0.0, 30.0), (31.0, 90.0))
    """

    windows: tuple[tuple[float, float], ...] = windows_setting()
    event_dependent: bool = setting(
        False,
        "Fit the extension for event-dependent observation periods (deaths end observation).",
        FLAG,
        doc=(
            "Fit the extension for observation that the outcome ends or shortens (Farrington "
            "et al. 2011), with deaths as the censoring indicator; without it an outcome that "
            "ends observation is refused."
        ),
    )

    def check(self) -> None:
        if self.outcome in cohort_designs.FATAL_OUTCOMES:
            raise SettingError(
                f"{self.outcome} is a death: it ends observation on the event's day in "
                "every case, so neither the case series nor its extension for event-dependent "
                "observation periods applies; study it with the cox or competing design",
                names=("outcome",),
            )
        try:
            sccs_windows(self.windows)
        except InputError as exc:
            raise SettingError(exc.reason, names=("windows",)) from None


@dataclass
class SCCSPrepared:
    """The cohort, the case series split at the risk windows kept, its stacked rows (for the
    extension), the age groups and notes.

    Built in the engine (:mod:`reawaken.epi.engine_inputs`), ``cohort`` is None (``persons``
    counts them), the standard series holds one row per case, window and age group, ``frame``
    is None unless the extension needs the cases' rows, and ``aggregates`` keeps what turns
    the fit on the aggregates into the fit on the intervals.
    """

    cohort: Cohort | None
    series: CaseSeries
    windows: list[tuple[int, int]]
    notes: list[str]
    frame: pd.DataFrame | None
    groups: list[int]
    persons: PersonCounts | None = None
    aggregates: SCCSAggregates | None = None


LAYOUT = {
    "case": "case",
    "start": "start",
    "end": "end",
    "event": "event",
    "exposures": ("exposure",),
    "censored": "died",
}
"""The columns of the cases' rows (:func:`reawaken.epi.cohort_designs.sccs_data`), as
:func:`~reawaken.epi.split_case_series` and the extension name them."""


def _window_table(series: CaseSeries, post: list[tuple[int, int]]) -> pd.DataFrame:
    """Events and person-time per window among the cases (window 0 = no window, baseline)."""
    iv = series.intervals
    by = iv.groupby("window").agg(events=("events", "sum"), days=("length", "sum"))
    names = ["none", *[window_label(w) for w in post]]
    return pd.DataFrame(
        {
            "window": names,
            "events": [int(by["events"].get(k, 0)) for k in range(len(names))],
            "person_years": [float(by["days"].get(k, 0)) / 365.25 for k in range(len(names))],
        }
    )


RARE_SHARE = 0.10
"""The largest share of persons at risk with the outcome for which a non-recurrent outcome is
taken as rare: the case series counts time after a first event as at risk."""


def _rare(cohort: Cohort) -> bool:
    """Whether at most RARE_SHARE of the persons at risk have the outcome."""
    persons = cohort.persons
    return bool((persons["status"] == 1).mean() <= RARE_SHARE) if len(persons) else True


def _age_groups(settings: SCCSSettings, last_end: float) -> list[int]:
    """The age groups (days since diagnosis, shifted by a day for the extension) that start
    before the cases' last day of observation."""
    shift = 1 if settings.event_dependent else 0
    return [g + shift for g in cohort_designs.SCCS_GROUPS_DAYS if g + shift < last_end]


def _split_windows(
    split: Callable[[list[tuple[int, int]]], CaseSeries],
    settings: SCCSSettings,
    cases: int,
    notes: list[str],
) -> tuple[CaseSeries, list[tuple[int, int]], list[str]]:
    """The series split at the risk windows with person-time among the cases, those windows
    and the notes (open-ended windows, windows left out); refuses windows without events."""
    post = sccs_windows(settings.windows)
    for w in settings.windows:
        if math.isinf(w[1]):
            notes.append(
                f"window {window_label(w)} is open-ended: the case series counts its time "
                "as baseline"
            )
    series = split(post)
    table = _window_table(series, post).iloc[1:]
    empty = table["person_years"] <= 0
    if empty.all() or table["events"].sum() == 0:
        held = "; ".join(
            f"{w}: {e} events in {py:.2f} person-years"
            for w, e, py in table[["window", "events", "person_years"]].itertuples(index=False)
        )
        raise InputError(
            f"no {settings.exposure} risk window holds both person-time and events among "
            f"the {cases} cases ({held}), so no relative incidence can be estimated; choose "
            "windows that follow recorded infections of the cases"
        )
    if empty.any():
        for label in table.loc[empty, "window"]:
            notes.append(f"no person-time in window {label} days among the cases: left out")
        post = [w for w, e in zip(post, empty.to_numpy(), strict=True) if not e]
        series = split(post)
    return series, post, notes


class SCCSDesign(CohortDesign):
    """The self-controlled case series on the cohort store."""

    name = "sccs"
    settings: type[SCCSSettings] = SCCSSettings
    xlabel = "Relative incidence (95% CI)"

    def from_cohort(self, cohort: Cohort, settings: SCCSSettings) -> SCCSPrepared:
        frame = cohort_designs.sccs_data(cohort.persons, cohort.infections)
        if settings.event_dependent:
            frame = frame.assign(**{c: frame[c] + 1 for c in ("start", "end", "event", "exposure")})
        groups = _age_groups(settings, frame["end"].max())

        def split(risk_windows: list[tuple[int, int]]) -> CaseSeries:
            return split_case_series(frame, **LAYOUT, windows=risk_windows, age_groups=groups)

        cases = int(frame["case"].nunique())
        series, post, notes = _split_windows(split, settings, cases, list(cohort.notes))
        return SCCSPrepared(cohort, series, post, notes, frame, groups)

    def prepare_in_engine(self, store: Any, settings: SCCSSettings) -> SCCSPrepared:
        """The design's input built by SQL in the store's engine
        (:mod:`reawaken.epi.engine_inputs`): person-time and events per case, window and age
        group for the standard case series, the cases' rows for the extension."""
        with engine_inputs.engine(store) as con:
            persons = engine_inputs.define_persons(con, store, settings.outcome, settings.source)
            cases = engine_inputs.define_cases(con, settings.exposure, settings.source)
            shift = 1 if settings.event_dependent else 0
            groups = _age_groups(settings, engine_inputs.max_case_end(con) + shift)
            if settings.event_dependent:
                frame = engine_inputs.sccs_case_rows(con, shift=shift)

                def split(risk_windows: list[tuple[int, int]]) -> CaseSeries:
                    return split_case_series(
                        frame, **LAYOUT, windows=risk_windows, age_groups=groups
                    )

                series, post, notes = _split_windows(split, settings, cases, list(persons.notes))
                return SCCSPrepared(None, series, post, notes, frame, groups, persons)
            observation = engine_inputs.sccs_observation(con)
            held: dict[tuple[tuple[int, int], ...], SCCSAggregates] = {}

            def aggregate(risk_windows: list[tuple[int, int]]) -> CaseSeries:
                held[tuple(risk_windows)] = engine_inputs.sccs_aggregates(
                    con, risk_windows, groups, cases=cases, observation=observation
                )
                return held[tuple(risk_windows)].series

            series, post, notes = _split_windows(aggregate, settings, cases, list(persons.notes))
            return SCCSPrepared(None, series, post, notes, None, groups, persons, held[tuple(post)])

    def fit(self, prepared: SCCSPrepared, settings: SCCSSettings) -> DesignResult:
        series, post = prepared.series, prepared.windows
        if prepared.cohort is not None:
            summary = base_summary(self.name, settings, prepared.cohort)
            rare = _rare(prepared.cohort)
        else:  # counted in the engine
            persons = prepared.persons
            summary = persons.summary(self.name, settings.outcome, settings.exposure)
            rare = persons.outcome_events / persons.persons <= RARE_SHARE
        summary["rare_outcome"] = {"limit": RARE_SHARE, "rare": rare}
        notes = list(prepared.notes)  # the prepared data stay as prepared (fit may run again)
        if not rare:
            notes.append(
                f"the outcome is a first event and not rare (more than {RARE_SHARE:.0%} of the "
                "persons at risk have it): the case series counts the time after a case's "
                "event as at risk, which is close to right only for rare events (Farrington, "
                "Whitaker & Ghebremichael 2018, ch. 4), so the relative incidences may be "
                "biased towards 1, the more so the more exposure falls after the events"
            )
        if settings.event_dependent:
            fit = fit_event_dependent(
                prepared.frame, **LAYOUT, windows=post, age_groups=prepared.groups
            )
        else:
            try:
                series.observation.refuse(
                    "fit the extension for event-dependent observation periods instead "
                    "(Farrington et al., JASA 2011), with deaths as the censoring indicator"
                )
            except InputError as exc:
                raise SettingError(exc.reason, names=("event_dependent",)) from None
            if prepared.aggregates is not None:
                fit = engine_inputs.fit_aggregates(prepared.aggregates)
            else:
                fit = fit_case_series(series)
        labels = {f"exposure[{a},{b}]": window_label((a, b)) for a, b in post}
        counts = _window_table(series, post)
        est = window_columns(fit.estimates(), labels, counts, "outcome")
        est["term"] = est["term"].str.replace("exposure[", "window[", regex=False)
        summary["fit"] = fit.summary()
        return self.result(
            settings,
            est,
            counts,
            summary,
            [*notes, *fit.notes],
            {"outcome": fit},
            measure="RR",
            rows=est["kind"] == "exposure",
        )


SCCS = SCCSDesign()
