"""``reawaken study``: configuration checks, the step cache, small-cell suppression in every file,
results.json against the files, and a study on the Synthea OMOP reference store."""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.study.config import DEFAULT_CONFIG, check_config, default_config, load_config
from reawaken.study.run import run_study
from reference_data import missing_reason, shared_reference

SMALL = {
    "study": {"seed": 3},
    "mouse": {"ensemble": 10, "lesion_replicates": 20, "lesion_days": [3, 15]},
    "cohorts": {"flatiron": 4000, "ukb": 0},
    "estimate": {
        "designs": ["cox", "competing", "emulation"],
        "bootstrap": 10,
        "outcomes": ["lung_metastasis"],
        "negative_control": "",
    },
    "bridge": {"draws": 20, "cohort_size": 5000},
    "population": {
        "survivors": 2000,
        "years": 2,
        "draws": 4,
        "scenarios": ["vaccine:coverage=0.7,efficacy=0.5"],
    },
}
COUNT_NAMES = {
    "events",
    "events_unexposed",
    "n",
    "count",
    "persons",
    "cases",
    "controls",
    "matched_cases",
    "matched_controls",
    "deaths",
    "lung_metastases",
    "cancer_deaths",
    "excluded",
    "remaining",
    "infections",
    "excess_lung_metastases",
    "prevented_lung_metastases",
    "excess_cancer_deaths",
    "prevented_cancer_deaths",
}


SETTING_NAMES = {"n", "controls"}
"""Keys that are settings in the JSON records (run.json's ensemble size, the emulation's
controls per case), not counts."""


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "out"
    config = check_config(copy.deepcopy(SMALL))
    outputs, _ = run_study(config, out, quiet=True)
    return out, config, outputs


