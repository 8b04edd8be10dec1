"""From the cohort store's canonical tables to the inputs of each design.

One person table per outcome (:func:`person_table`), one infection table per exposure
(:func:`infection_table`), then: counting-process intervals with time-since-infection windows
for Cox (:func:`cox_intervals`, built with :mod:`reawaken.epi.intervals`), one row per event and
exposure for the self-controlled case series (:func:`sccs_data`), one row per person with the
first infection for target-trial emulation (:func:`emulation_data`), and time plus cause for
competing risks (:func:`competing_data`).

Definitions (all dates as integer days since 1970-01-01; a person is observed on every day from
follow-up start to end inclusive):

- the index cancer is the person's earliest breast cancer diagnosis (``site="breast"``); persons
  without one are left out;
- a person is at risk from ``max(follow-up start, diagnosis)`` to follow-up end; persons whose
  outcome is recorded before that are left out (prevalent cases);
- outcomes: ``distant_metastasis`` = the first distant metastasis (any site);
  ``lung_metastasis`` = the first distant metastasis when it is in the lung (a first metastasis
  elsewhere is a competing event: the lung is no longer the site of first relapse);
  ``cancer_death`` = death from cancer (death from other causes competes);
  ``other_site_metastasis`` = the first distant metastasis when it is at a known site other
  than the lung (bone, liver, brain, other): a negative-control outcome, since the study's
  mechanism acts on dormant cells in the lung (a first metastasis in the lung, or of a site
  the source does not record, competes); death ends follow-up and is the competing event of
  the metastasis outcomes;
- exposures: ``sars-cov-2``, ``influenza``, or ``any`` (either of the two viruses of the study;
  the windows restart at the most recent infection with either). RSV and other respiratory
  infections are not counted.

The status of a person at the end of follow-up is 0 censored, 1 outcome, 2 competing event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reawaken.epi._values import show
from reawaken.epi.intervals import (
    DEFAULT_WINDOWS,
    TimeDependent,
    build_intervals,
    window_label,
)
from reawaken.errors import InputError
from reawaken.pathogens import exposure_groups

OUTCOMES = ("lung_metastasis", "distant_metastasis", "cancer_death", "other_site_metastasis")
"""The outcomes a design studies. ``other_site_metastasis`` is a negative control: respiratory
infection is not expected to wake dormant cells outside the lung, so its hazard ratio after
infection should be near 1 unless confounding remains."""

NEGATIVE_CONTROLS = frozenset({"other_site_metastasis"})
"""Outcomes the infection is not expected to cause under the study's mechanism."""

FATAL_OUTCOMES = frozenset({"cancer_death"})
"""Outcomes that are deaths: they end observation on the event's day."""

COMPETING_EVENTS = {
    "lung_metastasis": "metastasis elsewhere or death",
    "distant_metastasis": "death",
    "cancer_death": "death from other causes",
    "other_site_metastasis": "metastasis in the lung (or site unrecorded) or death",
}
"""What the competing event (status 2) of each outcome is, as files and figures name it: for
``lung_metastasis`` a first metastasis at another site competes as well as death, for
``other_site_metastasis`` a first metastasis in the lung (or of unrecorded site)."""


def competing_event_name(outcome: str) -> str:
    """The name of the competing event of ``outcome`` (:data:`COMPETING_EVENTS`; ``competing
    event`` for an outcome not listed there)."""
    return COMPETING_EVENTS.get(outcome, "competing event")


def exposures() -> dict[str, tuple[str, ...]]:
    """Exposure name -> the pathogens it counts, from the pathogen table at the time of the call
    (each exposure pathogen alone, and ``any``), so a pathogen registered at run time counts."""
    return exposure_groups()


AGE_BANDS = (50, 60, 70, 80)
"""Upper-open age bands at diagnosis in years: <50, 50-59, 60-69, 70-79, 80+."""

SCCS_WINDOWS: tuple[tuple[int, int], ...] = ((0, 30), (31, 90), (91, 180), (181, 365))
SCCS_GROUPS_DAYS: tuple[int, ...] = (731, 1827)
"""SCCS "age" is days since diagnosis; groups start 2 and 5 years after diagnosis (the
generator's and Pan et al. 2017's early, higher-risk period)."""


