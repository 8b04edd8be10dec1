"""Error messages of the estimators say the value, where it is and why (plain values, no numpy
reprs, no library exceptions), found by a user of ``reawaken fit`` and ``reawaken estimate``."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_layouts import generate
from reawaken.epi import cohort_designs as designs
from reawaken.epi._cox_core import RiskSets, not_estimable
from reawaken.epi.competing import cause_specific_cox, check_competing_data, cumulative_incidence
from reawaken.epi.cox import fit_cox
from reawaken.epi.estimate import run_design
from reawaken.epi.evalue import evalue
from reawaken.epi.finegray import fit_fine_gray
from reawaken.epi.sccs import fit_sccs, split_case_series
from reawaken.epi.tables import check_level, estimates_table
from reawaken.errors import InputError

COX = dict(start="start", stop="stop", event="event")


def _cox_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            "stop": [10.0, 20.0, 15.0, 7.0, 30.0, 12.0],
            "event": [0, 1, 1, 0, 1, 1],
            "x": [0.5, 0.5, 1.5, -1.0, 2.0, 0.1],
            "w": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            "s": ["a", "b", "a", "b", "a", "b"],
            "id": [1, 2, 3, 4, 5, 6],
        }
    )


def _blank(frame: pd.DataFrame, column: str, index: int) -> pd.DataFrame:
    out = frame.copy()
    out[column] = out[column].astype(object)
    out.loc[index, column] = None
    return out


def _raises(call, message: str, *, file=None, row=None, column=None) -> InputError:
    with pytest.raises(InputError) as info:
        call()
    err = info.value
    assert str(err) == message
    assert (err.file, err.row, err.column) == (file, row, column)
    assert "np." not in str(err)
    return err


# ----- 1. a missing value is named as missing, with its row and column -----------------------


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("start", "the interval start in days"),
        ("stop", "the interval stop in days"),
        ("event", "the event flag, 0 or 1"),
        ("x", "a numeric covariate value"),
        ("w", "a case weight >= 0"),
    ],
)
def test_cox_missing_value_is_named(column, expected):
    frame = _blank(_cox_frame(), column, 3)
    _raises(
        lambda: fit_cox(frame, covariates=["x"], weights="w", file="d.csv", missing="error", **COX),
        f"file d.csv, row 4, column '{column}': missing value (expected {expected})",
        file="d.csv",
        row=4,
        column=column,
    )


def test_cox_missing_stratum_cluster_and_id_are_named():
    for column, role, option in (("s", "stratum", "strata"), ("id", "cluster", "cluster")):
        frame = _blank(_cox_frame(), column, 1)
        _raises(
            lambda frame=frame, option=option, column=column: fit_cox(
                frame, covariates=["x"], **{option: column}, missing="error", **COX
            ),
            f"row 2, column '{column}': missing value (expected a {role})",
            row=2,
            column=column,
        )
    frame = _blank(_cox_frame(), "id", 1)
    _raises(
        lambda: fit_cox(frame, covariates=["x"], id="id", missing="error", **COX),
        "row 2, column 'id': missing value (expected a person id)",
        row=2,
        column="id",
    )


def test_cox_bad_values_are_shown_plainly():
    frame = _cox_frame().assign(x=lambda f: f["x"].astype(object))
    frame.loc[2, "x"] = "abc"
    _raises(
        lambda: fit_cox(frame, covariates=["x"], **COX),
        "row 3, column 'x': 'abc' is not a number (expected a numeric covariate value)",
        row=3,
        column="x",
    )
    frame = _cox_frame()
    frame.loc[2, "x"] = np.inf
    _raises(
        lambda: fit_cox(frame, covariates=["x"], **COX),
        "row 3, column 'x': inf is not a finite number (expected a numeric covariate value)",
        row=3,
        column="x",
    )
    frame = _cox_frame().assign(event=[0, 2, 1, 0, 3, 1])
    _raises(
        lambda: fit_cox(frame, covariates=["x"], **COX),
        "row 2, column 'event': event 2 is not 0 or 1 (1 = event at stop, 0 = none); "
        "2 rows in all: 2, 5",
        row=2,
        column="event",
    )
    frame = _blank(_cox_frame(), "event", 0)
    frame = _blank(frame, "event", 4)
    _raises(
        lambda: fit_cox(frame, covariates=["x"], **COX),
        "row 1, column 'event': missing value (expected the event flag, 0 or 1); "
        "2 rows in all: 1, 5",
        row=1,
        column="event",
    )


def _competing() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0],
            "event": [1, 2, 0, 1, 1, 2, 0, 1],
            "x": [1.0, 2.0, 3.0, 1.0, 5.0, 2.0, 0.5, 4.0],
        }
    )


def test_competing_missing_values_are_named():
    _raises(
        lambda: check_competing_data(_blank(_competing(), "time", 3), "time", "event", file="c"),
        "file c, row 4, column 'time': missing time (expected days >= 0)",
        file="c",
        row=4,
        column="time",
    )
    _raises(
        lambda: check_competing_data(_blank(_competing(), "event", 3), "time", "event"),
        "row 4, column 'event': missing event code: expected 0 (censored) or a positive "
        "integer cause (1 outcome, 2 competing)",
        row=4,
        column="event",
    )
    _raises(
        lambda: fit_fine_gray(
            _blank(_competing(), "x", 2),
            time="time",
            event="event",
            covariates=["x"],
            missing="error",
        ),
        "row 3, column 'x': missing covariate value (expected a number)",
        row=3,
        column="x",
    )
    _raises(
        lambda: cause_specific_cox(
            _blank(_competing(), "x", 2),
            time="time",
            event="event",
            covariates=["x"],
            missing="error",
        ),
        "row 3, column 'x': missing value (expected a numeric covariate value)",
        row=3,
        column="x",
    )


def test_sccs_missing_values_are_named():
    frame = pd.DataFrame(
        {
            "case": [1, 2, 3, 4, 5, 6],
            "sta": [0, 0, 0, 0, 0, 0],
            "end": [100, 100, 100, 100, 100, 100],
            "ev": [10, 50, 20, 80, 30, 60],
            "ex": [5.0, 40.0, np.nan, 70.0, 25.0, 1.0],
        }
    )
    options = dict(case="case", start="sta", end="end", event="ev", exposures=["ex"])
    for column, what in (
        ("sta", "the first day of observation"),
        ("end", "the last day of observation"),
        ("ev", "the day of the event"),
    ):
        _raises(
            lambda column=column: fit_sccs(
                _blank(frame, column, 3), windows=[(0, 10)], file="s.csv", **options
            ),
            f"file s.csv, row 4, column '{column}': missing value (expected {what}, a whole "
            "number of days)",
            file="s.csv",
            row=4,
            column=column,
        )
    bad = frame.assign(ex=frame["ex"].astype(object))
    bad.loc[1, "ex"] = "soon"
    _raises(
        lambda: split_case_series(bad, windows=[(0, 10)], **options),
        "row 2, column 'ex': 'soon' is not a whole number of days (expected the day of an "
        "exposure)",
        row=2,
        column="ex",
    )


# ----- 2. values as plain Python, never numpy reprs ------------------------------------------


def test_event_code_is_shown_as_plain_number():
    frame = _competing()
    frame.loc[3, "event"] = -1
    err = _raises(
        lambda: check_competing_data(frame, "time", "event"),
        "row 4, column 'event': event code -1: expected 0 (censored) or a positive integer "
        "cause (1 outcome, 2 competing)",
        row=4,
        column="event",
    )
    assert "np.int64" not in err.reason
    frame = frame.assign(event=frame["event"].astype(float))
    frame.loc[3, "event"] = 1.5
    _raises(
        lambda: check_competing_data(frame, "time", "event"),
        "row 4, column 'event': event code 1.5: expected 0 (censored) or a positive integer "
        "cause (1 outcome, 2 competing)",
        row=4,
        column="event",
    )


def test_numpy_values_in_other_messages_are_plain():
    with pytest.raises(InputError) as info:
        evalue(np.float64(-1.0), measure="RR")
    assert str(info.value) == "ratios must be positive and finite, got -1"
    with pytest.raises(InputError) as info:
        split_case_series(
            pd.DataFrame({"case": [1], "sta": [0], "end": [9], "ev": [3], "ex": [1]}),
            case="case",
            start="sta",
            end="end",
            event="ev",
            exposures=["ex"],
            windows=[(np.int64(0), np.int64(10))],
            pre_windows=[(np.int64(-5), np.int64(-1))],
            age_groups=[np.int64(5), np.int64(3)],
        )
    assert "np." not in str(info.value)


# ----- 3. confidence levels and times -------------------------------------------------------


ACCEPTED_LEVEL = "(accepted: a number > 0 and < 1; e.g. 0.95 for 95% intervals)"


@pytest.mark.parametrize(
    ("level", "why"),
    [
        (1.5, "1.5: out of range"),
        (0.0, "0.0: out of range"),
        (1.0, "1.0: out of range"),
        (-0.2, "-0.2: out of range"),
        (math.nan, "nan: not a finite number"),
    ],
)
def test_level_outside_0_1_is_an_input_error(level, why):
    message = f"confidence level {why} {ACCEPTED_LEVEL}"
    _raises(lambda: check_level(level), message)
    _raises(lambda: estimates_table(["a"], [0.1], [0.2], level=level), message)
    _raises(lambda: fit_cox(_cox_frame(), covariates=["x"], level=level, **COX), message)
    frame = _competing()
    fg = fit_fine_gray(frame, time="time", event="event", covariates=["x"])
    _raises(lambda: fg.estimates(level=level), message)
    _raises(lambda: cumulative_incidence(frame["time"], frame["event"], [7], level=level), message)


def test_level_that_is_not_a_number():
    _raises(lambda: check_level("high"), f"confidence level high: not a number {ACCEPTED_LEVEL}")


def test_cumulative_incidence_times_must_be_finite_and_not_negative():
    t, e = _competing()["time"], _competing()["event"]
    _raises(
        lambda: cumulative_incidence(t, e, [30, -10]),
        "time -10 is negative: the cumulative incidence is given at days >= 0 since the time "
        "origin",
    )
    _raises(
        lambda: cumulative_incidence(t, e, [math.inf]),
        "time inf is not finite: the cumulative incidence is given at finite times (days >= 0)",
    )
    _raises(
        lambda: cumulative_incidence(t, e, [math.nan]),
        "time nan is not finite: the cumulative incidence is given at finite times (days >= 0)",
    )
    _raises(
        lambda: cumulative_incidence(t, e, []),
        "no times given for the cumulative incidence (expected e.g. 90,180,365)",
    )
    table = cumulative_incidence(t, e, [0, 7])
    assert table["cif"].notna().all()


# ----- 6. terms the risk sets cannot inform: reported as NA naming them, never LinAlgError ---


def _split_at_five(n: int = 200, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.exponential(10, n)
    e = (rng.random(n) < 0.8).astype(int)
    z = rng.normal(size=n)
    rows = []
    for i in range(n):
        if t[i] > 5:
            rows += [(i, 0.0, 5.0, 0, 0, z[i]), (i, 5.0, t[i], e[i], 1, z[i])]
        else:
            rows.append((i, 0.0, t[i], e[i], 0, z[i]))
    return pd.DataFrame(rows, columns=["id", "start", "stop", "event", "late", "z"])


def test_a_function_of_time_alone_is_named():
    frame = _split_at_five()
    fit = fit_cox(frame, covariates=["z", "late"], file="t.csv", **COX)
    assert fit.notes == [
        "'late' cannot be estimated (it does not vary within any risk set: everyone at risk "
        "at each event time has the same value): reported as NA"
    ]
    alone = fit_cox(frame, covariates=["z"], **COX)
    assert fit.coef[0] == pytest.approx(alone.coef[0], rel=1e-12) and np.isnan(fit.coef[1])


def test_collinear_within_risk_sets_is_named():
    frame = _split_at_five().assign(z2=lambda f: f["z"] + 3 * f["late"])
    fit = fit_cox(frame, covariates=["z", "z2"], **COX)
    assert fit.not_estimable == {"z2": "collinear with 'z' within the risk sets"}


def test_not_estimable_is_empty_for_a_good_design():
    frame = _split_at_five()
    x = frame[["z"]].to_numpy()
    sets = RiskSets(
        frame["start"].to_numpy(),
        frame["stop"].to_numpy(),
        frame["event"].to_numpy() == 1,
        x,
        np.ones(len(frame)),
        np.zeros(len(frame), dtype=np.int64),
        efron=True,
    )
    assert not_estimable(sets, ["z"]) == {}


def test_calendar_time_scale_with_calendar_years_is_refused():
    message = (
        "calendar-year adjustment cannot be combined with the calendar time scale: calendar "
        "year is already the time scale, so the baseline hazard absorbs it and its terms do "
        "not vary within any risk set (the Cox model cannot estimate them); adjust for "
        "calendar year on the diagnosis time scale, or use the calendar time scale alone"
    )
    _raises(lambda: designs.check_time_scale("calendar", True), message)
    designs.check_time_scale("calendar", False)
    designs.check_time_scale("diagnosis", True)
    _raises(
        lambda: designs.check_time_scale("age", False),
        "time scale must be one of diagnosis, calendar, got 'age'",
    )


# ----- 6 and 7 on a cohort store ------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> CohortStore:
    tmp: Path = tmp_path_factory.mktemp("messages")
    truth = generate("flatiron", 1500, 3, tmp / "files")
    db = tmp / "c.duckdb"
    CohortStore(db).import_source("flatiron", tmp / "files", **truth["import_options"])
    return CohortStore(db)


def test_run_design_refuses_calendar_years_on_calendar_scale(store):
    for design in ("cox", "competing"):
        with pytest.raises(InputError, match="calendar year is already the time scale"):
            run_design(
                store,
                design=design,
                outcome="distant_metastasis",
                exposure="any",
                time_scale="calendar",
                calendar_years=True,
            )


def test_run_design_sccs_open_ended_window_only(store):
    _raises(
        lambda: run_design(
            store,
            design="sccs",
            outcome="distant_metastasis",
            exposure="any",
            windows=[(31, math.inf)],
        ),
        "the self-controlled case series needs risk windows with an end, but window >30 is "
        "open-ended (its time counts as baseline, so nothing is left to compare); give "
        "windows a-b, e.g. 0-30,31-90,91-180,181-365",
    )


def test_run_design_sccs_windows_without_person_time_or_events(store):
    with pytest.raises(InputError) as info:
        run_design(
            store,
            design="sccs",
            outcome="distant_metastasis",
            exposure="any",
            windows=[(20000, 20010)],
        )
    reason = str(info.value)
    assert reason.startswith("no any risk window holds both person-time and events among the ")
    assert "(20000-20010: 0 events in 0.00 person-years)" in reason
    # a window without person-time next to a usable one is left out with a note
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_design(
            store,
            design="sccs",
            outcome="distant_metastasis",
            exposure="any",
            windows=[(0, 365), (20000, 20010), (20011, math.inf)],
            event_dependent=True,
        )
    assert "no person-time in window 20000-20010 days among the cases: left out" in result.notes
    assert "window >20010 is open-ended: the case series counts its time as baseline" in (
        result.notes
    )
    assert list(result.estimates.loc[result.estimates["kind"] == "exposure", "window"]) == ["0-365"]


def test_run_design_unknown_source_names_the_stored_ones(store):
    _raises(
        lambda: run_design(
            store, design="cox", outcome="distant_metastasis", exposure="any", source="nosuch"
        ),
        f"file {store.path}: source 'nosuch' is not in the cohort store (stored sources: flatiron)",
        file=str(store.path),
    )
