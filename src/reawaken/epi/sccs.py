"""Self-controlled case series (SCCS): relative incidence after an exposure, within cases.

Only cases (people with at least one event) are used. Each case's observation period is split
into intervals by risk windows after (and optionally before) each exposure, by age groups and by
season; the events in each interval are Poisson with mean ``length * exp(case effect + window
+ age + season)``. Conditioning on each case's number of events removes the case effects and
leaves a multinomial likelihood (Farrington, "Relative incidence estimation from case series for
vaccine safety evaluation", Biometrics 51:228-235, 1995; Farrington, Whitaker & Ghebremichael,
"Self-Controlled Case Series Studies", CRC 2018, ch. 4). It is fitted here by Newton-Raphson,
vectorised over intervals; its estimates and standard errors equal those of R's
``clogit(events ~ ... + strata(case) + offset(log(length)))`` or of a Poisson GLM with one fixed
effect per case.

Conventions, as in R's SCCS package: ages are whole days; observation runs from ``start`` to
``end`` inclusive; a window ``a-b`` covers days ``exposure + a`` to ``exposure + b`` inclusive
(``a < 0`` for a pre-exposure window); an age group starts on the day given; a season starts on
the calendar day given (MM-DD), with age day ``d`` falling on date ``birth + d`` days. When the
windows of several exposures of one case overlap, post-exposure windows take precedence over
pre-exposure windows; among post-exposure windows the most recent exposure decides, among
pre-exposure windows the nearest coming one. The input has one row per event and exposure:
a case's rows list each event once with each of its exposures (the stacked layout of ``midat``);
several exposure columns (e.g. dose 1 and dose 2) may be given instead. Every event of a case
lists the same exposures: rows of one case that disagree (one row per event, each with another
exposure day, as in ``febdat``) are refused rather than read as further doses.

Two assumptions are checked rather than trusted. The end of observation must not depend on the
event (:class:`ObservationCheck`): an outcome that ends or shortens observation (a death, or an
event that death soon follows) is refused by :func:`fit_case_series`, which points to the
extension for event-dependent observation periods (:mod:`reawaken.epi.sccs_eventdep`). A term
the data cannot inform (no person-time, no events, or aliased with other terms within the
cases) is not estimated: it is reported as NA with a note, as R reports an aliased coefficient,
and the other terms are fitted without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from reawaken.epi._estimable import na_notes
from reawaken.epi._newton import Derivatives, inverse_or_nan, maximise, report_convergence
from reawaken.epi._values import is_missing, reject_rows, require_columns, show
from reawaken.epi.tables import NewtonRatioFit
from reawaken.errors import InputError

_WINDOW = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")
_SEASON = re.compile(r"^\s*(\d{1,2})-(\d{1,2})\s*$")


def parse_windows(text: str) -> list[tuple[int, int]]:
    """Parse ``"1-7,8-14"`` (or ``"-14--1"``) into inclusive day windows ``[(1, 7), (8, 14)]``."""
    windows = []
    for part in (p for p in text.split(",") if p.strip()):
        match = _WINDOW.match(part)
        if match is None:
            raise InputError(f"{part!r} is not a window a-b in whole days (e.g. 1-7)")
        a, b = int(match.group(1)), int(match.group(2))
        if a > b:
            raise InputError(f"window {part!r} ends before it starts")
        windows.append((a, b))
    if not windows:
        raise InputError("no window given")
    return windows


def check_post_windows(windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Post-exposure windows, sorted: each starts on day 0 or later."""
    if any(a < 0 for a, _ in windows):
        raise InputError("post-exposure windows start on day 0 or later (e.g. 1-7)")
    return sorted(windows)


