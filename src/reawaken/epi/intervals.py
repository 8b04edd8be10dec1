"""Counting-process intervals: one row per person and period of constant covariates.

What R's ``tmerge`` and ``survSplit`` do, on pandas DataFrames: a person's follow-up
``(entry, exit]`` is split wherever a time-dependent covariate changes (a transplant, a vaccine
dose) and at each infection into time-since-infection windows, so that a Cox model sees each
exposure only from when it happens (no immortal-time bias; Therneau, Crowson and Atkinson,
"Using time dependent covariates and time dependent coefficients in the Cox model", survival
package vignette).

Conventions (all times in days on one time scale):

- intervals are ``(start, stop]``; the event flag belongs to ``stop`` and stays on the last piece;
- a time-dependent value that changes at time ``t`` holds on ``(t, ...]``; a change at or before
  a person's entry holds from entry (tmerge's ``tdc``);
- an infection window ``a-b`` covers days ``infection + lag + a`` to ``infection + lag + b``
  inclusive, as in the self-controlled case series (so ``(t + lag + a - 1, t + lag + b]``); the
  default windows are 0-30, 31-90, 91-180, 181-365 and >365 days; a new infection with the same
  pathogen restarts its windows (time since the most recent infection).

The time scale is chosen by :func:`days_since`: days since cancer diagnosis (origin = diagnosis
date), age in days (origin = birth date) or calendar time (origin = a fixed date).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reawaken.epi._values import also, first_row, is_missing, show
from reawaken.errors import InputError

DEFAULT_WINDOWS: tuple[tuple[float, float], ...] = (
    (0, 30),
    (31, 90),
    (91, 180),
    (181, 365),
    (366, math.inf),
)
"""Time-since-infection windows in days (assumption of this package: the excess hazard in
Chia et al. 2025 and the UK Biobank and Flatiron analyses is largest in the first months)."""

NO_WINDOW = "none"


def window_label(window: tuple[float, float]) -> str:
    a, b = window
    return f">{int(a) - 1}" if math.isinf(b) else f"{int(a)}-{int(b)}"


def parse_windows(text: str) -> tuple[tuple[float, float], ...]:
    """Parse ``"0-30,31-90,>365"`` (whole days; ``>N`` means N+1 to infinity)."""
    windows = []
    for part in text.split(","):
        part = part.strip()
        if m := re.fullmatch(r">\s*(\d+)", part):
            windows.append((int(m.group(1)) + 1, math.inf))
        elif m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", part):
            windows.append((int(m.group(1)), int(m.group(2))))
        else:
            raise InputError(f"bad window {part!r}: expected a-b or >n in whole days")
    return check_windows(windows)


def check_windows(windows: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    try:
        windows = tuple((float(a), float(b)) for a, b in windows)
    except (TypeError, ValueError):
        raise InputError(
            "bad windows: expected pairs of days (a, b), e.g. ((0, 30), (31, 90))"
        ) from None
    if not windows:
        raise InputError("no time-since-infection windows given")
    for (a, b), nxt in zip(windows, windows[1:] + (None,), strict=True):
        if a < 0 or b < a:
            raise InputError(f"bad window {a:g}-{b:g}: need 0 <= a <= b")
        if nxt is not None and nxt[0] <= b:
            raise InputError(f"windows overlap or are out of order at {a:g}-{b:g}")
    return windows


def column_name(text: str) -> str:
    """A plain column name: lower case, non-alphanumerics to underscores (sars-cov-2 ->
    sars_cov_2)."""
    return re.sub(r"[^0-9a-z]+", "_", str(text).lower()).strip("_")


def days_since(values, origin) -> np.ndarray:
    """Days from ``origin`` to ``values`` (dates, or numbers already in days).

    ``origin`` is a same-length sequence (diagnosis or birth dates: time since diagnosis, age)
    or one date (calendar time); with numbers in days it is a number or a sequence of numbers.
    Missing dates give NaN.
    """
    values = pd.Series(values)
    if pd.api.types.is_numeric_dtype(values) and _is_number(origin):
        return values.to_numpy(dtype=float) - np.asarray(origin, dtype=float)
    v = pd.to_datetime(values, errors="coerce")
    o = pd.to_datetime(origin, errors="coerce")
    if not np.isscalar(o) and not isinstance(o, pd.Timestamp):
        o = pd.Series(np.asarray(o), index=v.index)
    delta = v - o
    return (delta / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _is_number(origin) -> bool:
    """A number of days or a sequence of them (not dates, not text)."""
    if isinstance(origin, str):
        return False
    if np.isscalar(origin):
        return isinstance(origin, (int, float, np.number)) and not isinstance(origin, bool)
    return pd.api.types.is_numeric_dtype(pd.Series(np.asarray(origin)))


def _rows(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask) + 1
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return "rows " + ", ".join(map(str, rows[:5])) + more


def base_intervals(
    persons: pd.DataFrame,
    *,
    id: str,
    entry: str,
    exit: str,
    event: str,
    covariates: Sequence[str] = (),
) -> pd.DataFrame:
    """One interval ``(entry, exit]`` per person: columns id, start, stop, event, covariates.

    ``entry`` and ``exit`` are numbers on the analysis time scale (days); see
    :func:`days_since`. Bad rows raise :class:`InputError` naming them.
    """
    for col in [id, entry, exit, event, *covariates]:
        if col not in persons.columns:
            raise InputError(f"no column {col!r}", column=col)
    start = pd.to_numeric(persons[entry], errors="coerce").to_numpy(dtype=float)
    stop = pd.to_numeric(persons[exit], errors="coerce").to_numpy(dtype=float)
    for name, values in ((entry, start), (exit, stop)):
        if np.isnan(values).any():
            raise InputError(f"missing times in {_rows(np.isnan(values))}", column=name)
    if (stop <= start).any():
        raise InputError(f"exit <= entry in {_rows(stop <= start)}", column=exit)
    if persons[id].duplicated().any():
        raise InputError(
            f"person id repeated in {_rows(persons[id].duplicated().to_numpy())}", column=id
        )
    status = pd.to_numeric(persons[event], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(status, (0.0, 1.0))
    if bad.any():
        row = first_row(bad)
        value = persons[event].iloc[row - 1]
        what = "missing event" if is_missing(value) else f"event {show(value)}"
        raise InputError(f"{what}: the event must be 0 or 1{also(bad)}", row=row, column=event)
    out = pd.DataFrame(
        {
            "id": persons[id].to_numpy(),
            "start": start,
            "stop": stop,
            "event": status.astype(np.int64),
        }
    )
    for col in covariates:
        out[col] = persons[col].to_numpy()
    return out


def split_at(intervals: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    """Split intervals at per-person cut times (``cuts``: columns id, time).

    A cut strictly inside ``(start, stop)`` makes two rows; the event stays on the last piece.
    Other columns are copied. Sorted by id and start.
    """
    iv = intervals.reset_index(drop=True)
    row = np.arange(len(iv))
    cut = cuts[["id", "time"]].dropna().drop_duplicates()
    inside = iv[["id", "start", "stop"]].assign(_row=row).merge(cut, on="id")
    inside = inside[(inside["time"] > inside["start"]) & (inside["time"] < inside["stop"])]
    points = pd.DataFrame(
        {
            "_row": np.concatenate([row, inside["_row"].to_numpy()]),
            "t": np.concatenate(
                [iv["start"].to_numpy(dtype=float), inside["time"].to_numpy(dtype=float)]
            ),
        }
    ).sort_values(["_row", "t"], kind="stable")
    src = points["_row"].to_numpy()
    piece_start = points["t"].to_numpy()
    last = np.ones(len(src), dtype=bool)
    last[:-1] = src[1:] != src[:-1]
    piece_stop = np.where(
        last, iv["stop"].to_numpy(dtype=float)[src], np.append(piece_start[1:], np.nan)
    )
    out = iv.iloc[src].reset_index(drop=True)
    out["start"] = piece_start
    out["stop"] = piece_stop
    out["event"] = np.where(last, out["event"].to_numpy(), 0)
    return out.sort_values(["id", "start"], kind="stable").reset_index(drop=True)


def _state_at_start(pieces: pd.DataFrame, changes: pd.DataFrame, name: str, initial):
    """Value of the latest change at or before each piece's start (tmerge tdc), else initial."""
    left = pieces[["id", "start"]].assign(_order=np.arange(len(pieces)))
    left = left.sort_values("start", kind="stable")
    right = changes[["id", "time", "value"]].sort_values("time", kind="stable")
    merged = pd.merge_asof(
        left,
        right,
        left_on="start",
        right_on="time",
        by="id",
        direction="backward",
        allow_exact_matches=True,
    )
    merged = merged.sort_values("_order")
    values = merged["value"].to_numpy(dtype=object)
    missing = merged["time"].isna().to_numpy()
    values[missing] = initial
    return values


