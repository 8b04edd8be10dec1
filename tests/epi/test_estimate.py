"""``reawaken estimate`` on small synthetic cohorts imported into a temporary store."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reawaken
from reawaken.accepts import whole
from reawaken.cli import main
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_layouts import generate
from reawaken.epi import DESIGNS, register_design, run_design
from reawaken.epi import cohort_designs as designs
from reawaken.epi.design import (
    DesignResult,
    base_summary,
    forest_figure,
    label_estimates,
    read_cohort,
)
from reawaken.epi.evalue import evalue
from reawaken.epi.settings import StudySettings, setting, windows_setting
from reawaken.epi.tables import ESTIMATE_COLUMNS, estimates_table
from reawaken.errors import ConvergenceWarning


def _store(tmp: Path, like: str, n: int, seed: int) -> tuple[Path, dict]:
    truth = generate(like, n, seed, tmp / f"{like}_files")
    db = tmp / f"{like}.duckdb"
    CohortStore(db).import_source(like, tmp / f"{like}_files", **truth["import_options"])
    return db, truth


@pytest.fixture(scope="module")
def flatiron(tmp_path_factory) -> tuple[Path, dict]:
    return _store(tmp_path_factory.mktemp("flatiron"), "flatiron", 3000, 7)


@pytest.fixture(scope="module")
def ukb(tmp_path_factory) -> tuple[Path, dict]:
    return _store(tmp_path_factory.mktemp("ukb"), "ukb", 3000, 8)


def _run(db: Path, out: Path, *args: str) -> int:
    return main(["estimate", "--db", str(db), "--out", str(out), *args])


def test_person_table_counts_match_the_generator(flatiron, ukb):
    db, truth = flatiron
    store = CohortStore(db)
    for outcome in ("distant_metastasis", "lung_metastasis"):
        persons = designs.person_table(store, outcome).frame
        assert (persons["status"] == 1).sum() == truth["counts"]["outcomes"][outcome]
        assert (persons["exit"] >= persons["start"]).all()
    db, truth = ukb
    persons = designs.person_table(CohortStore(db), "cancer_death").frame
    assert (persons["status"] == 1).sum() == truth["counts"]["outcomes"]["cancer_death"]
    deaths = truth["counts"]["outcomes"]["death"] - truth["counts"]["outcomes"]["cancer_death"]
    assert (persons["status"] == 2).sum() == deaths


def test_cox_estimates_counts_evalues_and_plot(flatiron, tmp_path):
    db, _ = flatiron
    out = tmp_path / "cox"
    assert _run(db, out, "--design", "cox", "--outcome", "distant_metastasis",
                "--exposure", "any", "--min-cell", "0") == 0  # fmt: skip
    est = pd.read_csv(out / "estimates.csv")
    assert list(est.columns[5:12]) == ESTIMATE_COLUMNS
    main_rows = est[est["kind"] == "exposure"]
    assert list(main_rows["window"]) == ["0-30", "31-90", "91-180", "181-365", ">365"]
    assert set(est.loc[est["kind"] == "adjustment", "term"]) >= {"stage_II", "stage_III", "age10"}
    for row in main_rows.itertuples():
        e = evalue(row.ratio, row.ci_lower, row.ci_upper, measure="HR", rare=True)
        assert row.evalue == pytest.approx(e.point) and row.evalue_ci == pytest.approx(e.ci)
    assert est.loc[est["kind"] == "adjustment", "evalue"].isna().all()
    counts = pd.read_csv(out / "counts.csv")
    persons = designs.person_table(CohortStore(db), "distant_metastasis").frame
    assert counts["events"].sum() == (persons["status"] == 1).sum()  # every event in one window
    followed = (persons["exit"] - persons["start"] + 1).sum() / 365.25
    assert counts["person_years"].sum() == pytest.approx(followed, rel=1e-12)
    fit = json.loads((out / "fit.json").read_text())
    assert fit["outcome_fit"]["converged"] and fit["persons"] == len(persons)
    assert (out / "forest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_small_cells_are_suppressed(flatiron, tmp_path):
    db, _ = flatiron
    out = tmp_path / "cox"
    assert _run(db, out, "--design", "cox", "--outcome", "lung_metastasis",
                "--exposure", "sars-cov-2") == 0  # fmt: skip
    est = pd.read_csv(out / "estimates.csv")
    counts = pd.read_csv(out / "counts.csv")
    for events in (est["events"].dropna(), counts["events"].dropna()):
        assert ((events == 0) | (events >= 10)).all()
    assert counts["events"].isna().any()  # lung metastases within 30 days of COVID-19 are few


def test_sccs_design(flatiron, tmp_path, capsys):
    """Metastasis is followed by death (observation ends early for most cases): the standard
    case series is refused with the remedy; the extension is fitted and recorded."""
    db, _ = flatiron
    out = tmp_path / "sccs"
    base = ["--design", "sccs", "--outcome", "distant_metastasis", "--exposure", "any"]
    assert _run(db, out, *base) == 2
    err = capsys.readouterr().err
    assert "observation ended early for" in err and err.strip().endswith("(--event-dependent)")
    assert not out.exists()
    assert _run(db, out, *base, "--event-dependent") == 0
    est = pd.read_csv(out / "estimates.csv")
    main_rows = est[est["kind"] == "exposure"]
    assert list(main_rows["term"]) == ["window[0,30]", "window[31,90]", "window[91,180]",
                                       "window[181,365]"]  # fmt: skip
    assert set(est.loc[est["kind"] == "adjustment", "term"]) == {"age[732,1827]", "age[1828,)"}
    fit = json.loads((out / "fit.json").read_text())["fit"]
    models = {m["model"]: m for m in fit["censoring_models"]}
    assert sorted(models) == ["EGA", "EGI", "EWA", "EWI"]
    chosen = fit["censoring_model_chosen"]
    converged = {k: m["aic"] for k, m in models.items() if m["converged"]}
    assert chosen == min(converged, key=converged.get)
    assert fit["assumption_diagnostics"]["observation"]["event_dependent"] is True
    # a death as the outcome: neither the case series nor the extension applies
    assert _run(db, tmp_path / "death", *base[:3], "cancer_death", "--exposure", "any") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --outcome cancer_death: cancer_death is a death")
    assert "cox or competing design" in err


def test_sccs_design_equals_the_case_series_fit_of_its_data(flatiron):
    """The design's windows equal the extension fitted directly on the stacked case rows that
    the store gives (ages counted from the day before diagnosis)."""
    from reawaken.epi.estimate import run_design
    from reawaken.epi.sccs_eventdep import fit_event_dependent

    db, _ = flatiron
    store = CohortStore(db)
    result = run_design(store, "sccs", outcome="distant_metastasis", exposure="any",
                        windows="0-90,91-180", event_dependent=True)  # fmt: skip
    people = designs.person_table(store, "distant_metastasis").frame
    frame = designs.sccs_data(people, designs.infection_table(store, "any"))
    frame[["start", "end", "event", "exposure"]] += 1
    direct = fit_event_dependent(frame, case="case", start="start", end="end", event="event",
                                 exposures=["exposure"], windows=[(0, 90), (91, 180)],
                                 age_groups=[732, 1828], censored="died")  # fmt: skip
    got = result.estimates.set_index("term").loc[["window[0,90]", "window[91,180]"], "coef"]
    want = direct.estimates().set_index("term").loc[["exposure[0,90]", "exposure[91,180]"]]
    np.testing.assert_allclose(got.to_numpy(), want["coef"].to_numpy(), rtol=1e-10)


def test_emulation_design(flatiron, tmp_path):
    db, _ = flatiron
    out = tmp_path / "emulation"
    assert _run(db, out, "--design", "emulation", "--outcome", "distant_metastasis",
                "--exposure", "any", "--bootstrap", "10", "--seed", "3",
                "--min-cell", "0") == 0  # fmt: skip
    everything = pd.read_csv(out / "estimates.csv")
    assert list(everything["term"]) == [
        "risk_ratio_91d",
        "risk_ratio_183d",
        "risk_ratio_365d",
        "subdistribution hazard ratio (Fine-Gray)",
    ]
    fine_gray = everything.iloc[-1]
    assert fine_gray["ci_lower"] < fine_gray["ratio"] < fine_gray["ci_upper"]
    assert fine_gray["window"] == "0-365" and fine_gray["events"] > 0
    est = everything.iloc[:3]
    np.testing.assert_allclose(est["ratio"], est["risk_exposed"] / est["risk_unexposed"])
    np.testing.assert_allclose(
        est["risk_difference"], est["risk_exposed"] - est["risk_unexposed"], atol=1e-15
    )
    assert (est["ci_lower"] <= est["ratio"]).all() and (est["ratio"] <= est["ci_upper"]).all()
    curves = pd.read_csv(out / "cif.csv")
    for _, arm in curves.groupby("arm"):
        assert (np.diff(arm["cif"]) >= -1e-12).all() and arm["cif"].between(0, 1).all()
    fit = json.loads((out / "fit.json").read_text())
    assert fit["matched_cases"] > 0 and fit["censoring_weights"]["min"] > 0
    assert (out / "cif.png").exists()
    again = tmp_path / "again"
    _run(db, again, "--design", "emulation", "--outcome", "distant_metastasis",
         "--exposure", "any", "--bootstrap", "10", "--seed", "3", "--min-cell", "0")  # fmt: skip
    pd.testing.assert_frame_equal(everything, pd.read_csv(again / "estimates.csv"))


def test_competing_design(ukb, tmp_path):
    db, _ = ukb
    out = tmp_path / "competing"
    assert _run(db, out, "--design", "competing", "--outcome", "cancer_death",
                "--exposure", "sars-cov-2", "--windows", "0-90,>90",
                "--min-cell", "0") == 0  # fmt: skip
    est = pd.read_csv(out / "estimates.csv")
    main_rows = est[est["kind"] == "exposure"]
    assert list(main_rows["event"]) == ["outcome", "outcome", "competing", "competing"]
    assert list(main_rows["window"]) == ["0-90", ">90"] * 2
    curves = pd.read_csv(out / "cif.csv")
    assert set(curves["arm"]) == {"cancer_death", "death from other causes"}
    last = curves.groupby("arm")["cif"].last()
    assert 0 < last.sum() <= 1 and (out / "cif.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--design", "logistic", "--outcome", "cancer_death", "--exposure", "any"], "design"),
        (["--design", "cox", "--outcome", "relapse", "--exposure", "any"], "--outcome relapse"),
        (["--design", "cox", "--outcome", "cancer_death", "--exposure", "rsv"], "exposure"),
        (["--design", "cox", "--outcome", "cancer_death", "--exposure", "any"], "cause of death"),
        (
            [
                "--design",
                "cox",
                "--outcome",
                "lung_metastasis",
                "--exposure",
                "any",
                "--windows",
                "0-30,20-40",
            ],
            "overlap",
        ),  # fmt: skip
    ],
)
def test_bad_input_exits_2(flatiron, tmp_path, capsys, args, message):
    db, _ = flatiron
    assert _run(db, tmp_path / "out", *args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "estimates.csv").exists()


def test_missing_store_exits_2(tmp_path, capsys):
    assert _run(tmp_path / "none.duckdb", tmp_path / "out", "--design", "cox",
                "--outcome", "distant_metastasis", "--exposure", "any") == 2  # fmt: skip
    assert "none.duckdb: no such file" in capsys.readouterr().err


def test_cox_intervals_window_boundaries():
    """An event on the infection day is in window 0-30; on day 31 after it, in 31-90."""
    persons = pd.DataFrame(
        {
            "id": ["a", "b"],
            "diagnosis": [100.0, 100.0],
            "start": [100.0, 100.0],
            "exit": [300.0, 331.0],
            "end": [400.0, 400.0],
            "status": [1, 1],
            "stage": ["I", "II"],
            "age": [50.0, 60.0],
        }
    )
    infections = pd.DataFrame({"id": ["a", "b"], "day": [300.0, 300.0], "pathogen": "any"})
    data = designs.cox_intervals(persons, infections, exposure="any")
    last = data.intervals.groupby("id").tail(1).set_index("id")
    assert last.loc["a", "any_window"] == "0-30" and last.loc["a", "event"] == 1
    assert last.loc["b", "any_window"] == "31-90" and last.loc["b", "stop"] == 232.0
    assert math.isclose(data.intervals.groupby("id")["start"].min().loc["a"], 0.0)


def test_plots_take_and_return_axes():
    import matplotlib.pyplot as plt

    from reawaken.plots.forest import plot_forest
    from reawaken.plots.incidence import plot_cumulative_incidence

    est = pd.DataFrame(
        {
            "window": ["0-30", "31-90", ">90"],
            "ratio": [2.0, 1.5, np.inf],
            "ci_lower": [1.2, 0.9, 0.0],
            "ci_upper": [3.3, 2.5, np.inf],
        }
    )
    fig, ax = plt.subplots()
    assert plot_forest(est, ax=ax, label="window") is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0-30", "31-90", ">90"]
    assert ax.get_xscale() == "log" and len(ax.lines[0].get_xdata()) == 2  # inf not drawn
    curves = pd.DataFrame(
        {"arm": ["a", "a", "b", "b"], "day": [1, 2, 1, 2], "cif": [0.1, 0.2, 0.0, 0.1]}
    )
    fig2, ax2 = plt.subplots()
    assert plot_cumulative_incidence(curves, ax=ax2, lower=None, upper=None) is ax2
    assert [line.get_label() for line in ax2.lines] == ["a", "b"]
    plt.close(fig)
    plt.close(fig2)


def test_python_api_matches_the_command(flatiron, tmp_path):
    from reawaken.epi.estimate import run_design
    from reawaken.errors import InputError

    db, _ = flatiron
    store = CohortStore(db)
    result = run_design(store, design="sccs", outcome="distant_metastasis", exposure="any",
                        event_dependent=True)  # fmt: skip
    out = tmp_path / "sccs"
    assert _run(db, out, "--design", "sccs", "--outcome", "distant_metastasis",
                "--exposure", "any", "--event-dependent", "--min-cell", "0") == 0  # fmt: skip
    written = pd.read_csv(out / "estimates.csv")
    np.testing.assert_allclose(written["coef"], result.estimates["coef"], rtol=1e-12)
    assert result.summary["design"] == "sccs" and result.summary["persons"] > 0
    with pytest.raises(InputError, match="unknown design 'cohort'"):
        run_design(CohortStore(db), design="cohort", outcome="lung_metastasis", exposure="any")


DESIGN_RUNS = {
    "cox": {"outcome": "distant_metastasis", "exposure": "any"},
    "sccs": {
        "outcome": "distant_metastasis",
        "exposure": "any",
        "windows": "0-30,31-90,91-180",
        "event_dependent": True,
    },
    "emulation": {"outcome": "distant_metastasis", "exposure": "any", "bootstrap": 5, "seed": 3},
    "competing": {"outcome": "lung_metastasis", "exposure": "sars-cov-2", "windows": "0-90,>90"},
}


def _args(options: dict) -> list[str]:
    """Command-line options of settings given as keywords (a True flag as the bare flag)."""
    flag = {k: "--" + k.replace("_", "-") for k in options}
    return [flag[k] if v is True else f"{flag[k]}={v}" for k, v in options.items()]


@pytest.mark.parametrize("design", list(DESIGN_RUNS))
def test_python_api_writes_the_files_of_the_command(flatiron, tmp_path, design):
    from reawaken.epi.estimate import run_design

    db, _ = flatiron
    options = DESIGN_RUNS[design]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = run_design(CohortStore(db), design, **options)
    api = result.write(tmp_path / "api", min_cell=10)
    args = _args(options)
    assert _run(db, tmp_path / "cli", "--design", design, *args) == 0
    assert sorted(p.name for p in api) == sorted(p.name for p in (tmp_path / "cli").iterdir())
    for path in api:
        assert path.read_bytes() == (tmp_path / "cli" / path.name).read_bytes(), path.name
    assert {"estimates.csv", "counts.csv", "fit.json", "forest.png"} <= {p.name for p in api}


def test_settings_objects_and_keyword_options_give_the_same_result(flatiron):
    from reawaken.epi.designs.sccs import SCCSSettings
    from reawaken.epi.estimate import run_design

    db, _ = flatiron
    store = CohortStore(db)
    settings = SCCSSettings(outcome="distant_metastasis", exposure="any", windows=((0, 90),),
                            event_dependent=True)  # fmt: skip
    by_object = run_design(store, "sccs", settings)
    by_keywords = run_design(store, design="sccs", outcome="distant_metastasis", exposure="any",
                             windows="0-90", event_dependent=True)  # fmt: skip
    pd.testing.assert_frame_equal(by_object.estimates, by_keywords.estimates)
    assert by_object.summary["warnings"] == [] and by_object.fits["outcome"].converged
    ratio = by_object.fits["outcome"].estimates().loc[0, "ratio"]
    assert ratio == by_object.estimates.loc[0, "ratio"]


def test_options_of_other_designs_are_refused(flatiron, tmp_path, capsys):
    db, _ = flatiron
    out = tmp_path / "out"
    assert _run(db, out, "--design", "cox", "--outcome", "distant_metastasis",
                "--exposure", "any", "--controls", "3") == 2  # fmt: skip
    assert capsys.readouterr().err.strip() == (
        "error: --controls does not apply to --design cox (it applies to emulation)"
    )
    assert _run(db, out, "--design", "emulation", "--outcome", "distant_metastasis",
                "--exposure", "any", "--windows", "0-30") == 2  # fmt: skip
    assert "--windows does not apply to --design emulation" in capsys.readouterr().err
    assert not out.exists()


def test_rules_between_settings_name_the_options(flatiron, tmp_path, capsys):
    db, _ = flatiron
    out = tmp_path / "out"
    assert _run(db, out, "--design", "competing", "--outcome", "distant_metastasis", "--exposure",
                "any", "--time-scale", "calendar", "--calendar-years") == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith(
        "error: --time-scale calendar with --calendar-years: calendar-year adjustment cannot "
        "be combined with the calendar time scale"
    )
    assert _run(db, out, "--design", "sccs", "--outcome", "distant_metastasis",
                "--exposure", "any", "--windows", ">30") == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("error: --windows >30: the self-controlled case series needs risk ")
    assert not out.exists()


@dataclass(frozen=True)
class RateSettings(StudySettings):
    """Settings of the rate design: the windows and the fewest events a window needs."""

    windows: tuple = windows_setting()
    min_events: int = setting(0, "Fewest events a window needs.", whole(0, 1_000_000))


class RateDesign:
    """A crude design in a few lines: incidence rate ratios by window against time without a
    recent infection, from the Cox design's intervals (the recipe of docs/estimate.md); windows
    with fewer than ``min_events`` events are left out."""

    name = "rate"
    settings = RateSettings

    def prepare(self, store, settings):
        cohort = read_cohort(store, settings)
        data = designs.cox_intervals(
            cohort.persons, cohort.infections, exposure=settings.exposure,
            windows=settings.windows,
        )  # fmt: skip
        return cohort, designs.window_counts(data)

    def fit(self, prepared, settings):
        cohort, counts = prepared
        base = counts.iloc[0]
        rows = counts.iloc[1:]
        kept = rows[rows["events"] >= settings.min_events]
        notes = [f"window {w}: fewer than {settings.min_events} events, left out"
                 for w in rows.loc[rows["events"] < settings.min_events, "window"]]  # fmt: skip
        coef = np.log(kept["events"] / kept["person_years"]) - np.log(
            base["events"] / base["person_years"]
        )
        se = np.sqrt(1 / kept["events"] + 1 / base["events"])
        est = estimates_table(list(kept["window"]), coef, se)
        est = est.assign(kind="exposure", window=list(kept["window"]), event="outcome")
        label_estimates(est, self.name, settings)
        summary = base_summary(self.name, settings, cohort)
        return DesignResult(self, est, counts, None, summary, cohort.notes + notes)

    def figures(self, result):
        return [forest_figure(result, xlabel="Rate ratio (95% CI)")]


@pytest.fixture
def rate_design():
    """The rate design, registered through the public registry for one test."""
    register_design(RateDesign())
    yield
    del DESIGNS["rate"]


def test_a_design_registered_at_run_time_runs_and_writes(flatiron, tmp_path, rate_design):
    db, _ = flatiron
    result = run_design(CohortStore(db), "rate", outcome="distant_metastasis",
                        exposure="any", windows="0-180,>180")  # fmt: skip
    written = result.write(tmp_path / "rate", min_cell=0)
    counts = pd.read_csv(tmp_path / "rate" / "counts.csv").set_index("window")
    rates = counts["events"] / counts["person_years"]
    est = pd.read_csv(tmp_path / "rate" / "estimates.csv").set_index("term")
    assert est.loc["0-180", "ratio"] == pytest.approx(rates["0-180"] / rates["none"], rel=1e-12)
    assert [p.name for p in written] == ["estimates.csv", "counts.csv", "forest.png", "fit.json"]


def test_a_design_registered_at_run_time_gets_its_options_on_the_command_line(
    flatiron, tmp_path, capsys
):
    """The command line reads its options from the designs registered when it is built: the
    rate design's own --min-events is there, checked by what the setting accepts, refused for
    the other designs, and gone again when the design is."""
    db, _ = flatiron
    register_design(RateDesign())
    try:
        assert main(["estimate", "--help"]) == 0
        assert "--min-events INT" in capsys.readouterr().out
        args = ["--design", "rate", "--outcome", "distant_metastasis", "--exposure", "any",
                "--windows", "0-90,91-365,>365", "--min-cell", "0"]  # fmt: skip
        assert _run(db, tmp_path / "all", *args) == 0
        every = pd.read_csv(tmp_path / "all" / "estimates.csv").set_index("window")
        counts = pd.read_csv(tmp_path / "all" / "counts.csv").set_index("window")
        events = counts["events"].drop("none")
        least = int(events.min()) + 1  # leaves out the windows with the fewest events
        assert 0 < (events < least).sum() < len(events)
        capsys.readouterr()
        assert _run(db, tmp_path / "some", *args, "--min-events", str(least)) == 0
        assert "fewer than" in capsys.readouterr().out
        some = pd.read_csv(tmp_path / "some" / "estimates.csv").set_index("window")
        assert list(some.index) == list(events.index[events >= least])
        np.testing.assert_allclose(some["ratio"], every.loc[some.index, "ratio"], rtol=1e-12)
        fit = json.loads((tmp_path / "some" / "fit.json").read_text())
        assert fit["design"] == "rate" and fit["settings"]["min_events"] == least

        assert _run(db, tmp_path / "bad", *args, "--min-events", "-1") == 2
        assert capsys.readouterr().err.strip() == (
            "error: --min-events -1: out of range (accepted: a whole number from 0 to 1000000)"
        )
        assert _run(db, tmp_path / "bad", "--design", "cox", "--outcome", "distant_metastasis",
                    "--exposure", "any", "--min-events", "3") == 2  # fmt: skip
        assert capsys.readouterr().err.strip() == (
            "error: --min-events does not apply to --design cox (it applies to rate)"
        )
    finally:
        del DESIGNS["rate"]
    assert main(["estimate", "--help"]) == 0
    assert "--min-events" not in capsys.readouterr().out


SETTINGS_RECORDED = {
    "cox": {"outcome": "distant_metastasis", "exposure": "any", "source": None,
            "windows": "0-30,31-90,91-180,181-365,>365", "time_scale": "diagnosis",
            "calendar_years": False},
    "sccs": {"outcome": "distant_metastasis", "exposure": "any", "source": None,
             "windows": "0-30,31-90,91-180", "event_dependent": True},
    "emulation": {"outcome": "distant_metastasis", "exposure": "any", "source": None,
                  "controls": 5, "horizon": 365, "bootstrap": 5, "seed": 3},
    "competing": {"outcome": "lung_metastasis", "exposure": "sars-cov-2", "source": None,
                  "windows": "0-90,>90", "time_scale": "diagnosis", "calendar_years": False},
}  # fmt: skip


@pytest.mark.parametrize("design", list(DESIGN_RUNS))
def test_fit_json_records_the_design_and_every_setting(flatiron, tmp_path, design):
    db, _ = flatiron
    args = _args(DESIGN_RUNS[design])
    assert _run(db, tmp_path, "--design", design, *args) == 0
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert fit["design"] == design
    assert fit["settings"] == SETTINGS_RECORDED[design]
    assert list(fit["settings"]) == [f.name for f in fields(DESIGNS[design].settings)]
    # traceable: the version and what the store held (same files, same checksum)
    assert fit["reawaken_version"] == reawaken.__version__
    (stored,) = fit["store"]["imports"]
    assert fit["store"]["path"] == str(db.resolve())
    assert stored["source"] == "flatiron" and stored["files"] == 6
    files = CohortStore(db).query("SELECT file FROM import_files")["file"]
    folder = db.parent / "flatiron_files"
    digests = sorted(hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in files)
    assert stored["files_sha256"] == hashlib.sha256("".join(digests).encode()).hexdigest()


def test_two_analyses_differ_in_their_records(flatiron, tmp_path):
    """Different windows or time scales must not leave identical metadata."""
    db, _ = flatiron
    base = ["--design", "cox", "--outcome", "lung_metastasis", "--exposure", "any"]
    assert _run(db, tmp_path / "a", *base, "--windows", "0-90,>90") == 0
    assert _run(db, tmp_path / "b", *base, "--windows", "0-180,>180") == 0
    a, b = (json.loads((tmp_path / x / "fit.json").read_text()) for x in "ab")
    assert a["settings"]["windows"] == "0-90,>90" and b["settings"]["windows"] == "0-180,>180"
    assert a["store"] == b["store"]


@pytest.mark.parametrize("design", ["cox", "sccs", "competing"])
def test_fit_json_hides_small_counts_of_the_fits_too(flatiron, tmp_path, design):
    """A count blanked at the top of fit.json must not be readable in a fit's own summary."""
    db, _ = flatiron
    windows = ["--windows", "0-90,91-365", "--event-dependent"] if design == "sccs" else []
    args = ["--design", design, "--outcome", "lung_metastasis", "--exposure", "any"]
    assert _run(db, tmp_path / "shown", *args, *windows, "--min-cell", "0") == 0
    assert _run(db, tmp_path / "hidden", *args, *windows, "--min-cell", "100000") == 0
    shown = json.loads((tmp_path / "shown" / "fit.json").read_text())
    hidden = json.loads((tmp_path / "hidden" / "fit.json").read_text())
    fits = [k for k, v in shown.items() if isinstance(v, dict) and "events" in v]
    assert fits and shown["outcome_events"] > 0 and hidden["outcome_events"] is None
    for key in fits:
        for count in ("events", "cases", "competing"):
            if isinstance(shown[key].get(count), int) and shown[key][count] > 0:
                assert hidden[key][count] is None, (key, count)
        assert hidden[key]["iterations"] == shown[key]["iterations"]  # not a count of persons