def check_pre_windows(windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pre-exposure windows, sorted: each ends before day 0."""
    if any(b >= 0 for _, b in windows):
        raise InputError("pre-exposure windows end before day 0 (e.g. -14--1)")
    return sorted(windows)


def parse_seasons(text: str) -> list[tuple[int, int]]:
    """Parse season start days ``"01-01,04-01"`` (MM-DD) into (month, day) pairs."""
    seasons = []
    for part in (p for p in text.split(",") if p.strip()):
        match = _SEASON.match(part)
        month = int(match.group(1)) if match else 0
        day = int(match.group(2)) if match else 0
        if match is None or not 1 <= month <= 12 or not 1 <= day <= 28 + (month != 2) * 3:
            raise InputError(f"{part!r} is not a calendar day MM-DD (not 02-29)")
        try:
            np.datetime64(f"2001-{month:02d}-{day:02d}")
        except ValueError:
            raise InputError(f"{part!r} is not a calendar day MM-DD") from None
        seasons.append((month, day))
    if len(seasons) < 2 or len(set(seasons)) != len(seasons):
        raise InputError("seasons need at least two different start days")
    return seasons


OBSERVATION_DAYS = 30
"""Days after a case's last event within which an end of observation counts as soon after it."""
OBSERVATION_SHARE = 0.10
"""Largest share of cases, beyond chance, whose observation may end soon after the event (or
end early by the censoring indicator) before the standard case series is refused."""
EVENT_DEPENDENT_REMEDY = (
    "fit the case series with event-dependent observation periods (Farrington et al., JASA "
    "2011), which needs a censoring indicator (1 = observation ended early, e.g. by death)"
)
"""What to use instead when :class:`ObservationCheck` finds event-dependent observation."""


@dataclass(frozen=True)
class ObservationCheck:
    """Whether the event may end or shorten observation: the assumption diagnostic of the SCCS.

    The standard case series needs the end of observation to be independent of the event
    (Farrington, Whitaker & Ghebremichael 2018, ch. 5 and 6). Two signs that it is not:

    - observation ends within ``days`` (30) days after a case's last event for a share of cases
      exceeding, by more than ``share_limit`` (0.10), the share expected if the end did not
      depend on the event (for each case ``min(days + 1, n) / n``, the chance that one event
      placed uniformly in its ``n`` observed days falls that close to the end). A fatal
      outcome ends observation on the event's day in nearly every case; an event followed by
      death within weeks (a metastasis) shows the same pattern more weakly;
    - the censoring indicator, where given, says that observation ended early (death,
      emigration) for more than ``share_limit`` of the cases.

    Thirty days is the scale of the short-term mortality the SCCS book asks to investigate and
    of the risk windows usually studied; ten per cent is the size of departure beyond which
    Farrington et al. (JASA 2011) and Whitaker, Steer & Farrington (Biometrical Journal 2018)
    find biases that are no longer small. Both are judgements, recorded in every fit so that a
    reviewer can see how close a data set came.

    Parameters
    ----------
    cases : int
        Number of cases.
    days : int
        The interval after the last event, in days.
    ended_soon : float
        Share of cases whose observation ends within ``days`` days after their last event.
    expected : float
        The share expected if the end did not depend on the event.
    censored : float or None
        Share of cases whose observation ended early by the censoring indicator; None without one.
    share_limit : float
        The largest excess (and censored share) accepted.
    reason : str
        Why observation looks event-dependent; empty when it does not.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.epi.sccs import observation_check
    >>> start = np.zeros(200)
    >>> event = np.arange(200) + 100.0
    >>> observation_check(start, np.full(200, 730.0), event).event_dependent
    False
    >>> dying = observation_check(start, event + 3, event)  # each case dies 3 days after it
    >>> dying.event_dependent, round(dying.ended_soon, 2), round(dying.expected, 3)
    (True, 1.0, 0.167)
    """

    cases: int
    days: int
    ended_soon: float
    expected: float
    censored: float | None
    share_limit: float
    reason: str

    @property
    def event_dependent(self) -> bool:
        """Whether the event may end or shorten observation."""
        return bool(self.reason)

    def as_dict(self) -> dict[str, object]:
        """The diagnostic as plain JSON-ready values."""
        return {
            "check": "end of observation independent of the event",
            "cases": self.cases,
            "interval_days": self.days,
            "share_ending_within_interval": self.ended_soon,
            "share_expected_if_independent": self.expected,
            "share_censored": self.censored,
            "share_limit": self.share_limit,
            "event_dependent": self.event_dependent,
            "reason": self.reason,
        }

    def refuse(self, remedy: str = EVENT_DEPENDENT_REMEDY) -> None:
        """Raise an InputError (one line: why, and ``remedy``) if observation looks
        event-dependent."""
        if self.event_dependent:
            raise InputError(f"{self.reason}; {remedy}")


def observation_check(
    start: np.ndarray,
    end: np.ndarray,
    last_event: np.ndarray,
    censored: np.ndarray | None = None,
    *,
    days: int = OBSERVATION_DAYS,
    share_limit: float = OBSERVATION_SHARE,
) -> ObservationCheck:
    """Check whether observation ends soon after the event (:class:`ObservationCheck`).

    Parameters
    ----------
    start, end, last_event : numpy.ndarray
        Each case's first and last day of observation and the day of its last event.
    censored : numpy.ndarray, optional
        Each case's indicator that observation ended early (1) or not (0).
    days : int, default 30
        The interval after the last event.
    share_limit : float, default 0.10
        The largest excess share (and censored share) accepted.

    Returns
    -------
    ObservationCheck
        The shares and, when observation looks event-dependent, why.
    """
    start, end, last_event = (np.asarray(a, dtype=float) for a in (start, end, last_event))
    cases = int(end.size)
    length = end - start + 1.0
    ended_soon = float(np.mean(end - last_event <= days)) if cases else 0.0
    expected = float(np.mean(np.minimum(days + 1.0, length) / length)) if cases else 0.0
    share = None if censored is None else float(np.mean(np.asarray(censored, dtype=float)))
    reasons = []
    if ended_soon - expected > share_limit:
        reasons.append(
            f"observation ends within {days} days after the event for {ended_soon:.0%} of the "
            f"{cases} cases ({expected:.0%} expected if the end did not depend on the event)"
        )
    if share is not None and share > share_limit:
        reasons.append(f"observation ended early for {share:.0%} of the {cases} cases")
    reason = ""
    if reasons:
        reason = (
            " and ".join(reasons) + ": the event may end or shorten observation (a death, or "
            "an event that death soon follows), which biases the standard case series"
        )
    return ObservationCheck(
        cases=cases,
        days=days,
        ended_soon=ended_soon,
        expected=expected,
        censored=share,
        share_limit=share_limit,
        reason=reason,
    )


def check_observation(
    frame: pd.DataFrame,
    *,
    case: str,
    start: str,
    end: str,
    event: str,
    censored: str | None = None,
    file: str | Path | None = None,
) -> ObservationCheck:
    """Check a case series file for event-dependent observation (:class:`ObservationCheck`).

    Parameters
    ----------
    frame : pandas.DataFrame
        The case series, laid out as for :func:`split_case_series`.
    case, start, end, event : str
        Columns of the case identifier, the first and last day of observation and the event.
    censored : str, optional
        Column of the indicator that observation ended early (1, e.g. by death) or not (0).
    file : str or path, optional
        Only names the source file in error messages.

    Returns
    -------
    ObservationCheck
        The diagnostic; ``refuse()`` raises when observation looks event-dependent.

    Raises
    ------
    InputError
        If a column is missing, a day is not a whole number, or the censoring indicator is
        not 0 or 1 or differs between the rows of a case.

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.epi.sccs import check_observation
    >>> df = pd.DataFrame({"case": [1, 2, 3, 4], "sta": 0, "end": [40, 90, 130, 200],
    ...                    "ev": [38, 88, 127, 199], "died": 1})
    >>> check = check_observation(df, case="case", start="sta", end="end", event="ev")
    >>> check.ended_soon, check.event_dependent
    (1.0, True)
    >>> print(check.reason)  # doctest: +NORMALIZE_WHITESPACE
    observation ends within 30 days after the event for 100% of the 4 cases (37% expected if
    the end did not depend on the event): the event may end or shorten observation (a death,
    or an event that death soon follows), which biases the standard case series
    """
    require_columns(frame, [case, start, end, event] + ([censored] if censored else []), file)
    codes, uniques = pd.factorize(frame[case], sort=True)
    n = len(uniques)
    sta = _case_values(frame, case, start, codes, _whole_days(frame, start, file), file)
    fin = _case_values(frame, case, end, codes, _whole_days(frame, end, file), file)
    last = np.full(n, -np.inf)
    np.maximum.at(last, codes, _whole_days(frame, event, file))
    flags = None
    if censored:
        flags = _case_values(
            frame, case, censored, codes, censoring_indicator(frame, censored, file), file
        )
    return observation_check(sta, fin, last, flags)


def censoring_indicator(frame: pd.DataFrame, column: str, file: str | Path | None) -> np.ndarray:
    """The 0/1 column ``column`` (1 = observation ended early), refusing any other value."""
    require_columns(frame, [column], file)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)

    def reason(i: int) -> str:
        value = frame[column].iloc[i]
        expected = "1 if observation ended early, else 0"
        if is_missing(value):
            return f"missing censoring indicator (expected {expected})"
        return f"{show(value)} is not a censoring indicator (expected {expected})"

    reject_rows(~np.isin(values, (0.0, 1.0)), reason, file=file, column=column)
    return values


