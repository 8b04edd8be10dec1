"""Counting-process intervals (tmerge / survSplit) with time-since-infection windows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cox_reference import COEF, FITS, model_options, rel

from reawaken.epi.cox import fit_cox
from reawaken.epi.intervals import (
    add_infection_windows,
    add_time_dependent,
    base_intervals,
    build_intervals,
    days_since,
    parse_windows,
    split_at,
)
from reawaken.errors import InputError
from reference_data import SURVIVAL


def _persons() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["A", "B"],
            "entry": [0.0, 0.0],
            "exit": [400.0, 200.0],
            "event": [1, 0],
            "sex": [1, 0],
        }
    )


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return [tuple(r) for r in frame[columns].itertuples(index=False)]


def test_default_windows_reinfection_and_two_pathogens():
    infections = pd.DataFrame(
        {
            "id": ["A", "B", "B", "B"],
            "time": [100.0, 10.0, 50.0, 150.0],
            "pathogen": ["SARS-CoV-2", "SARS-CoV-2", "SARS-CoV-2", "influenza"],
        }
    )
    base = base_intervals(
        _persons(), id="id", entry="entry", exit="exit", event="event", covariates=["sex"]
    )
    iv = add_infection_windows(base, infections)
    a = iv[iv["id"] == "A"]
    assert _rows(a, ["start", "stop", "event", "sars_cov_2_window"]) == [
        (0.0, 99.0, 0, "none"),
        (99.0, 130.0, 0, "0-30"),  # infection day 100 is day 0 of the window
        (130.0, 190.0, 0, "31-90"),
        (190.0, 280.0, 0, "91-180"),
        (280.0, 400.0, 1, "181-365"),
    ]
    b = iv[iv["id"] == "B"]
    assert _rows(b, ["start", "stop", "sars_cov_2_window", "influenza_window"]) == [
        (0.0, 9.0, "none", "none"),
        (9.0, 40.0, "0-30", "none"),
        (40.0, 49.0, "31-90", "none"),
        (49.0, 80.0, "0-30", "none"),  # reinfection on day 50 restarts the windows
        (80.0, 140.0, "31-90", "none"),
        (140.0, 149.0, "91-180", "none"),
        (149.0, 180.0, "91-180", "0-30"),
        (180.0, 200.0, "91-180", "31-90"),
    ]
    assert b["event"].sum() == 0 and (b["sex"] == 0).all()
    indicators = [
        "sars_cov_2_0_30",
        "sars_cov_2_31_90",
        "sars_cov_2_91_180",
        "sars_cov_2_181_365",
        "sars_cov_2_gt365",
    ]
    assert (
        iv[indicators].sum(axis=1).tolist()
        == (iv["sars_cov_2_window"] != "none").astype(int).tolist()
    )
    assert a["sars_cov_2_181_365"].tolist() == [0, 0, 0, 0, 1]


def test_lag_gap_windows_and_infection_before_entry():
    persons = pd.DataFrame(
        {"id": [1, 2], "entry": [0.0, 50.0], "exit": [300.0, 300.0], "event": [1, 1]}
    )
    infections = pd.DataFrame({"id": [1, 2], "time": [100.0, 30.0]})
    base = base_intervals(persons, id="id", entry="entry", exit="exit", event="event")
    iv = add_infection_windows(
        base, infections, pathogen=None, windows=parse_windows("0-7,15-28"), lag=14
    )
    assert _rows(iv[iv["id"] == 1], ["start", "stop", "infection_window"]) == [
        (0.0, 113.0, "none"),
        (113.0, 121.0, "0-7"),
        (121.0, 128.0, "none"),
        (128.0, 142.0, "15-28"),
        (142.0, 300.0, "none"),
    ]
    # infected on day 30, before entry on day 50: windows 0-7 = (43, 51], 15-28 = (58, 72]
    assert _rows(iv[iv["id"] == 2], ["start", "stop", "infection_window"]) == [
        (50.0, 51.0, "0-7"),
        (51.0, 58.0, "none"),
        (58.0, 72.0, "15-28"),
        (72.0, 300.0, "none"),
    ]


def test_vaccination_doses_are_cumulative():
    base = base_intervals(_persons(), id="id", entry="entry", exit="exit", event="event")
    doses = pd.DataFrame({"id": ["A", "A", "B"], "time": [20.0, 60.0, 0.0]})
    iv = add_time_dependent(base, doses, name="vaccinated", cumulative=True)
    assert _rows(iv, ["id", "start", "stop", "vaccinated"]) == [
        ("A", 0.0, 20.0, 0),
        ("A", 20.0, 60.0, 1),
        ("A", 60.0, 400.0, 2),
        ("B", 0.0, 200.0, 1),
    ]


def test_time_scales_from_dates():
    persons = pd.DataFrame(
        {
            "pid": [7],
            "birth": ["1960-01-01"],
            "diagnosis": ["2019-06-01"],
            "end": ["2021-06-01"],
            "died": [1],
        }
    )
    infections = pd.DataFrame({"pid": [7], "date": ["2020-12-01"], "pathogen": ["influenza"]})
    vacc = pd.DataFrame({"pid": [7], "date": ["2020-03-01"]})
    common = dict(
        id="pid",
        entry="diagnosis",
        exit="end",
        event="died",
        infections=infections,
        infection_time="date",
        vaccinations=vacc,
        vaccination_time="date",
    )
    since_dx = build_intervals(persons, origin="diagnosis", **common)
    d_inf = (pd.Timestamp("2020-12-01") - pd.Timestamp("2019-06-01")).days
    d_vac = (pd.Timestamp("2020-03-01") - pd.Timestamp("2019-06-01")).days
    assert since_dx["start"].iloc[0] == 0.0
    assert (
        since_dx["stop"].iloc[-1] == (pd.Timestamp("2021-06-01") - pd.Timestamp("2019-06-01")).days
    )
    assert d_vac in since_dx["stop"].tolist() and d_inf - 1 in since_dx["stop"].tolist()
    age = build_intervals(persons, origin="birth", **common)
    shift = (pd.Timestamp("2019-06-01") - pd.Timestamp("1960-01-01")).days
    np.testing.assert_array_equal(age["start"], since_dx["start"] + shift)
    calendar = build_intervals(persons, origin="2020-01-01", **common)
    shift = (pd.Timestamp("2019-06-01") - pd.Timestamp("2020-01-01")).days
    np.testing.assert_array_equal(calendar["stop"], since_dx["stop"] + shift)
    for iv in (since_dx, age, calendar):
        assert iv["event"].tolist()[-1] == 1 and iv["event"].sum() == 1
        assert iv["vaccinated"].tolist() == [0, 1, 1, 1, 1, 1]
        assert list(iv.columns[:4]) == ["pid", "start", "stop", "event"]


def _jasa_intervals() -> pd.DataFrame:
    """jasa1 from the raw jasa table, as survival's timedep vignette builds it with tmerge."""
    jasa = pd.read_csv(SURVIVAL / "jasa.csv")
    futime = days_since(jasa["fu.date"], jasa["accept.dt"])
    persons = pd.DataFrame(
        {
            "id": jasa["subject"],
            "entry": 0.0,
            "futime": np.maximum(0.5, futime),  # deaths on day 0 at day 0.5
            "event": jasa["fustat"],
            "age": jasa["age"] - 48,
            "year": days_since(jasa["accept.dt"], "1967-10-01") / 365.25,
            "surgery": jasa["surgery"],
        }
    )
    tx = days_since(jasa["tx.date"], jasa["accept.dt"])
    tx = np.where(jasa["tx.date"] == jasa["fu.date"], tx - 0.5, tx)  # transplant on death day
    transplants = pd.DataFrame({"id": jasa["subject"], "time": tx}).dropna()
    base = base_intervals(
        persons,
        id="id",
        entry="entry",
        exit="futime",
        event="event",
        covariates=["age", "year", "surgery"],
    )
    return add_time_dependent(base, transplants, name="transplant")


