"""Design inputs built by SQL in the store's engine (``estimate --in-engine``) against the
inputs read into pandas: the same estimates (to 1e-10), counts, notes and fit statistics, on
synthetic stores of every layout, and the refusals of what the engine path does not do."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_layouts import generate
from reawaken.epi import cohort_designs, engine_inputs, run_design
from reawaken.epi.design import read_cohort
from reawaken.epi.designs.cox import CoxSettings
from reawaken.errors import InputError

# few deaths after a metastasis, so that the standard case series applies (the defaults make
# most cases die within months, which the case series refuses)
FEW_DEATHS = {
    "cancer_death_after_relapse": {"annual_hazard": 0.002},
    "other_death": {"log_rate_at_age_0": -16.0},
}


def _store(tmp: Path, like: str, n: int, seed: int, params: dict | None = None) -> Path:
    files = tmp / f"{like}_files"
    tmp.mkdir(parents=True, exist_ok=True)
    params_file = None
    if params is not None:
        params_file = tmp / "params.json"
        params_file.write_text(json.dumps(params))
    truth = generate(like, n, seed, files, params_file)
    db = tmp / f"{like}.duckdb"
    CohortStore(db).import_source(like, files, **truth["import_options"])
    return db


@pytest.fixture(scope="module")
def few_deaths(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("few_deaths")
    return {
        like: _store(tmp / like, like, 2000, seed, FEW_DEATHS)
        for like, seed in (("flatiron", 7), ("ukb", 8), ("omop", 9))
    }


@pytest.fixture(scope="module")
def flatiron(tmp_path_factory) -> Path:
    return _store(tmp_path_factory.mktemp("flatiron"), "flatiron", 2000, 7)


def _both(db: Path, design: str, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a window without events, say: the same either way
        memory = run_design(CohortStore(db), design, **options)
        engine = run_design(CohortStore(db), design, inputs="engine", **options)
    return memory, engine


def _assert_same(memory, engine) -> None:
    a, b = memory.estimates, engine.estimates
    assert list(a["term"]) == list(b["term"])
    for column in ("coef", "se", "ratio", "ci_lower", "ci_upper", "p_value"):
        np.testing.assert_allclose(b[column], a[column], rtol=1e-10, atol=1e-12, err_msg=column)
    assert list(a["events"]) == list(b["events"])
    pd.testing.assert_frame_equal(memory.counts, engine.counts)
    assert memory.notes == engine.notes
    assert engine.summary.pop("inputs") == "engine" and "inputs" not in memory.summary
    assert set(memory.summary) == set(engine.summary)
    for key, value in memory.summary.items():
        if key not in ("fit", "outcome_fit", "competing_fit"):
            assert engine.summary[key] == value, key


SCCS_RUNS = [
    ("distant_metastasis", "any", "0-30,31-90,91-180"),
    ("lung_metastasis", "sars-cov-2", "0-14,15-60,>60"),
    ("other_site_metastasis", "any", "0-365"),
    ("distant_metastasis", "influenza", "0-30,31-90,91-180"),
]


@pytest.mark.parametrize("like", ["flatiron", "ukb", "omop"])
@pytest.mark.parametrize(("outcome", "exposure", "windows"), SCCS_RUNS)
def test_sccs_aggregated_in_the_engine_equals_the_fit_in_memory(
    few_deaths, like, outcome, exposure, windows
):
    db = few_deaths[like]
    try:
        memory, engine = _both(db, "sccs", outcome=outcome, exposure=exposure, windows=windows)
    except InputError as exc:  # no window with events (influenza is rare): refused alike
        with pytest.raises(InputError) as again:
            run_design(CohortStore(db), "sccs", inputs="engine", outcome=outcome,
                       exposure=exposure, windows=windows)  # fmt: skip
        assert str(again.value) == str(exc)
        return
    _assert_same(memory, engine)
    a, b = memory.summary["fit"], engine.summary["fit"]
    assert {k: v for k, v in a.items() if not k.startswith("loglik")} == {
        k: v for k, v in b.items() if not k.startswith("loglik")
    }  # cases, events, intervals of the split series, iterations, diagnostics, notes
    assert b["loglik"] == pytest.approx(a["loglik"], rel=1e-12)
    assert b["loglik_null"] == pytest.approx(a["loglik_null"], rel=1e-12)


def test_the_engine_aggregates_hold_a_few_rows_per_case_and_all_their_time(few_deaths):
    """Memory of the size of the aggregates: at most one row per case, window and age group,
    holding every observed day of the cases and every event."""
    store = CohortStore(few_deaths["ukb"])
    windows = [(0, 30), (31, 90), (91, 180)]
    with engine_inputs.engine(store) as con:
        engine_inputs.define_persons(con, store, "distant_metastasis", None)
        cases = engine_inputs.define_cases(con, "any", None)
        agg = engine_inputs.sccs_aggregates(con, windows, [731, 1827], cases=cases)
        days = con.execute('SELECT sum("end" - start + 1), count(*) FROM rw_cases').fetchall()
    rows = agg.series.intervals
    assert len(rows) <= cases * (len(windows) + 1) * 3
    assert len(rows) < agg.intervals  # fewer rows than the split series' intervals
    assert rows["length"].sum() == days[0][0]
    assert rows["events"].sum() == days[0][1] == cases  # one event per case
    assert rows.groupby(["case", "window", "age_group"]).size().max() == 1


def test_sccs_event_dependent_in_the_engine_equals_the_extension_in_memory(flatiron):
    memory, engine = _both(flatiron, "sccs", outcome="distant_metastasis", exposure="any",
                           windows="0-90,91-180", event_dependent=True)  # fmt: skip
    _assert_same(memory, engine)
    assert memory.summary["fit"] == engine.summary["fit"]


def test_sccs_refusals_are_the_same_in_the_engine(flatiron):
    """Most cases die soon after a metastasis: the standard case series is refused alike."""
    messages = []
    for inputs in ("memory", "engine"):
        with pytest.raises(InputError) as err:
            run_design(CohortStore(flatiron), "sccs", inputs=inputs,
                       outcome="distant_metastasis", exposure="any")  # fmt: skip
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert "observation ended early for" in messages[0]


def test_cox_persons_from_the_engine_equal_those_read_in_memory(flatiron):
    store = CohortStore(flatiron)
    for outcome in cohort_designs.OUTCOMES:
        settings = CoxSettings(outcome=outcome, exposure="any")
        try:
            memory = read_cohort(store, settings)
        except InputError as exc:  # flatiron records no cause of death
            with pytest.raises(InputError, match="no cause of death") as again:
                engine_inputs.read_cohort(store, settings)
            assert str(again.value) == str(exc)
            continue
        engine = engine_inputs.read_cohort(store, settings)
        pd.testing.assert_frame_equal(engine.persons, memory.persons)
        pd.testing.assert_frame_equal(engine.infections, memory.infections)
        assert engine.notes == memory.notes


@pytest.mark.parametrize(
    ("time_scale", "calendar_years"),
    [("diagnosis", False), ("calendar", False), ("diagnosis", True)],
)
def test_cox_intervals_split_in_the_engine_equal_those_split_in_memory(
    few_deaths, time_scale, calendar_years
):
    """The same intervals (person, start, stop, event, window, adjustments), person by person,
    and the same events and person-years per window."""
    store = CohortStore(few_deaths["omop"])
    windows = ((0.0, 30.0), (31.0, 90.0), (181.0, 365.0), (366.0, math.inf))  # with a gap
    cohort = read_cohort(store, CoxSettings(outcome="lung_metastasis", exposure="any"))
    options = dict(
        exposure="any", windows=windows, time_scale=time_scale, calendar_years=calendar_years
    )
    for status in (1, 2):
        memory = cohort_designs.cox_intervals(
            cohort.persons, cohort.infections, event_status=status, **options
        )
        with engine_inputs.engine(store) as con:
            engine_inputs.define_persons(con, store, "lung_metastasis", None)
            engine = engine_inputs.cox_intervals(con, event_status=status, **options)
        ids = dict(enumerate(sorted(cohort.persons["id"]), start=1))  # one source: same order
        got = engine.intervals.assign(id=engine.intervals["id"].map(ids))
        columns = list(memory.intervals.columns)
        assert sorted(got.columns) == sorted(columns)
        order = ["id", "start"]
        pd.testing.assert_frame_equal(
            got[columns].sort_values(order, ignore_index=True),
            memory.intervals.sort_values(order, ignore_index=True),
            check_dtype=not calendar_years,  # the years: integers, or objects holding them
        )
        assert (engine.window_terms, engine.adjustment_terms, engine.notes) == (
            memory.window_terms,
            memory.adjustment_terms,
            memory.notes,
        )
        pd.testing.assert_frame_equal(
            cohort_designs.window_counts(engine), cohort_designs.window_counts(memory)
        )


def test_cox_without_exposed_time_is_refused_alike(few_deaths):
    messages = []
    for inputs in ("memory", "engine"):
        with pytest.raises(InputError) as err:
            run_design(CohortStore(few_deaths["ukb"]), "cox", inputs=inputs,
                       outcome="lung_metastasis", exposure="influenza")  # fmt: skip
        messages.append(str(err.value))
    assert messages[0] == messages[1] == "no person-time after a recorded influenza infection"


@pytest.mark.parametrize(
    ("design", "options"),
    [
        ("cox", {"outcome": "lung_metastasis", "exposure": "any", "windows": "0-30,31-90,>90"}),
        ("cox", {"outcome": "distant_metastasis", "exposure": "sars-cov-2",
                 "time_scale": "calendar"}),
        ("cox", {"outcome": "distant_metastasis", "exposure": "any", "calendar_years": True}),
        ("competing", {"outcome": "lung_metastasis", "exposure": "any", "windows": "0-90,>90"}),
    ],
)  # fmt: skip
def test_cox_and_competing_from_the_engine_equal_the_fits_in_memory(flatiron, design, options):
    memory, engine = _both(flatiron, design, **options)
    _assert_same(memory, engine)
    if design == "competing":
        pd.testing.assert_frame_equal(memory.curves, engine.curves)


def test_a_design_without_engine_inputs_is_refused(flatiron, tmp_path, capsys):
    with pytest.raises(InputError, match="the emulation design builds its inputs in memory"):
        run_design(CohortStore(flatiron), "emulation", inputs="engine",
                   outcome="lung_metastasis", exposure="any")  # fmt: skip
    with pytest.raises(InputError, match=r"inputs 'disk': unknown \(accepted: one of memory"):
        run_design(CohortStore(flatiron), "cox", inputs="disk",
                   outcome="lung_metastasis", exposure="any")  # fmt: skip
    design = ["--design", "emulation", "--outcome", "lung_metastasis", "--exposure", "any"]
    args = ["estimate", "--db", str(flatiron), "--out", str(tmp_path / "e"), "--in-engine", *design]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --in-engine does not apply to --design emulation (it applies to cox, sccs, "
        "competing)"
    )
    assert not (tmp_path / "e").exists()


def test_sources_linked_as_the_same_person_are_refused(tmp_path):
    """Linked persons are merged in memory only: the engine path says so instead of counting
    them twice."""
    files = tmp_path / "files"
    truth = generate("flatiron", 200, 3, files)
    db = tmp_path / "linked.duckdb"
    store = CohortStore(db)
    store.import_source("flatiron", files, **truth["import_options"])
    store.import_source("flatiron", files, name="again", link="same-person",
                        **truth["import_options"])  # fmt: skip
    settings = CoxSettings(outcome="lung_metastasis", exposure="any")
    with pytest.raises(InputError, match="linked as the same person"):
        engine_inputs.read_cohort(store, settings)
    one = CoxSettings(outcome="lung_metastasis", exposure="any", source="again")
    pd.testing.assert_frame_equal(
        engine_inputs.read_cohort(store, one).persons, read_cohort(store, one).persons
    )


def test_estimate_in_engine_writes_the_same_estimates(few_deaths, tmp_path):
    db = few_deaths["omop"]
    base = ["estimate", "--db", str(db), "--design", "sccs", "--outcome", "distant_metastasis",
            "--exposure", "any", "--windows", "0-30,31-90", "--min-cell", "0"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "memory")]) == 0
    assert main([*base, "--out", str(tmp_path / "engine"), "--in-engine"]) == 0
    a = pd.read_csv(tmp_path / "memory" / "estimates.csv")
    b = pd.read_csv(tmp_path / "engine" / "estimates.csv")
    numbers = a.select_dtypes("number").columns
    np.testing.assert_allclose(b[numbers], a[numbers], rtol=1e-10)
    assert (tmp_path / "memory" / "counts.csv").read_text() == (
        tmp_path / "engine" / "counts.csv"
    ).read_text()
    fit = json.loads((tmp_path / "engine" / "fit.json").read_text())
    assert fit["inputs"] == "engine"
    assert "inputs" not in json.loads((tmp_path / "memory" / "fit.json").read_text())


def test_sccs_equal_with_infections_of_both_viruses_on_one_day(few_deaths, tmp_path):
    """Cases infected by both viruses of ``any`` on the same day: one exposure on that day, the
    event counted once per case (both paths), and the fit the same as without the copies."""
    import shutil

    import duckdb

    db = tmp_path / "same_day.duckdb"
    shutil.copy(few_deaths["flatiron"], db)
    before = _both(db, "sccs", outcome="distant_metastasis", exposure="any",
                   windows="0-30,31-90,91-180")[0]  # fmt: skip
    con = duckdb.connect(str(db))
    con.execute("""INSERT INTO infection
        SELECT i.source, i.person_id, i.infection_date, 'influenza', i.evidence, i.hospitalised
        FROM infection i JOIN outcome o USING (source, person_id)
        WHERE i.pathogen = 'sars-cov-2' AND o.outcome_type = 'distant_metastasis'
        LIMIT 40""")
    con.close()
    memory, engine = _both(db, "sccs", outcome="distant_metastasis", exposure="any",
                           windows="0-30,31-90,91-180")  # fmt: skip
    _assert_same(memory, engine)
    assert memory.summary["fit"]["events"] == engine.summary["fit"]["events"]
    assert memory.summary["fit"]["events"] == before.summary["fit"]["events"]
    pd.testing.assert_frame_equal(before.estimates, memory.estimates)