def _case_values(
    frame: pd.DataFrame,
    case: str,
    column: str,
    codes: np.ndarray,
    values: np.ndarray,
    file: str | Path | None,
) -> np.ndarray:
    """Each case's value of ``column``, refusing a case whose rows disagree (naming both rows)."""
    first_index = np.full(codes.max() + 1, -1)
    first_index[codes[::-1]] = np.arange(codes.size)[::-1]
    first = values[first_index]
    same = (values == first[codes]) | (np.isnan(values) & np.isnan(first[codes]))

    def reason(i: int) -> str:
        j = int(first_index[codes[i]])
        return (
            f"{column} differs between rows of case {show(frame[case].iloc[i])}: "
            f"{show(frame[column].iloc[i])} here, {show(frame[column].iloc[j])} on row {j + 1}"
        )

    reject_rows(~same, reason, file=file, column=column, count=False)
    return first


@dataclass(frozen=True)
class CaseSeries:
    """A case series split into intervals of constant exposure, age and season.

    Made by :func:`split_case_series`, fitted by :func:`fit_case_series`.

    Parameters
    ----------
    intervals : pandas.DataFrame
        One row per interval ``(lo, hi]`` of a case, in age days (the days ``lo + 1`` to
        ``hi``): ``case, lo, hi, length`` (days), ``events``, ``window`` (0 none, 1..J the
        post-exposure windows, J+1.. the pre-exposure ones), ``age_group`` (0 the reference)
        and ``season`` (0 the reference).
    design : numpy.ndarray
        The 0/1 indicators of ``terms``, one row per interval.
    terms : list of str
        Model terms: ``<exposures>[a,b]`` per risk window, ``age[a,b]`` per age group after
        the first, ``season[MM-DD]`` per season after the first.
    cases : int
        Number of cases.
    observation : ObservationCheck, optional
        Whether the event may end or shorten observation (:func:`split_case_series` fills it);
        :func:`fit_case_series` refuses a series for which it says so.

    Examples
    --------
    The series' design (one indicator column per term, one row per interval) and its check of
    the end of observation:

    >>> from reawaken.epi import example_data, split_case_series
    >>> cut = split_case_series(example_data("case_series"), case="case", start="start",
    ...                         end="end", event="event", exposures=["infection"],
    ...                         windows=[(0, 30)])
    >>> cut.design.shape, int(cut.design.sum())
    ((16, 1), 5)
    >>> cut.observation.event_dependent, round(cut.observation.expected, 3)
    (False, 0.085)
    >>> cut.terms, cut.cases
    (['infection[0,30]'], 6)
    """

    intervals: pd.DataFrame  # case, lo, hi, length, events, window, age_group, season
    design: np.ndarray  # (intervals, terms) 0/1 indicators
    terms: list[str]
    cases: int
    observation: ObservationCheck | None = None


def _whole_days(
    frame: pd.DataFrame,
    column: str,
    file: str | Path | None,
    *,
    missing_ok: bool = False,
    what: str = "a day",
) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    missing = ~np.isfinite(values)
    if missing_ok:  # empty cells are allowed (no exposure), unreadable ones are not
        missing &= frame[column].notna().to_numpy()
    bad = missing | (np.isfinite(values) & (values != np.round(values)))

    def reason(i: int) -> str:
        value = frame[column].iloc[i]
        if is_missing(value):
            return f"missing value (expected {what}, a whole number of days)"
        return f"{show(value)} is not a whole number of days (expected {what})"

    reject_rows(bad, reason, file=file, column=column)
    return values