def _day(values: pd.Series) -> np.ndarray:
    dates = pd.to_datetime(values)
    return ((dates - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _key(frame: pd.DataFrame) -> pd.Series:
    return frame["source"].astype(str) + "/" + frame["person_id"].astype(str)


def age_band(age: np.ndarray) -> np.ndarray:
    """Labels ``<50, 50-59, 60-69, 70-79, 80+`` of ages in years."""
    edges = np.asarray(AGE_BANDS)
    labels = np.array(["<50", "50-59", "60-69", "70-79", "80+"])
    return labels[np.searchsorted(edges, age, side="right")]


@dataclass
class PersonTable:
    """One row per person at risk: id, diagnosis, start, exit (days), status, stage, age."""

    frame: pd.DataFrame
    outcome: str
    notes: list[str] = field(default_factory=list)


def person_table(store, outcome: str, *, source: str | None = None) -> PersonTable:
    """Persons at risk of ``outcome`` from a :class:`reawaken.cohort.store.CohortStore`.

    Columns: ``id`` (``source/person_id``), ``diagnosis``, ``start``, ``exit``, ``end`` (days;
    ``exit`` is the last day at risk, ``end`` the last day of follow-up), ``status`` (0, 1, 2),
    ``died`` (1 when a death ended follow-up), ``stage`` (``unknown`` when missing), ``age``
    (years at diagnosis), ``age_band``, ``sex``.
    """
    if outcome not in OUTCOMES:
        raise InputError(f"unknown outcome {outcome!r} (expected one of {', '.join(OUTCOMES)})")
    notes: list[str] = []
    person = store.person(source)
    dx = store.cancer_diagnosis(source)
    fu = store.follow_up(source)
    out = store.outcome(source)
    if person.empty:
        raise InputError("the cohort store holds no persons", file=store.path)
    dx = dx[dx["site"] == "breast"].assign(id=_key, day=lambda f: _day(f["diagnosis_date"]))
    dx = dx.sort_values(["id", "day"], kind="stable").drop_duplicates("id")
    frame = person.assign(id=_key(person))[["id", "birth_year", "sex"]]
    frame = frame.merge(dx[["id", "day", "stage"]], on="id", how="inner")
    if len(frame) < len(person):
        notes.append(
            f"{len(person) - len(frame)} persons without a breast cancer diagnosis left out"
        )
    fu = fu.assign(id=_key(fu), fu_start=_day(fu["start_date"]), end=_day(fu["end_date"]))
    frame = frame.merge(fu[["id", "fu_start", "end"]], on="id", how="inner")
    frame = frame.rename(columns={"day": "diagnosis"})
    frame["start"] = np.maximum(frame["fu_start"], frame["diagnosis"])
    after = frame["start"] > frame["end"]
    if after.any():
        notes.append(f"{int(after.sum())} persons diagnosed after their follow-up left out")
    frame = frame[~after]

    out = out.assign(id=_key(out), day=_day(out["outcome_date"]))
    met = out[out["outcome_type"] == "distant_metastasis"]
    first_met = met.groupby("id")["day"].min()
    # the sites of each person's first metastasis (a store without any metastasis gives none)
    first_sites = (
        met.assign(first=met["id"].map(first_met)).query("day == first").groupby("id")["site"]
    )
    lung_first = first_sites.agg(lambda s: bool((s == "lung").any()))
    # the negative control: every site of the first metastasis known, none of them the lung
    other_first = first_sites.agg(lambda s: bool(s.notna().all() and not (s == "lung").any()))
    deaths = out[out["outcome_type"] == "death"].sort_values("day").drop_duplicates("id")
    death_day = deaths.set_index("id")["day"]
    death_cause = deaths.set_index("id")["cause"]
    ids = frame["id"]
    m = ids.map(first_met).to_numpy(dtype=float)
    d = ids.map(death_day).to_numpy(dtype=float)
    if outcome == "cancer_death":
        cause = ids.map(death_cause)
        if len(deaths) and deaths["cause"].isna().all():
            raise InputError(
                "no cause of death is recorded in this store: cancer_death cannot be studied",
                file=store.path,
            )
        event_day = np.where(cause.to_numpy() == "cancer", d, np.nan)
        competing_day = np.where(cause.to_numpy() == "cancer", np.nan, d)
        prevalent = np.zeros(len(frame), bool)
    else:
        if outcome == "lung_metastasis":
            lung = ids.map(lung_first).eq(True).to_numpy()
            event_day = np.where(lung, m, np.nan)
            competing_day = np.fmin(np.where(lung, np.nan, m), d)
        elif outcome == "other_site_metastasis":
            other = ids.map(other_first).eq(True).to_numpy()
            event_day = np.where(other, m, np.nan)
            competing_day = np.fmin(np.where(other, np.nan, m), d)
        else:
            event_day, competing_day = m, d
        prevalent = m < frame["start"].to_numpy()
    if prevalent.any():
        notes.append(f"{int(prevalent.sum())} persons with a metastasis before follow-up left out")
    end = frame["end"].to_numpy()
    ev = np.where(event_day <= end, event_day, np.nan)
    cp = np.where(competing_day <= end, competing_day, np.nan)
    status = np.where(np.isfinite(ev) & ~(cp < ev), 1, np.where(np.isfinite(cp), 2, 0))
    exit_ = np.where(status == 1, ev, np.where(status == 2, cp, end))
    age = (
        pd.to_datetime(frame["diagnosis"], unit="D").dt.year.to_numpy() - frame["birth_year"]
    ).to_numpy(dtype=float)
    result = pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "diagnosis": frame["diagnosis"].to_numpy(),
            "start": frame["start"].to_numpy(),
            "exit": exit_,
            "end": end,
            "status": status.astype(np.int64),
            "died": (d <= end).astype(np.int64),
            "stage": frame["stage"].fillna("unknown").to_numpy(),
            "age": age,
            "age_band": age_band(age),
            "sex": frame["sex"].to_numpy(),
        }
    )
    result = result[~prevalent].reset_index(drop=True)
    if result.empty:
        raise InputError("no person at risk of the outcome in the cohort store", file=store.path)
    return PersonTable(result, outcome, notes)