def _check_events(frame: pd.DataFrame, id: str, time: str, persons_ids, what: str) -> None:
    for col in (id, time):
        if col not in frame.columns:
            raise InputError(f"{what}: no column {col!r}", column=col)
    t = pd.to_numeric(frame[time], errors="coerce").to_numpy(dtype=float)
    if np.isnan(t).any():
        raise InputError(f"{what}: missing times in {_rows(np.isnan(t))}", column=time)
    unknown = ~frame[id].isin(persons_ids).to_numpy()
    if unknown.any():
        raise InputError(f"{what}: id not among the persons in {_rows(unknown)}", column=id)


def add_time_dependent(
    intervals: pd.DataFrame,
    changes: pd.DataFrame,
    *,
    name: str,
    id: str = "id",
    time: str = "time",
    value: str | None = None,
    initial=0,
    cumulative: bool = False,
) -> pd.DataFrame:
    """Add column ``name`` that changes at the given times (tmerge ``tdc``/``cumtdc``).

    ``changes`` has one row per change: ``id``, ``time`` (days, same scale) and ``value`` (the
    new value; without ``value`` the variable becomes 1). With ``cumulative=True`` the values
    add up (``cumtdc``: e.g. the number of vaccine doses so far).
    """
    _check_events(changes, id, time, intervals["id"].unique(), name)
    ch = pd.DataFrame(
        {
            "id": changes[id].to_numpy(),
            "time": pd.to_numeric(changes[time]).to_numpy(dtype=float),
            "value": 1 if value is None else changes[value].to_numpy(),
        }
    )
    ch = ch.sort_values(["id", "time"], kind="stable")
    if cumulative:
        ch["value"] = ch.groupby("id")["value"].cumsum() + initial
    ch = ch.drop_duplicates(["id", "time"], keep="last")
    pieces = split_at(intervals, ch)
    pieces[name] = _state_at_start(pieces, ch, name, initial)
    if value is None or cumulative:
        pieces[name] = pd.to_numeric(pieces[name])
    return pieces