def _birth_dates(frame: pd.DataFrame, column: str, fmt: str | None, file) -> np.ndarray:
    raw = frame[column]
    if fmt in ("%d%m%Y", "%m%d%Y", "%Y%m%d") and pd.api.types.is_numeric_dtype(raw):
        # read as numbers, 03091999 lost its leading zero
        raw = raw.map(lambda v: f"{int(v):08d}" if pd.notna(v) else v)
    dates = pd.to_datetime(raw.astype("string") if fmt else raw, format=fmt, errors="coerce")

    def reason(i: int) -> str:
        value = frame[column].iloc[i]
        return (
            "missing date of birth" if is_missing(value) else f"{show(value)} is not a date"
        ) + (f" in format {fmt}" if fmt else " (give the date format, e.g. %d%m%Y)")

    reject_rows(dates.isna().to_numpy(), reason, file=file, column=column, count=False)
    return dates.to_numpy().astype("datetime64[D]")


def _same_exposures(
    frame: pd.DataFrame,
    case: str,
    column: str,
    codes: np.ndarray,
    event: np.ndarray,
    values: np.ndarray,
    file: str | Path | None,
) -> None:
    """Refuse a case whose events are not all listed with the same values of ``column``.

    The stacked layout lists each event once with each exposure, so every value of a case
    appears with every one of its event days; one row per event with a different exposure on
    each row (R's ``febdat``) would otherwise be read as several doses.
    """
    keyed = np.nan_to_num(values, nan=-(2.0**62))
    rows = pd.DataFrame({"c": codes, "e": event, "x": keyed})
    pairs = rows.drop_duplicates(["c", "e", "x"])
    events = rows.groupby("c")["e"].nunique().to_numpy()
    with_value = pairs.groupby(["c", "x"])["e"].transform("size").to_numpy()
    bad = with_value < events[pairs["c"].to_numpy()]
    if not bad.any():
        return
    position = int(pairs.index[np.flatnonzero(bad)[0]])  # rows has a 0..n-1 index
    other = np.flatnonzero((codes == codes[position]) & (keyed != keyed[position]))
    a, b = sorted((position, int(other[0])))
    raise InputError(
        f"case {show(frame[case].iloc[a])} has {column} {show(frame[column].iloc[a])} here "
        f"and {show(frame[column].iloc[b])} on row {b + 1}, for different events: every event "
        "of a case must be listed with the same exposures (one row per event and exposure); "
        "give each dose its own exposure column",
        file=file,
        row=a + 1,
        column=column,
    )