def test_an_earlier_run_is_refused_or_replaced_as_a_whole(flatiron, tmp_path, capsys):
    """A cox run into the folder of an emulation run must not leave the emulation's curves
    beside its own files."""
    db, _ = flatiron
    out = tmp_path / "out"
    assert _run(db, out, "--design", "emulation", "--outcome", "distant_metastasis",
                "--exposure", "any", "--bootstrap", "2", "--seed", "1") == 0  # fmt: skip
    assert (out / "cif.csv").exists()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    cox = ["--design", "cox", "--outcome", "distant_metastasis", "--exposure", "any"]
    capsys.readouterr()
    assert _run(db, out, *cox) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "--out" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _run(db, out, *cox, "--overwrite") == 0
    assert not (out / "cif.csv").exists() and not (out / "cif.png").exists()
    assert json.loads((out / "fit.json").read_text())["design"] == "cox"


def test_cox_design_says_what_it_could_not_adjust_for_and_tests_proportional_hazards(
    flatiron, ukb, tmp_path
):
    """UK Biobank stores hold no stage: the adjustment is dropped and the notes say so; each
    window term whose proportional-hazards test (cox.zph) has p < 0.05 gets a note."""
    from reawaken.epi.designs.cox import PH_LEVEL
    from reawaken.epi.estimate import run_design

    stage_note = "not adjusted for stage: the store records no stage"
    for (db, _), has_stage in ((flatiron, True), (ukb, False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = run_design(CohortStore(db), "cox", outcome="distant_metastasis",
                                exposure="any", windows="0-180,>180")  # fmt: skip
        assert any(n.startswith(stage_note) for n in result.notes) is not has_stage
        terms = set(result.estimates["term"])
        assert any(t.startswith("stage_") for t in terms) is has_stage
        test = result.summary["outcome_fit"]["proportional_hazards"]
        table = pd.DataFrame(test["table"])
        assert test["transform"] == "km" and "GLOBAL" in set(table["term"])
        windows = {"any_0_180", "any_gt180", "GLOBAL"}
        flagged = set(table.loc[table["term"].isin(windows) & (table["p"] < PH_LEVEL), "term"])
        noted = {t for t in windows if any(f"doubtful for {t} " in n for n in result.notes)}
        assert noted == flagged


def test_proportional_hazards_notes_name_the_window_terms_below_the_level():
    from reawaken.epi.designs.cox import _proportional_hazards_notes

    data = designs.CoxData.__new__(designs.CoxData)
    object.__setattr__(data, "window_terms", ["any_0_90", "any_gt90"])
    table = [
        {"term": "any_0_90", "chisq": 7.1, "df": 1, "p": 0.0077},
        {"term": "any_gt90", "chisq": 0.2, "df": 1, "p": 0.65},
        {"term": "age10", "chisq": 9.0, "df": 1, "p": 0.003},  # an adjustment: not a window
        {"term": "GLOBAL", "chisq": 16.3, "df": 3, "p": 0.001},
    ]
    notes = _proportional_hazards_notes({"proportional_hazards": {"table": table}}, data, "outcome")
    assert notes == [
        "outcome model: proportional hazards doubtful for any_0_90 (cox.zph chisq 7.10, "
        "p = 0.0077): its hazard ratio may change over follow-up",
        "outcome model: proportional hazards doubtful for GLOBAL (cox.zph chisq 16.30, "
        "p = 0.001): its hazard ratio may change over follow-up",
    ]
    assert _proportional_hazards_notes({"proportional_hazards": None}, data, "outcome") == []


def test_sccs_design_says_when_a_first_event_is_not_rare(flatiron):
    """The case series counts time after a first event as at risk: right only for rare
    outcomes, so a common one (distant metastasis here) gets a note; a rare one none."""
    from reawaken.epi.estimate import run_design

    db, _ = flatiron
    store = CohortStore(db)
    share = {}
    for outcome in ("distant_metastasis", "lung_metastasis"):
        persons = designs.person_table(store, outcome).frame
        share[outcome] = (persons["status"] == 1).mean()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = run_design(store, "sccs", outcome=outcome, exposure="any",
                                windows="0-90,91-364", event_dependent=True)  # fmt: skip
        rare = share[outcome] <= 0.10
        assert result.summary["rare_outcome"] == {"limit": 0.10, "rare": rare}
        assert any("not rare" in n for n in result.notes) is not rare
    assert share["distant_metastasis"] > 0.10 >= share["lung_metastasis"]