def add_infection_windows(
    intervals: pd.DataFrame,
    infections: pd.DataFrame,
    *,
    id: str = "id",
    time: str = "time",
    pathogen: str | None = "pathogen",
    windows: Sequence[tuple[float, float]] = DEFAULT_WINDOWS,
    lag: float = 0.0,
) -> pd.DataFrame:
    """Split at each infection into time-since-infection windows, one set per pathogen.

    Adds, per pathogen P (column name from :func:`column_name`), a label column
    ``P_window`` (a window label or ``"none"``) and one 0/1 indicator per window,
    ``P_0_30``, ``P_31_90``, ..., ``P_gt365``: the covariates of a Cox model whose reference is
    time not in any window (before the first infection, or in a gap). ``lag`` (days) moves every
    window later. Without a ``pathogen`` column every infection counts as ``infection``.
    """
    windows = check_windows(windows)
    _check_events(infections, id, time, intervals["id"].unique(), "infections")
    kinds = (
        infections[pathogen].map(column_name)
        if pathogen is not None
        else pd.Series("infection", index=infections.index)
    )
    inf = pd.DataFrame(
        {
            "id": infections[id].to_numpy(),
            "kind": kinds.to_numpy(),
            "t": pd.to_numeric(infections[time]).to_numpy(dtype=float) + lag,
        }
    )
    inf = inf.drop_duplicates().sort_values(["id", "kind", "t"], kind="stable")
    inf["next_begin"] = inf.groupby(["id", "kind"])["t"].shift(-1) + windows[0][0] - 1
    labels = [window_label(w) for w in windows]
    parts = []
    for k, (a, b) in enumerate(windows):
        parts.append(inf.assign(time=inf["t"] + a - 1, value=labels[k], prio=1))
        if not math.isinf(b) and (k + 1 == len(windows) or windows[k + 1][0] - 1 > b):
            parts.append(inf.assign(time=inf["t"] + b, value=NO_WINDOW, prio=0))
    points = pd.concat(parts, ignore_index=True)
    points = points[~(points["time"] >= points["next_begin"])]
    points = points.sort_values(["id", "kind", "time", "prio"], kind="stable")
    points = points.drop_duplicates(["id", "kind", "time"], keep="last")
    pieces = split_at(intervals, points[["id", "time"]])
    for kind, chg in points.groupby("kind", sort=True):
        state = _state_at_start(pieces, chg, f"{kind}_window", NO_WINDOW)
        pieces[f"{kind}_window"] = state
        for label in labels:
            suffix = label.replace(">", "gt").replace("-", "_")
            pieces[f"{kind}_{suffix}"] = (state == label).astype(np.int64)
    return pieces