def split_case_series(
    frame: pd.DataFrame,
    *,
    case: str,
    start: str,
    end: str,
    event: str,
    exposures: Sequence[str],
    windows: Sequence[tuple[int, int]],
    pre_windows: Sequence[tuple[int, int]] = (),
    age_groups: Sequence[int] = (),
    dob: str | None = None,
    dob_format: str | None = None,
    seasons: Sequence[tuple[int, int]] = (),
    censored: str | None = None,
    file: str | Path | None = None,
) -> CaseSeries:
    """Split each case's observation period into intervals of constant exposure, age and season.

    The conventions are R's SCCS package's (see the module docstring): ages are whole days,
    observation runs from ``start`` to ``end`` inclusive, and a window ``(a, b)`` covers days
    ``exposure + a`` to ``exposure + b`` inclusive.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per event and exposure of a case (the stacked layout of R's ``midat``), or
        one row per event with several exposure columns. Only cases (persons with an event)
        belong here.
    case : str
        Column identifying the case.
    start, end : str
        Columns of the first and last day of observation (age in days; the same on every row
        of a case).
    event : str
        Column of the day of the event (age in days).
    exposures : sequence of str
        Columns of the exposure days (age in days; empty where there is none). Several columns
        (dose 1, dose 2) share the windows.
    windows : sequence of (int, int)
        Post-exposure risk windows ``(a, b)``, ``0 <= a <= b``, in days.
    pre_windows : sequence of (int, int), optional
        Pre-exposure windows ``(a, b)``, ``a <= b < 0``; with ``windows``, none may overlap.
    age_groups : sequence of int, optional
        Increasing start days of the 2nd, 3rd, ... age group (the first is the reference).
    dob : str, optional
        Column of the dates of birth, needed by ``seasons``.
    dob_format : str, optional
        Format of the dates of birth (e.g. ``"%d%m%Y"``); pandas guesses without it.
    seasons : sequence of (int, int), optional
        Season starts as (month, day); the first listed is the reference.
    censored : str, optional
        Column of the indicator that observation ended early (1, e.g. by death) or not (0),
        the same on every row of a case; it enters the check of the series' ``observation``.
    file : str or path, optional
        Only names the source file in error messages.

    Returns
    -------
    CaseSeries
        The intervals, their design matrix and terms, and the check whether observation looks
        event-dependent (:class:`ObservationCheck`).

    Raises
    ------
    InputError
        If no exposure column is given; a column is missing or there are no rows; a window is
        out of range (post-exposure starting before day 0, pre-exposure ending on or after
        day 0) or windows overlap; the age groups do not increase; ``seasons`` are given
        without ``dob``; a case identifier, day or date of birth is missing or not a whole
        number of days (a date); observation ends before it starts, an event lies outside it;
        ``start``, ``end``, ``censored`` or an exposure column differ between the rows of one
        case (an exposure may take several values in a case only when every event of the case
        is listed with each of them, the stacked layout); the censoring indicator is not 0 or
        1. The message names the file, the case, the rows and the column.

    Examples
    --------
    >>> from reawaken.epi import example_data, split_case_series
    >>> df = example_data("case_series")
    >>> series = split_case_series(df, case="case", start="start", end="end", event="event",
    ...                            exposures=["infection"], windows=[(0, 30)])
    >>> series.terms
    ['infection[0,30]']
    >>> series.intervals[series.intervals["case"] == 1][["lo", "hi", "events", "window"]]
       lo   hi  events  window
    0  -1    9     0.0       0
    1   9   40     1.0       1
    2  40  364     0.0       0
    """
    exposures = list(exposures)
    if not exposures:
        raise InputError("at least one exposure column is needed")
    needed = [case, start, end, event, *exposures] + ([dob] if dob else [])
    require_columns(frame, needed, file)
    post = check_post_windows(windows)
    pre = check_pre_windows(pre_windows)
    allw = pre + post
    for (_, b1), (a2, _) in zip(allw[:-1], allw[1:], strict=True):
        if a2 <= b1:
            shown = ", ".join(f"{int(a)}-{int(b)}" for a, b in allw)
            raise InputError(f"risk windows overlap: {shown}")
    age_groups = [int(a) for a in age_groups]
    if any(b <= a for a, b in zip(age_groups[:-1], age_groups[1:], strict=True)):
        raise InputError(f"age groups must increase: {age_groups}")
    if seasons and dob is None:
        raise InputError("seasons need the column of the dates of birth (dob)")

    reject_rows(
        frame[case].isna().to_numpy(),
        lambda i: "case identifier is missing",
        file=file,
        column=case,
        count=False,
    )
    sta = _whole_days(frame, start, file, what="the first day of observation")
    fin = _whole_days(frame, end, file, what="the last day of observation")
    ev = _whole_days(frame, event, file, what="the day of the event")
    xs = np.column_stack(
        [
            _whole_days(frame, c, file, missing_ok=True, what="the day of an exposure")
            for c in exposures
        ]
    )
    reject_rows(
        fin < sta,
        lambda i: f"observation ends (day {fin[i]:g}) before it starts (day {sta[i]:g})",
        file=file,
        column=end,
        count=False,
    )
    reject_rows(
        (ev < sta) | (ev > fin),
        lambda i: f"event on day {ev[i]:g} is outside the observation period {sta[i]:g}-{fin[i]:g}",
        file=file,
        column=event,
        count=False,
    )
    codes, uniques = pd.factorize(frame[case], sort=True)
    ncases = len(uniques)
    case_sta = _case_values(frame, case, start, codes, sta, file).astype(np.int64)
    case_end = _case_values(frame, case, end, codes, fin, file).astype(np.int64)
    for j, column in enumerate(exposures):
        _same_exposures(frame, case, column, codes, ev, xs[:, j], file)
    last_event = np.full(ncases, -np.inf)
    np.maximum.at(last_event, codes, ev)
    flags = None
    if censored is not None:
        flags = censoring_indicator(frame, censored, file)
        flags = _case_values(frame, case, censored, codes, flags, file)
    observation = observation_check(case_sta, case_end, last_event, flags)

    # events with multiplicity: the most times an event day appears with any one exposure key
    keyed = pd.DataFrame({"c": codes, "e": ev.astype(np.int64)})
    for j in range(xs.shape[1]):
        keyed[f"x{j}"] = np.nan_to_num(xs[:, j], nan=-(2.0**62))
    counts = keyed.groupby(list(keyed.columns), sort=False).size()
    events = counts.groupby(level=["c", "e"]).max()
    ev_case = events.index.get_level_values("c").to_numpy()
    ev_day = events.index.get_level_values("e").to_numpy()
    ev_mult = events.to_numpy().astype(float)

    # distinct exposure days per case, sorted by (case, day)
    flat_case = np.repeat(codes, xs.shape[1])
    flat_x = xs.reshape(-1)
    ok = np.isfinite(flat_x)
    exp_frame = pd.DataFrame({"c": flat_case[ok], "x": flat_x[ok].astype(np.int64)})
    exp_frame = exp_frame.drop_duplicates().sort_values(["c", "x"])
    x_case = exp_frame["c"].to_numpy()
    x_day = exp_frame["x"].to_numpy()

    # cut points: interval (c_k, c_k+1] holds days c_k + 1 .. c_k+1
    cut_case = [np.arange(ncases), np.arange(ncases)]
    cut_day = [case_sta - 1, case_end]
    for a, b in allw:
        cut_case += [x_case, x_case]
        cut_day += [x_day + a - 1, x_day + b]
    for a in age_groups:
        cut_case.append(np.arange(ncases))
        cut_day.append(np.full(ncases, a - 1))
    births = None
    if seasons:
        births = np.zeros(ncases, dtype="datetime64[D]")
        births[codes] = _birth_dates(frame, dob, dob_format, file)
        first_year = (births + case_sta).astype("datetime64[Y]").astype(int) + 1970
        last_year = (births + case_end).astype("datetime64[Y]").astype(int) + 1970
        span = int((last_year - first_year).max()) + 1
        for offset in range(span):
            year = first_year + offset
            for month, day in seasons:
                dates = (
                    (year - 1970).astype("datetime64[Y]").astype("datetime64[M]")
                    + np.timedelta64(month - 1, "M")
                ).astype("datetime64[D]") + np.timedelta64(day - 1, "D")
                cut_case.append(np.arange(ncases))
                cut_day.append((dates - births).astype(np.int64) - 1)
    cc = np.concatenate(cut_case)
    cd = np.concatenate(cut_day)
    cd = np.clip(cd, case_sta[cc] - 1, case_end[cc])
    base = int(case_sta.min()) - 1
    width = int(case_end.max()) - base + 1
    keys = np.sort(cc.astype(np.int64) * width + (cd - base))
    keys = keys[np.append(True, keys[1:] != keys[:-1])]
    kc = keys // width
    kd = keys % width + base
    same = kc[1:] == kc[:-1]
    i_case = kc[1:][same]
    lo = kd[:-1][same]
    hi = kd[1:][same]

    # risk window of each interval, read at its last day (constant within the interval)
    window = np.zeros(hi.size, dtype=np.int64)
    if x_case.size:
        per_case = np.bincount(x_case, minlength=ncases)
        ptr = np.concatenate(([0], np.cumsum(per_case)))
        reps = per_case[i_case]
        pair_interval = np.repeat(np.arange(hi.size), reps)
        pair_x = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        pair_x = pair_x + ptr[i_case][pair_interval]
        since = hi[pair_interval] - x_day[pair_x]
        for group, offset, pick_last in ((post, 0, True), (pre, len(post), False)):
            if not group:
                continue
            starts = np.array([a for a, _ in group])
            ends = np.array([b for _, b in group])
            j = np.searchsorted(starts, since, side="right") - 1
            valid = (j >= 0) & (since <= ends[np.maximum(j, 0)])
            vi = pair_interval[valid]
            vj = j[valid]
            if vi.size == 0:
                continue
            if pick_last:  # the most recent exposure: last valid pair of each interval
                take = np.append(vi[1:] != vi[:-1], True)
            else:  # the nearest coming exposure: first valid pair of each interval
                take = np.insert(vi[1:] != vi[:-1], 0, True)
            chosen = np.zeros(hi.size, dtype=np.int64)
            chosen[vi[take]] = vj[take] + 1 + offset
            window = np.where((window == 0) & (chosen > 0), chosen, window)
    # post-exposure windows are numbered 1..J, pre-exposure J+1..J+K in the design below
    age_group = np.searchsorted(np.asarray(age_groups, dtype=np.int64), hi, side="right")
    season = np.zeros(hi.size, dtype=np.int64)
    if seasons:
        dates = births[i_case] + hi
        months = dates.astype("datetime64[M]")
        mmdd = (
            (months.astype(int) % 12 + 1) * 100
            + (dates - months.astype("datetime64[D]")).astype(int)
            + 1
        )
        starts_mmdd = np.array([m * 100 + d for m, d in seasons])
        order = np.argsort(starts_mmdd)
        k = np.searchsorted(starts_mmdd[order], mmdd, side="right") - 1
        season = order[k]  # k = -1 wraps to the last season of the calendar year

    ev_key = ev_case.astype(np.int64) * width + (ev_day - base)
    hi_key = i_case.astype(np.int64) * width + (hi - base)
    where = np.searchsorted(hi_key, ev_key, side="left")
    counts_per_interval = np.bincount(where, weights=ev_mult, minlength=hi.size)

    label = "+".join(exposures)
    terms = [f"{label}[{a},{b}]" for a, b in post] + [f"{label}[{a},{b}]" for a, b in pre]
    columns = [window == k for k in range(1, len(post) + len(pre) + 1)]
    bounds = age_groups + [None]
    for i, a in enumerate(age_groups):
        nxt = bounds[i + 1]
        terms.append(f"age[{a},{nxt - 1}]" if nxt is not None else f"age[{a},)")
        columns.append(age_group == i + 1)
    for s in range(1, len(seasons)):
        terms.append(f"season[{seasons[s][0]:02d}-{seasons[s][1]:02d}]")
        columns.append(season == s)
    design = np.column_stack(columns).astype(float) if columns else np.zeros((hi.size, 0))
    intervals = pd.DataFrame(
        {
            "case": uniques[i_case],
            "lo": lo,
            "hi": hi,
            "length": hi - lo,
            "events": counts_per_interval,
            "window": window,
            "age_group": age_group,
            "season": season,
        }
    )
    return CaseSeries(
        intervals=intervals, design=design, terms=terms, cases=ncases, observation=observation
    )