def infection_table(store, exposure: str, *, source: str | None = None) -> pd.DataFrame:
    """Infection episodes of the exposure's pathogens: ``id, day, pathogen`` (one label per
    exposure, so that ``any`` restarts its windows at the most recent infection of either)."""
    groups = exposures()
    if exposure not in groups:
        raise InputError(f"unknown exposure {exposure!r} (expected one of {', '.join(groups)})")
    inf = store.infection(source)
    inf = inf[inf["pathogen"].isin(groups[exposure])]
    return pd.DataFrame(
        {"id": _key(inf).to_numpy(), "day": _day(inf["infection_date"]), "pathogen": exposure}
    ).sort_values(["id", "day"], kind="stable", ignore_index=True)


def _indicators(frame: pd.DataFrame, column: str, prefix: str, reference=None) -> list[str]:
    """0/1 columns for the levels of ``column`` seen in ``frame`` (the reference left out)."""
    levels = sorted(frame[column].astype(str).unique())
    if reference is None or reference not in levels:
        reference = frame[column].astype(str).value_counts().index[0]
    names = []
    for level in levels:
        if level == reference:
            continue
        name = f"{prefix}_{level}"
        frame[name] = (frame[column].astype(str) == level).astype(np.int64)
        names.append(name)
    return names


TIME_SCALES = ("diagnosis", "calendar")


def check_time_scale(time_scale: str, calendar_years: bool) -> None:
    """The Cox time scale is ``diagnosis`` or ``calendar``; calendar-year adjustment only on the
    diagnosis scale (on the calendar scale the baseline hazard already absorbs calendar year)."""
    if time_scale not in TIME_SCALES:
        raise InputError(
            f"time scale must be one of {', '.join(TIME_SCALES)}, got {show(time_scale)}"
        )
    if time_scale == "calendar" and calendar_years:
        raise InputError(
            "calendar-year adjustment cannot be combined with the calendar time scale: calendar "
            "year is already the time scale, so the baseline hazard absorbs it and its terms do "
            "not vary within any risk set (the Cox model cannot estimate them); adjust for "
            "calendar year on the diagnosis time scale, or use the calendar time scale alone"
        )