@dataclass(frozen=True)
class TimeDependent:
    """A covariate that changes over follow-up, for :func:`build_intervals` (R's ``tmerge``).

    A value that changes at time ``t`` holds on ``(t, ...]``; a change at or before a person's
    entry holds from entry (see :func:`add_time_dependent`).

    Parameters
    ----------
    name : str
        The covariate's column in the intervals.
    changes : pandas.DataFrame
        One row per change: the person (the ``id`` column of :func:`build_intervals`), the
        time and the new value.
    time : str, default "time"
        Column of the change time (a date, or a day number on the entry/exit scale).
    value : str or None, default "value"
        Column of the new value; None: the covariate becomes 1 at each change.
    initial : object, default 0
        The value before the first change.
    cumulative : bool, default False
        Add the values up (``cumtdc``: e.g. the number of doses so far).

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.epi import TimeDependent, build_intervals
    >>> persons = pd.DataFrame({"id": [1, 2], "entry": [0, 0], "exit": [400, 250],
    ...                         "event": [1, 0]})
    >>> treated = TimeDependent("treated", pd.DataFrame({"id": [2], "time": [50]}), value=None)
    >>> build_intervals(persons, id="id", entry="entry", exit="exit", event="event",
    ...                 time_dependent=[treated])
       id  start   stop  event  treated
    0   1    0.0  400.0      1        0
    1   2    0.0   50.0      0        0
    2   2   50.0  250.0      0        1
    """

    name: str
    changes: pd.DataFrame
    time: str = "time"
    value: str | None = "value"
    initial: object = 0
    cumulative: bool = False