@dataclass(frozen=True, kw_only=True)
class SCCSFit(NewtonRatioFit):
    """A fitted self-controlled case series, as :func:`fit_case_series` returns it.

    ``estimates()`` gives the standard table (``term, coef, se, ratio, ci_lower, ci_upper,
    p_value``; ratio = relative incidence against baseline time); ``summary()`` the fit
    statistics as plain values, with the notes; ``write(out)`` both as files.

    Parameters
    ----------
    cases, events, intervals : int
        Numbers of cases, events and intervals.
    **fit
        The fields of every Newton-Raphson fit (:class:`reawaken.epi.tables.NewtonRatioFit`):
        ``terms``, ``coef`` (log relative incidences), ``var``, ``loglik`` and
        ``loglik_null`` (the conditional log-likelihood), ``iterations``, ``converged`` and
        ``notes`` (terms not estimated, non-convergence) and ``not_estimable`` (the terms
        reported as NA, with why; ``coef`` and ``var`` are NaN for them).
    assumptions : dict, optional
        The assumption diagnostics, as ``fit.json`` records them: ``observation``, the
        :class:`ObservationCheck` of the series.

    Examples
    --------
    Two windows, of which the second holds no event: its term is reported as NA (as R does)
    and the rest fitted without it.

    >>> from reawaken.epi import example_data, fit_case_series, split_case_series
    >>> two = split_case_series(example_data("case_series"), case="case", start="start",
    ...                         end="end", event="event", exposures=["infection"],
    ...                         windows=[(0, 14), (15, 30)])
    >>> fit = fit_case_series(two)
    >>> fit.cases, fit.events, fit.intervals, fit.converged
    (6, 6, 21, True)
    >>> fit.estimates(level=0.9)[["term", "ratio"]].round(2)
                   term  ratio
    0   infection[0,14]   33.4
    1  infection[15,30]    NaN
    """

    model: ClassVar[str] = "sccs"
    counted: ClassVar[tuple[str, ...]] = ("cases", "events", "intervals")
    cases: int
    events: int
    intervals: int
    assumptions: dict[str, object] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """Fit statistics as plain JSON-ready values, the assumption diagnostics and the notes."""
        return {
            **super().summary(),
            "assumption_diagnostics": self.assumptions,
            "notes": self.notes,
        }