@dataclass
class CoxData:
    """Intervals with window indicators, the terms to fit and their roles."""

    intervals: pd.DataFrame
    window_terms: list[str]
    window_labels: list[str]
    adjustment_terms: list[str]
    window_column: str
    notes: list[str] = field(default_factory=list)


def cox_intervals(
    persons: pd.DataFrame,
    infections: pd.DataFrame,
    *,
    exposure: str,
    windows: Sequence[tuple[float, float]] = DEFAULT_WINDOWS,
    time_scale: str = "diagnosis",
    calendar_years: bool = False,
    event_status: int = 1,
) -> CoxData:
    """Counting-process intervals for the Cox model of the outcome (``event_status=1``) or of
    the competing event (2), split into time-since-infection windows.

    Time scale ``diagnosis``: days since diagnosis; ``calendar``: calendar days. Day ``k`` of
    follow-up is the interval ``(k - 1, k]`` on the day scale, so an event on the infection day
    falls in window 0-30. Adjustment terms: stage indicators (reference I, or the most common
    stage), age at diagnosis per 10 years, and with ``calendar_years`` time-varying indicators of
    the calendar year (the reference is the first year).
    """
    check_time_scale(time_scale, calendar_years)
    # day k is the interval (k, k + 1] in day numbers, (k - origin, k - origin + 1] on the scale
    frame = pd.DataFrame(
        {
            "id": persons["id"].to_numpy(),
            "entry": persons["start"].to_numpy(),
            "exit": persons["exit"].to_numpy() + 1.0,
            "event": (persons["status"].to_numpy() == event_status).astype(np.int64),
            "stage": persons["stage"].to_numpy(),
            "age10": persons["age"].to_numpy() / 10.0,
            "diagnosis": persons["diagnosis"].to_numpy(),
        }
    )
    notes: list[str] = []
    stages = _indicators(frame, "stage", "stage", reference="I")
    if not stages:
        known = sorted(set(frame["stage"].astype(str)) - {"unknown"})
        held = f"only stage {known[0]}" if known else "no stage"
        notes.append(
            f"not adjusted for stage: the store records {held} for these persons "
            "(the models adjust for age only)"
        )
    changes = []
    if calendar_years:
        first = int(pd.to_datetime(persons["start"].min(), unit="D").year)
        last = int(pd.to_datetime(persons["exit"].max(), unit="D").year)
        years = np.arange(first, last + 2)
        jan1 = _day(pd.to_datetime(pd.Series(years).astype(str) + "-01-01"))
        year_starts = pd.DataFrame(
            {
                "id": np.repeat(frame["id"].to_numpy(), len(years)),
                "time": np.tile(jan1, len(frame)),
                "value": np.tile(years, len(frame)),
            }
        )
        changes.append(TimeDependent("calendar_year", year_starts, initial=first - 1))
    inf = infections[infections["id"].isin(set(frame["id"]))]
    inf = pd.DataFrame(
        {
            "id": inf["id"].to_numpy(),
            "time": inf["day"].to_numpy() + 1.0,
            "pathogen": inf["pathogen"].to_numpy(),
        }
    )
    iv = build_intervals(
        frame,
        id="id",
        entry="entry",
        exit="exit",
        event="event",
        origin="diagnosis" if time_scale == "diagnosis" else None,
        covariates=["stage", *stages, "age10"],
        infections=inf if len(inf) else None,
        windows=windows,
        time_dependent=changes,
    )
    adjust = [*stages, "age10"]
    if calendar_years:
        adjust += _indicators(iv, "calendar_year", "year", reference=str(first))
    prefix = exposure.replace("-", "_")
    labels = [window_label(w) for w in windows]
    window_column = f"{prefix}_window"
    if window_column not in iv.columns:
        iv[window_column] = "none"
    for label in labels:
        name = window_term(prefix, label)
        if name not in iv.columns:
            iv[name] = 0
    return cox_data(iv, prefix, labels, exposure, adjust, window_column, notes)


def window_term(prefix: str, label: str) -> str:
    """The indicator column of a window (``any`` and ``>365`` -> ``any_gt365``)."""
    return f"{prefix}_{label.replace('>', 'gt').replace('-', '_')}"