def test_jasa1_rebuilt_from_raw_jasa():
    built = _jasa_intervals()
    jasa1 = pd.read_csv(SURVIVAL / "jasa1.csv").sort_values(["id", "start"])
    assert len(built) == len(jasa1) == 170
    for col in ["id", "start", "stop", "event", "transplant", "surgery"]:
        np.testing.assert_array_equal(built[col].to_numpy(float), jasa1[col].to_numpy(float))
    np.testing.assert_allclose(built["age"], jasa1["age"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(built["year"], jasa1["year"], rtol=1e-12)


@pytest.mark.parametrize("model", ["kp1", "kp2", "kp3", "kp4", "kp5", "kp6"])
def test_kalbfleisch_prentice_models_on_built_intervals_equal_r(model):
    result = fit_cox(
        _jasa_intervals(), start="start", stop="stop", event="event", **model_options(model)
    )
    ref = COEF[COEF.model == model]
    assert rel(result.coef, ref.coef) < 1e-6
    assert rel(result.se, ref.se) < 1e-6
    assert rel(result.loglik, FITS.loc[model].loglik) < 1e-6
    assert result.iterations == FITS.loc[model].iter


def test_split_at_fixed_cuts_like_survsplit():
    base = base_intervals(_persons(), id="id", entry="entry", exit="exit", event="event")
    cuts = pd.DataFrame({"id": ["A", "A", "B"], "time": [100.0, 500.0, 200.0]})
    assert _rows(split_at(base, cuts), ["id", "start", "stop", "event"]) == [
        ("A", 0.0, 100.0, 0),
        ("A", 100.0, 400.0, 1),
        ("B", 0.0, 200.0, 0),
    ]


def test_bad_input_is_named():
    persons = _persons()
    with pytest.raises(InputError, match=r"exit <= entry in rows 2"):
        base_intervals(
            persons.assign(exit=[400.0, 0.0]), id="id", entry="entry", exit="exit", event="event"
        )
    with pytest.raises(InputError, match=r"person id repeated in rows 2"):
        base_intervals(
            persons.assign(id=["A", "A"]), id="id", entry="entry", exit="exit", event="event"
        )
    base = base_intervals(persons, id="id", entry="entry", exit="exit", event="event")
    with pytest.raises(InputError, match=r"infections: id not among the persons in rows 2"):
        add_infection_windows(
            base, pd.DataFrame({"id": ["A", "Z"], "time": [1.0, 2.0]}), pathogen=None
        )
    with pytest.raises(InputError, match=r"missing times in rows 1"):
        add_infection_windows(base, pd.DataFrame({"id": ["A"], "time": [np.nan]}), pathogen=None)
    with pytest.raises(InputError, match="bad window"):
        parse_windows("0-30,abc")
    with pytest.raises(InputError, match="overlap"):
        parse_windows("0-30,20-40")


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    exits=st.lists(st.integers(1, 500), min_size=1, max_size=6),
    infections=st.lists(
        st.tuples(st.integers(0, 5), st.integers(-100, 600), st.sampled_from(["flu", "covid"])),
        max_size=10,
    ),
    lag=st.integers(0, 30),
)
def test_splitting_keeps_person_time_and_events(exits, infections, lag):
    persons = pd.DataFrame(
        {
            "id": range(len(exits)),
            "entry": 0.0,
            "exit": np.array(exits, float),
            "event": [i % 2 for i in range(len(exits))],
        }
    )
    inf = pd.DataFrame(infections, columns=["id", "time", "pathogen"])
    inf = inf[inf["id"] < len(exits)].astype({"time": float})
    base = base_intervals(persons, id="id", entry="entry", exit="exit", event="event")
    iv = add_infection_windows(base, inf, lag=lag) if len(inf) else base
    assert (iv["stop"] > iv["start"]).all()
    time = iv.assign(d=iv["stop"] - iv["start"]).groupby("id")["d"].sum()
    np.testing.assert_array_equal(time.to_numpy(), persons["exit"].to_numpy())
    assert iv.groupby("id")["event"].sum().tolist() == persons["event"].tolist()
    # contiguous pieces: each stop is the next start within a person
    for _, g in iv.groupby("id"):
        assert (g["start"].to_numpy()[1:] == g["stop"].to_numpy()[:-1]).all()
    for col in [c for c in iv.columns if c.endswith("_window")]:
        assert math.isfinite(len(iv[col]))