def _segment_sums(values: np.ndarray, seg: np.ndarray, nseg: int) -> np.ndarray:
    """Sums of ``values`` (n,) or (n, p) over contiguous segments labelled ``seg``."""
    if values.ndim == 1:
        return np.bincount(seg, weights=values, minlength=nseg)
    return np.column_stack(
        [np.bincount(seg, weights=values[:, j], minlength=nseg) for j in range(values.shape[1])]
    )


def _conditional_fit(
    x: np.ndarray, y: np.ndarray, offset: np.ndarray, starts: np.ndarray, beta: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Conditional (multinomial) log-likelihood, score and information for cases at ``starts``."""
    eta = x @ beta + offset
    nseg = starts.size
    seg = np.repeat(np.arange(nseg), np.diff(np.append(starts, eta.size)))
    top = np.maximum.reduceat(eta, starts)
    w = np.exp(eta - top[seg])
    total = _segment_sums(w, seg, nseg)
    p = w / total[seg]
    n_case = _segment_sums(y, seg, nseg)
    loglik = float(y @ eta - n_case @ (np.log(total) + top))
    xbar = _segment_sums(p[:, None] * x, seg, nseg)
    score = x.T @ y - n_case @ xbar
    info = (x * (n_case[seg] * p)[:, None]).T @ x - (xbar * n_case[:, None]).T @ xbar
    return loglik, score, info


def _rank(info: np.ndarray) -> int:
    if not np.all(np.isfinite(info)):
        return 0
    try:
        return int(np.linalg.matrix_rank(info))
    except np.linalg.LinAlgError:
        return 0


def _family(term: str) -> str:
    """``age`` or ``season`` for the terms of those classes, else ``window``."""
    for name in ("age", "season"):
        if term.startswith(f"{name}["):
            return name
    return "window"


def _uninformed_terms(series: CaseSeries, y: np.ndarray) -> tuple[dict[int, str], np.ndarray]:
    """The terms the data cannot inform, each with why, and the intervals kept for the fit.

    In this order, until nothing changes: a term without person-time; the first age group or
    season with person-time when the reference one has none (it becomes the reference, as R
    takes the first level present); a term with person-time but no events (its relative
    incidence is 0 and its time says nothing about the others: left out, which is where the
    full likelihood's maximum lies). Then, in term order, a term aliased with the earlier ones
    within the cases (R's NA), found from the conditional information at zero.
    """
    x = series.design
    terms = series.terms
    keep = np.ones(y.size, dtype=bool)
    why: dict[int, str] = {}
    changed = True
    while changed:
        changed = False
        for j in range(len(terms)):
            if j in why:
                continue
            inside = keep & (x[:, j] > 0)
            if not inside.any():
                why[j] = "no person-time among the cases"
                changed = True
            elif y[inside].sum() == 0:
                why[j] = (
                    "no events among the cases (relative incidence 0, no finite estimate): "
                    "its time is left out"
                )
                keep &= ~inside
                changed = True
        for family in ("age", "season"):
            members = [j for j, t in enumerate(terms) if _family(t) == family and j not in why]
            if not members:
                continue
            reference = keep & (x[:, members].sum(axis=1) == 0)
            if not reference.any():
                why[members[0]] = (
                    f"the reference {family} group instead of the first, which has no "
                    "person-time among the cases"
                )
                changed = True
    kept = [j for j in range(len(terms)) if j not in why]
    if kept:
        idx = np.flatnonzero(keep)
        sub_starts = _starts(pd.factorize(series.intervals["case"].to_numpy()[idx])[0])
        info = _conditional_fit(
            x[np.ix_(idx, kept)],
            y[idx],
            np.log(series.intervals["length"].to_numpy(dtype=float)[idx]),
            sub_starts,
            np.zeros(len(kept)),
        )[2]
        scale = max(1.0, float(np.max(np.abs(np.diag(info)))))
        chosen: list[int] = []
        for k, j in enumerate(kept):
            trial = chosen + [k]
            if info[k, k] <= 1e-10 * scale:
                why[j] = "no case has person-time both in and outside it (aliased with the cases)"
            elif _rank(info[np.ix_(trial, trial)]) <= len(chosen):
                why[j] = "aliased: a combination of the other terms within the cases"
            else:
                chosen.append(k)
    return why, keep


def _starts(case_codes: np.ndarray) -> np.ndarray:
    """Where each case's run of intervals begins."""
    return np.flatnonzero(np.insert(case_codes[1:] != case_codes[:-1], 0, True))


def _refuse_unestimable(series: CaseSeries, why: dict[int, str]) -> None:
    """Refuse when nothing, or no risk window of the exposure, can be estimated."""
    terms = series.terms
    windows = [j for j, t in enumerate(terms) if _family(t) == "window"]
    if windows and all(j in why for j in windows):
        exposure = terms[windows[0]].rsplit("[", 1)[0]
        shown = "; ".join(f"{terms[j]}: {why[j]}" for j in windows)
        raise InputError(f"exposure {exposure} cannot be estimated: no risk window can ({shown})")
    if len(why) == len(terms):
        listed = "; ".join(f"{terms[j]}: {reason}" for j, reason in sorted(why.items()))
        raise InputError(f"no term can be estimated ({listed})")


def fit_case_series(
    series: CaseSeries,
    *,
    tol: float = 1e-10,
    max_iter: int = 50,
    check_observation: bool = True,
) -> SCCSFit:
    """Fit a self-controlled case series: relative incidence in each risk window.

    Maximises the conditional (multinomial) likelihood by Newton-Raphson with step halving;
    the estimates and standard errors equal those of R's ``clogit(events ~ ... +
    strata(case) + offset(log(length)))``. A term the data cannot inform (no person-time, no
    events, aliased with other terms within the cases) is not estimated: its row of the
    estimates is empty (NA, as R reports an aliased coefficient) with ``status`` ``not
    estimable`` (:func:`reawaken.epi.tables.mark_estimates`) and a note says why; the other
    terms are fitted without it.

    Parameters
    ----------
    series : CaseSeries
        The split case series (:func:`split_case_series`).
    tol : float, default 1e-10
        Convergence when the largest Newton step (log scale) is below ``tol``.
    max_iter : int, default 50
        Most Newton-Raphson iterations.
    check_observation : bool, default True
        Refuse a series whose observation looks event-dependent (``series.observation``,
        :class:`ObservationCheck`). False fits it anyway (the extension does so with weights).

    Returns
    -------
    SCCSFit
        The fit: ``estimates()`` (ratio = relative incidence), ``summary()`` (with the
        assumption diagnostics), ``write(out)``.

    Raises
    ------
    InputError
        If observation looks event-dependent (with ``check_observation``); there is no term
        to estimate, or none that the data can inform; or no risk window of the exposure can
        be estimated.

    Warns
    -----
    ConvergenceWarning
        If the fit did not converge in ``max_iter`` iterations, or a coefficient runs off to
        infinity (a monotone likelihood); the fit's ``notes`` say which, ``converged`` is False
        and ``estimates()`` marks every term ``not converged`` in its ``status`` column.

    Examples
    --------
    >>> from reawaken.epi import example_data, fit_case_series, split_case_series
    >>> df = example_data("case_series")
    >>> series = split_case_series(df, case="case", start="start", end="end", event="event",
    ...                            exposures=["infection"], windows=[(0, 30)])
    >>> fit = fit_case_series(series)
    >>> fit.estimates()[["term", "ratio", "ci_lower", "ci_upper"]].round(2)
                  term  ratio  ci_lower  ci_upper
    0  infection[0,30]  16.16       2.7     96.72
    """
    if check_observation and series.observation is not None:
        series.observation.refuse()
    iv = series.intervals
    y = iv["events"].to_numpy(dtype=float)
    p = series.design.shape[1]
    if p == 0:
        raise InputError("no terms to estimate")
    why, keep = _uninformed_terms(series, y)
    _refuse_unestimable(series, why)
    kept = [j for j in range(p) if j not in why]
    not_estimable = {series.terms[j]: reason for j, reason in sorted(why.items())}
    notes = na_notes(not_estimable)
    x = series.design[np.ix_(keep, kept)]
    yk = y[keep]
    offset = np.log(iv["length"].to_numpy(dtype=float)[keep])
    starts = _starts(pd.factorize(iv["case"].to_numpy()[keep])[0])
    terms = [series.terms[j] for j in kept]

    def derivatives(beta: np.ndarray) -> Derivatives:
        return Derivatives(*_conditional_fit(x, yk, offset, starts, beta))

    fit = maximise(
        derivatives, np.zeros(len(kept)), tol=tol, max_iter=max_iter, model="SCCS", terms=terms
    )
    notes += fit.notes
    converged = report_convergence(
        fit,
        lambda b: _conditional_fit(x, yk, offset, starts, b)[0],
        model="SCCS",
        terms=terms,
        notes=notes,
    )
    coef = np.full(p, np.nan)
    coef[kept] = fit.beta
    var = np.full((p, p), np.nan)
    inverse = inverse_or_nan(fit.information)
    if np.any(np.diag(inverse) < 0):  # not a maximum: no standard errors, not sqrt warnings
        inverse = np.full(inverse.shape, np.nan)
    var[np.ix_(kept, kept)] = inverse
    observation = series.observation
    return SCCSFit(
        terms=series.terms,
        coef=coef,
        var=var,
        loglik=fit.loglik,
        loglik_null=fit.loglik_start,
        cases=series.cases,
        events=int(y.sum()),
        intervals=int(y.size),
        iterations=fit.iterations,
        converged=converged,
        notes=notes,
        not_estimable=not_estimable,
        assumptions={} if observation is None else {"observation": observation.as_dict()},
    )


def fit_sccs(frame: pd.DataFrame, **options) -> SCCSFit:
    """Split with :func:`split_case_series` (same keyword options) and fit with
    :func:`fit_case_series` (``tol``, ``max_iter``, ``check_observation``)."""
    fit_options = {
        k: options.pop(k) for k in ("tol", "max_iter", "check_observation") if k in options
    }
    return fit_case_series(split_case_series(frame, **options), **fit_options)