def test_print_config_is_the_default_and_accepted(capsys):
    assert main(["study", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert text == DEFAULT_CONFIG
    import tomllib

    assert check_config(tomllib.loads(text)) == check_config({}) == load_config(None)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[estimate]\ndesing = ['cox']\n", "estimate.desing"),
        ("[estimate]\ndesigns = 'cox'\n", "estimate.designs"),
        ("[estimate]\ndesigns = ['coxx']\n", "estimate.designs"),
        ("[study]\nseed = -1\n", "study.seed"),
        ("[population]\nscenarios = ['vaccine:dose=2']\n", "population.scenarios"),
        ("[data]\ndb = 'nowhere.duckdb'\n", "data.db"),
        ("[cohort]\nukb = 1\n", "[cohort]"),
        ("[study\n", "not a TOML file"),
    ],
)
def test_config_errors_name_the_key_and_write_nothing(tmp_path, capsys, text, named):
    config = tmp_path / "study.toml"
    config.write_text(text)
    out = tmp_path / "out"
    assert main(["study", "--config", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0] and "study.toml" in err[0], err
    assert not out.exists()


def test_a_config_file_changes_only_what_it_names(tmp_path):
    config = tmp_path / "study.toml"
    config.write_text("[cohorts]\nukb = 0\n")
    loaded = load_config(config)
    expected = default_config()
    expected["cohorts"]["ukb"] = 0
    assert loaded == expected


def test_the_report_and_results_are_written(small_study):
    out, _, outputs = small_study
    page = (out / "index.html").read_text()
    for section in (
        "summary",
        "mouse",
        "estimates_flatiron",
        "bridge",
        "population",
        "methods",
        "provenance",
    ):
        assert f'id="{section}"' in page
    assert "<th>planted</th>" in page and "<th>mechanism</th>" in page
    assert "<th>smd before</th>" in page and "balance.png" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    images = re.findall(r'<img src="([^"]+)"', page)
    assert images and all((out / src).is_file() for src in images)
    results = json.loads((out / "results.json").read_text())
    assert set(results["steps"]) == set(outputs)
    assert results["provenance"]["seed"] == 3
    # the study uses the calibration in use; it does not calibrate again by default
    from reawaken.bridge.assumptions import value

    calibration = results["steps"]["bridge"]["calibration"]
    assert not calibration["calibrated_by_this_run"]
    assert calibration["lesion_response"] == value("lesion_response")
    assert all(s["seconds"] >= 0 for s in results["provenance"]["steps"].values())


def test_results_json_agrees_with_the_files(small_study):
    out, _, _ = small_study
    results = json.loads((out / "results.json").read_text())
    for run in results["steps"]["estimates_flatiron"]["runs"]:
        if run.get("refused"):
            continue
        table = pd.read_csv(out / "steps" / "estimates_flatiron" / run["name"] / "estimates.csv")
        assert len(table) == len(run["estimates"])
        for row, got in zip(table.to_dict(orient="records"), run["estimates"], strict=True):
            for key in ("ratio", "ci_lower", "ci_upper", "events"):
                if key in row and pd.notna(row[key]):
                    assert got[key] == pytest.approx(row[key], rel=1e-12)
    scenarios = pd.read_csv(out / "steps" / "population" / "scenarios.csv")
    got = pd.DataFrame(results["steps"]["population"]["scenarios"])
    # JSON has no infinity: a non-finite number is null there
    finite = scenarios.replace([np.inf, -np.inf], np.nan)
    pd.testing.assert_frame_equal(finite, got, check_dtype=False)


def _counts_in(path: Path) -> list[tuple[str, float]]:
    found = []
    if path.suffix == ".csv":
        table = pd.read_csv(path)
        for column in table.columns:
            if column in COUNT_NAMES:
                found += [(column, v) for v in table[column].dropna()]
        if {"measure", "value"} <= set(table.columns):
            rows = table[table["measure"].isin(COUNT_NAMES)]
            found += [
                (m, v) for m, v in zip(rows["measure"], rows["value"], strict=True) if pd.notna(v)
            ]
    elif path.suffix == ".json":

        def walk(x, key=""):
            if isinstance(x, dict):
                for k, v in x.items():
                    walk(v, k)
            elif isinstance(x, list):
                for v in x:
                    walk(v, key)
            elif (
                key in COUNT_NAMES - SETTING_NAMES
                and isinstance(x, (int, float))
                and not isinstance(x, bool)
            ):
                found.append((key, x))

        walk(json.loads(path.read_text()))
    return found


def test_no_count_below_the_threshold_in_any_file(small_study):
    out, config, _ = small_study
    min_cell = config["study"]["min_cell"]
    scanned = 0
    for path in out.rglob("*"):
        if path.suffix in (".csv", ".json"):
            scanned += 1
            for name, value in _counts_in(path):
                assert not (0 < value < min_cell), f"{path.relative_to(out)}: {name} = {value}"
    assert scanned > 10


def test_unchanged_rerun_does_no_work_and_a_changed_setting_reruns_its_dependents(small_study):
    out, config, first = small_study
    started = time.perf_counter()
    again, _ = run_study(config, out, quiet=True)
    assert all(o.cached for o in again.values())
    assert time.perf_counter() - started < 30
    changed = copy.deepcopy(config)
    changed["estimate"]["windows"] = "0-90,>90"
    third, _ = run_study(changed, out, quiet=True)
    rerun = {name for name, o in third.items() if not o.cached}
    assert rerun == {"estimates_flatiron"}
    windows = {
        r["window"]
        for run in third["estimates_flatiron"].results["runs"]
        if not run.get("refused") and run["design"] in ("cox", "competing")
        for r in run["estimates"]
        if r.get("kind") == "exposure"
    }
    assert windows == {"0-90", ">90"}


def test_a_step_cached_by_other_code_runs_again(tmp_path, monkeypatch):
    """The cache key holds the code's digest: after an upgrade of reawaken nothing cached by
    the old version is read back."""
    from reawaken.study import cache

    config = check_config(
        copy.deepcopy(SMALL)
        | {
            "cohorts": {"flatiron": 0, "ukb": 0},
            "bridge": {"enabled": False},
            "population": {"enabled": False},
        }
    )
    run_study(config, tmp_path, quiet=True)
    assert all(o.cached for o in run_study(config, tmp_path, quiet=True)[0].values())
    monkeypatch.setattr(cache, "code_digest", lambda: "another version")
    again, _ = run_study(config, tmp_path, quiet=True)
    assert not any(o.cached for o in again.values())


def test_an_interrupted_step_leaves_nothing_half_written(tmp_path, monkeypatch):
    from reawaken.study import steps

    config = check_config(
        copy.deepcopy(SMALL)
        | {"cohorts": {"flatiron": 0, "ukb": 0}, "population": {"enabled": False}}
    )

    def broken(ctx):
        (ctx.folder / "partial.csv").write_text("x\n1\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(steps, "lesions_step", broken)
    with pytest.raises(KeyboardInterrupt):
        run_study(config, tmp_path, quiet=True)
    assert not (tmp_path / "steps" / "lesions").exists()
    assert not list((tmp_path / "steps").glob(".lesions*"))
    assert (tmp_path / "steps" / "mouse" / "step.json").is_file()


@pytest.mark.skipif(missing_reason("Synthea27Nj_5.4") is not None, reason="no Synthea reference")
def test_a_small_study_on_the_synthea_omop_store_runs_end_to_end(tmp_path, capsys):
    synthea = shared_reference("Synthea27Nj_5.4")
    config = tmp_path / "study.toml"
    config.write_text(
        "[mouse]\nensemble = 4\nlesion_replicates = 10\nlesion_days = [3]\n"
        f'[data]\nsources = [{{kind = "omop", path = "{synthea}"}}]\n'
        "[estimate]\ndesigns = ['cox']\noutcomes = ['distant_metastasis']\n"
        "[bridge]\nenabled = false\n[population]\nenabled = false\n"
    )
    out = tmp_path / "out"
    assert main(["study", "--config", str(config), "--out", str(out), "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["steps"]["store"]["summary"]["persons"] == 28
    # no store count gives back, by subtraction of the designs' events, a count under 10
    from reawaken.cohort import CohortStore
    from reawaken.study.steps import _at_risk_events

    summary = results["steps"]["store"]["summary"]
    store = CohortStore(out / "steps" / "store" / "cohort.duckdb")
    events = _at_risk_events(store)
    for outcome, n in events.items():
        for group in ("outcomes", "events"):
            shown = summary[group].get(outcome)
            assert shown is None or not (0 < shown - n < 10), (group, outcome, shown, n)
    runs = results["steps"]["estimates_store"]["runs"]
    assert runs and all(("refused" in r) or ("estimates" in r) for r in runs)
    assert (out / "index.html").is_file()


def test_study_refuses_a_missing_out(capsys):
    assert main(["study"]) == 2
    assert "--out" in capsys.readouterr().err


def _chromium() -> str | None:
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.slow
def test_the_report_in_a_headless_browser(small_study, tmp_path):
    import os

    browser_path = _chromium()
    if browser_path is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs Debian's chromium for this test (.ci/run)")
        pytest.skip("no chromium on this machine")
    sync_api = pytest.importorskip("playwright.sync_api")
    out, _, _ = small_study
    requests, errors = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((out / "index.html").as_uri(), wait_until="load")
        images = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.getAttribute('src'), e.complete, e.naturalWidth])"
        )
        sections = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
        tables = page.eval_on_selector_all("table.data", "els => els.length")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert images and all(complete and width > 0 for _, complete, width in images), images
    assert not errors, errors
    assert {"summary", "mouse", "estimates_flatiron", "population", "methods", "provenance"} <= set(
        sections
    )
    assert tables >= 5
    assert requests and all(url.startswith("file://") for url in requests), requests
    assert shot.stat().st_size > 10_000


def test_the_planted_value_stands_beside_the_windows_it_applies_to():
    from reawaken.study.report import planted_ratio
    from reawaken.study.steps import PLANTED

    ukb, flatiron = PLANTED["ukb"], PLANTED["flatiron"]
    assert planted_ratio(ukb, "cancer_death", "cox", "181-365") == 1.85
    assert planted_ratio(ukb, "cancer_death", "cox", ">365") == 1.0
    assert planted_ratio(ukb, "cancer_death", "cox", "300-400") is None  # straddles
    assert planted_ratio(ukb, "distant_metastasis", "cox", "0-30") == 1.0  # death only
    assert planted_ratio(flatiron, "other_site_metastasis", "cox", "0-30") == 1.0  # lung only
    assert planted_ratio(flatiron, "cancer_death", "cox", "0-30") is None  # follows relapse
    assert planted_ratio(flatiron, "lung_metastasis", "sccs", ">365") == 1.44
    assert planted_ratio(flatiron, "lung_metastasis", "emulation", "0-91") is None


def test_the_uk_biobank_odds_ratio_is_reported_as_the_paper_does():
    """The one-year odds ratio from the emulation's 365-day risks (exact arithmetic), beside
    the paper's 1.85 (1.14-3.02) and the planted first-year hazard ratio."""
    from reawaken.study.report import _odds_ratio_html
    from reawaken.study.steps import PLANTED, _odds_ratio_year

    est = pd.DataFrame(
        {
            "kind": ["exposure", "exposure"],
            "term": ["risk_ratio_183d", "risk_ratio_365d"],
            "risk_exposed": [0.01, 0.03],
            "risk_unexposed": [0.01, 0.02],
            "ratio": [1.0, 1.5],
            "ci_lower": [0.8, 1.2],
            "ci_upper": [1.2, 2.0],
        }
    )
    found = _odds_ratio_year(est)
    assert found["value"] == pytest.approx((0.03 / 0.97) / (0.02 / 0.98), abs=1e-4)
    assert found["lower"] == pytest.approx((0.024 / 0.976) / (0.02 / 0.98), abs=1e-4)
    assert found["upper"] == pytest.approx((0.04 / 0.96) / (0.02 / 0.98), abs=1e-4)
    page = _odds_ratio_html(found, PLANTED["ukb"])
    assert "1.85 (1.14-3.02)" in page and "planted hazard ratio" in page
    assert "refused" in _odds_ratio_year(est.iloc[:1])


def test_store_counts_that_subtraction_would_give_back_are_hidden(tmp_path):
    """A store whose designs count 3 fewer lung metastases than its summary (3 persons left
    out with one): the summary's lung and distant metastasis counts are hidden, with a note;
    on the store as imported (nobody left out) nothing is."""
    from reawaken.cohort.store import CohortStore
    from reawaken.cohort.synth_layouts import generate
    from reawaken.study.steps import _published_summary

    truth = generate("flatiron", 3000, 1, tmp_path / "files")
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source("flatiron", tmp_path / "files", **truth["import_options"])

    class LeftOut:
        def __init__(self, store):
            self._store = store

        def __getattr__(self, name):
            return getattr(self._store, name)

        def outcome(self, source=None):
            out = self._store.outcome(source)
            met = out["outcome_type"] == "distant_metastasis"
            return out.drop(out.index[met & (out["site"] == "lung")][:3])

    plain = _published_summary(store, 10)
    assert plain["suppression_notes"] == []
    assert plain["outcomes"]["lung_metastasis"] >= 10
    edited = _published_summary(LeftOut(store), 10)
    assert edited["outcomes"]["lung_metastasis"] is None
    assert edited["outcomes"]["distant_metastasis"] is None
    assert any("lung_metastasis" in note for note in edited["suppression_notes"])
    assert edited["persons"] == plain["persons"]


def test_the_answer_quotes_the_estimates(small_study):
    """The summary's three sentences: the claims met, the cohort's first shown window with its
    interval (the numbers of results.json), the bridge."""
    from reawaken.study.report import _number, answer

    _, _, outputs = small_study
    sentences = answer(outputs)
    assert len(sentences) == 3
    mouse = outputs["mouse"].results
    assert f"{mouse['claims_met']} of {mouse['claims_total']}" in sentences[0]
    run = next(
        r
        for r in outputs["estimates_flatiron"].results["runs"]
        if r["design"] == "cox" and not r.get("refused") and not r["negative_control"]
    )
    shown = [r for r in run["estimates"] if r.get("kind") == "exposure" and r.get("ratio")]
    assert sentences[1].startswith("On the Flatiron-like cohort")
    if shown:
        first = shown[0]
        assert f"{_number(first['ratio'])} ({_number(first['ci_lower'])}-" in sentences[1]
    else:  # every window suppressed (a small cohort): said so, no number
        assert "enough lung metastasis events to be shown" in sentences[1]
    assert "published 1.85 (1.14-3.02)" in sentences[2]