def cox_data(
    iv: pd.DataFrame,
    prefix: str,
    labels: list[str],
    exposure: str,
    adjust: list[str],
    window_column: str,
    notes: list[str],
) -> CoxData:
    """The Cox design's data from intervals holding each window's indicator column: the
    windows with person-time are the terms, the others noted and left out."""
    terms, kept = [], []
    for label in labels:
        name = window_term(prefix, label)
        if iv[name].any():
            terms.append(name)
            kept.append(label)
        else:
            notes.append(f"no person-time in window {label} days: left out")
    if not terms:
        raise InputError(f"no person-time after a recorded {exposure} infection")
    return CoxData(iv, terms, kept, adjust, window_column, notes)


def window_counts(data: CoxData) -> pd.DataFrame:
    """Events and person-years per time-since-infection window (``none`` = unexposed time)."""
    iv = data.intervals
    days = (iv["stop"] - iv["start"]).to_numpy()
    g = pd.DataFrame({"window": iv[data.window_column], "days": days, "event": iv["event"]})
    agg = g.groupby("window").agg(events=("event", "sum"), days=("days", "sum"))
    agg["person_years"] = agg["days"] / 365.25
    order = ["none", *data.window_labels]
    return agg.reindex(order).fillna(0).reset_index()[["window", "events", "person_years"]]


def sccs_data(persons: pd.DataFrame, infections: pd.DataFrame) -> pd.DataFrame:
    """One row per case and infection (stacked layout) for :func:`reawaken.epi.sccs.fit_sccs`.

    Cases are persons with the outcome; the "age" scale is days since diagnosis (whole days);
    observation runs from the at-risk start to the end of follow-up (not to the event, as SCCS
    requires). Columns ``case, start, end, event, exposure`` (exposure empty when none) and
    ``died`` (1 when a death ended observation: the censoring indicator of the extension for
    event-dependent observation periods).
    """
    cases = persons[persons["status"] == 1]
    if cases.empty:
        raise InputError("no person has the outcome: no cases for a case series")
    base = pd.DataFrame(
        {
            "case": cases["id"].to_numpy(),
            "start": (cases["start"] - cases["diagnosis"]).to_numpy(),
            "end": (cases["end"] - cases["diagnosis"]).to_numpy(),
            "event": (cases["exit"] - cases["diagnosis"]).to_numpy(),
            "diagnosis": cases["diagnosis"].to_numpy(),
            "died": cases["died"].to_numpy(),
        }
    )
    # two infections of the exposure recorded on one day are one exposure (one row: a row per
    # infection would count the case's event once per row)
    inf = infections[infections["id"].isin(set(base["case"]))][["id", "day"]].drop_duplicates()
    rows = base.merge(inf, left_on="case", right_on="id", how="left")
    rows["exposure"] = rows["day"] - rows["diagnosis"]
    return rows[["case", "start", "end", "event", "exposure", "died"]].reset_index(drop=True)


def emulation_data(persons: pd.DataFrame, infections: pd.DataFrame) -> pd.DataFrame:
    """Person table plus ``infection``: the day of each person's first recorded infection."""
    first = infections.groupby("id")["day"].min()
    return persons.assign(infection=persons["id"].map(first).to_numpy(dtype=float))


def events_by_time(
    time: Sequence[float], event: Sequence[int], at: Sequence[float], cause: Sequence[int]
) -> np.ndarray:
    """Events of ``cause[k]`` at times up to ``at[k]``, for each k (the counts behind a
    cumulative incidence table such as :func:`reawaken.epi.competing.cumulative_incidence`'s,
    which the writers need to keep its steps from revealing small counts)."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event)
    return np.array(
        [int(((event == c) & (time <= t)).sum()) for t, c in zip(at, cause, strict=True)],
        dtype=np.int64,
    )


def competing_data(persons: pd.DataFrame) -> pd.DataFrame:
    """``time`` (days from the at-risk start, the first day is day 1) and ``event`` (0, 1, 2)."""
    return pd.DataFrame(
        {
            "id": persons["id"].to_numpy(),
            "time": (persons["exit"] - persons["start"] + 1).to_numpy(),
            "event": persons["status"].to_numpy(),
        }
    )