def build_intervals(
    persons: pd.DataFrame,
    *,
    id: str,
    entry: str,
    exit: str,
    event: str,
    origin: str | None = None,
    covariates: Sequence[str] = (),
    infections: pd.DataFrame | None = None,
    infection_time: str = "time",
    pathogen: str | None = "pathogen",
    windows: Sequence[tuple[float, float]] = DEFAULT_WINDOWS,
    lag: float = 0.0,
    vaccinations: pd.DataFrame | None = None,
    vaccination_time: str = "time",
    time_dependent: Sequence[TimeDependent] = (),
) -> pd.DataFrame:
    """Turn a person table (with infections, vaccinations) into counting-process intervals.

    What R's ``tmerge`` does: each person's follow-up ``(entry, exit]`` is split wherever a
    covariate changes and at each infection into time-since-infection windows, so that a Cox
    model (:func:`fit_cox`) sees each exposure only from when it happens. Adds ``vaccinated``
    (doses so far), the ``time_dependent`` covariates, and per pathogen P a label column
    ``P_window`` and one 0/1 indicator per window (``P_0_30``, ..., ``P_gt365``; see
    :func:`add_infection_windows`): the covariates of a Cox model whose reference is time not
    in any window.

    Parameters
    ----------
    persons : pandas.DataFrame
        One row per person.
    id : str
        Column of the person identifier (unique); the event tables use the same column name.
    entry, exit : str
        Columns of the start and end of follow-up (dates or day numbers).
    event : str
        Column of the event flag at ``exit``, 0 or 1.
    origin : str, optional
        The time scale: a column of per-person dates (diagnosis date: time since diagnosis;
        birth date: age) or one fixed date (calendar time); None when ``entry`` and ``exit``
        are already days on the analysis scale.
    covariates : sequence of str, optional
        Columns of ``persons`` copied onto every interval.
    infections : pandas.DataFrame, optional
        One row per infection: ``id``, ``infection_time`` and, optionally, ``pathogen``.
    infection_time : str, default "time"
        Column of the infection date or day.
    pathogen : str or None, default "pathogen"
        Column of the pathogen, one set of windows each; None: every infection counts as
        ``infection``.
    windows : sequence of (float, float), default DEFAULT_WINDOWS
        Time-since-infection windows ``(a, b)`` in days, inclusive, in order, not overlapping;
        ``b`` may be ``math.inf``.
    lag : float, default 0
        Days by which every window moves later.
    vaccinations : pandas.DataFrame, optional
        One row per dose: ``id`` and ``vaccination_time``.
    vaccination_time : str, default "time"
        Column of the vaccination date or day.
    time_dependent : sequence of TimeDependent, optional
        Other covariates that change over follow-up.

    Returns
    -------
    pandas.DataFrame
        One row per person and period of constant covariates: ``id`` (the column named by
        ``id``), ``start``, ``stop`` (days on the analysis scale), ``event`` (on the last piece
        only), the ``covariates`` and the added columns, sorted by person and start.

    Raises
    ------
    InputError
        If a column is missing; an entry or exit is missing or ``exit <= entry``; a person id
        is repeated; an event is not 0 or 1; the windows are not pairs ``0 <= a <= b`` in order
        and without overlap; or an infection, vaccination or change names a person not in
        ``persons`` or has a missing time.

    Examples
    --------
    >>> import pandas as pd
    >>> from reawaken.epi import build_intervals
    >>> persons = pd.DataFrame({
    ...     "id": [1, 2],
    ...     "diagnosis": ["2020-01-01", "2020-03-01"],
    ...     "entry": ["2020-01-01", "2020-03-01"],
    ...     "exit": ["2021-02-04", "2020-11-06"],
    ...     "event": [1, 0],
    ... })
    >>> infections = pd.DataFrame({"id": [1], "time": ["2020-04-10"], "pathogen": ["influenza"]})
    >>> iv = build_intervals(persons, id="id", entry="entry", exit="exit", event="event",
    ...                      origin="diagnosis", infections=infections,
    ...                      windows=[(0, 30), (31, 90)])
    >>> iv[["id", "start", "stop", "event", "influenza_window", "influenza_0_30"]]
       id  start   stop  event influenza_window  influenza_0_30
    0   1    0.0   99.0      0             none               0
    1   1   99.0  130.0      0             0-30               1
    2   1  130.0  190.0      0            31-90               0
    3   1  190.0  400.0      1             none               0
    4   2    0.0  250.0      0             none               0
    """
    frame = persons.copy()
    per_person = origin is not None and origin in frame.columns
    if per_person:
        origins = pd.Series(frame[origin].to_numpy(), index=frame[id].to_numpy())
    if origin is not None:
        person_origin = origins.to_numpy() if per_person else origin
        for col in (entry, exit):
            frame[col] = days_since(frame[col], person_origin)
    iv = base_intervals(frame, id=id, entry=entry, exit=exit, event=event, covariates=covariates)

    def on_scale(events: pd.DataFrame, col: str) -> pd.DataFrame:
        events = events.copy()
        if origin is not None:
            if per_person:
                events[col] = days_since(events[col], events[id].map(origins).to_numpy())
            else:
                events[col] = days_since(events[col], origin)
        return events

    if vaccinations is not None:
        vac = on_scale(vaccinations, vaccination_time)
        iv = add_time_dependent(
            iv, vac, name="vaccinated", id=id, time=vaccination_time, cumulative=True
        )
    for covariate in time_dependent:
        iv = add_time_dependent(
            iv,
            on_scale(covariate.changes, covariate.time),
            name=covariate.name,
            id=id,
            time=covariate.time,
            value=covariate.value,
            initial=covariate.initial,
            cumulative=covariate.cumulative,
        )
    if infections is not None:
        inf = on_scale(infections, infection_time)
        iv = add_infection_windows(
            iv, inf, id=id, time=infection_time, pathogen=pathogen, windows=windows, lag=lag
        )
    return iv.rename(columns={"id": id}) if id != "id" else iv
