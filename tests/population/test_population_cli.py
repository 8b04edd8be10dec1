"""``reawaken population`` on the command line: its files, its refusals (exit 2, one line naming
what is wrong), and the same scenarios.csv in-process and on a Dask cluster."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from reawaken.cli import main

SMALL = ["--survivors", "20000", "--years", "2", "--draws", "4", "--seed", "5"]
SCENARIOS = [
    "--scenario",
    "vaccine:coverage=0.7,efficacy=0.5",
    "--scenario",
    "anti-il6:coverage=0.5,delay=2",
    "--scenario",
    "antiviral:coverage=0.5,delay=1",
]


def test_population_writes_its_files(tmp_path, capsys):
    out = tmp_path / "pop"
    assert main(["population", *SMALL, *SCENARIOS, "--chunk-size", "5000", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["per_year.csv", "population.json", "population.png", "scenarios.csv"]
    table = pd.read_csv(out / "scenarios.csv")
    assert list(table.columns) == ["scenario", "measure", "value", "lower", "upper"]
    assert list(table["scenario"].unique()) == [
        "baseline",
        "no-infection",
        "vaccine:coverage=0.7,efficacy=0.5",
        "anti-il6:coverage=0.5,delay=2",
        "antiviral:coverage=0.5,delay=1,efficacy=0.9",
    ]
    for measure in (
        "person_years",
        "infections",
        "lung_metastases",
        "excess_lung_metastases",
        "cancer_deaths",
        "excess_cancer_deaths",
        "prevented_lung_metastases",
        "prevented_fraction",
        "number_needed_to_treat",
    ):
        assert (table["measure"] == measure).sum() == 5, measure
    v = table.set_index(["scenario", "measure"])["value"]
    assert v[("no-infection", "excess_lung_metastases")] == 0
    # person-years: at most the survivors times the years, most of it lived
    assert 0.8 * 40_000 < v[("baseline", "person_years")] <= 40_000
    assert (table["lower"].dropna() <= table["upper"].dropna()).all()
    per_year = pd.read_csv(out / "per_year.csv")
    assert sorted(per_year["year"].unique()) == [1, 2]
    lung = per_year[(per_year["measure"] == "lung_metastases")].groupby("scenario")["value"].sum()
    assert lung["baseline"] == v[("baseline", "lung_metastases")]
    record = json.loads((out / "population.json").read_text())
    assert record["settings"]["survivors"] == 20000 and record["seeds"]["run"] == 5
    assert [s["label"] for s in record["scenarios"]][2] == "vaccine:coverage=0.7,efficacy=0.5"
    assert record["scenarios"][3]["delay"] == 2.0
    bridge = record["assumptions"]["bridge"]
    assert bridge["influenza_attack_rate_65_plus"]["basis"] == "sourced"
    assert {d["name"] for d in record["assumptions"]["survivors"]} >= {"subtype", "stage"}
    assert record["engine"]["kind"] == "in-process"
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("vacine:coverage=0.5", "vacine"),
        ("vaccine", "coverage"),
        ("vaccine:dose=2", "dose"),
        ("vaccine:coverage=1.5", "coverage"),
        ("vaccine:coverage=0.5,efficacy=2", "efficacy"),
        ("anti-il6:coverage=0.5,delay=-1", "delay"),
        ("anti-il6:coverage=0.5,delay=100", "delay"),
        ("antiviral:coverage=x", "coverage"),
        ("antiviral:coverage=0.5,coverage=0.6", "coverage"),
        ("no-infection:coverage=1", "no-infection"),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_key(spec, named, tmp_path, capsys):
    out = tmp_path / "pop"
    status = main(["population", "--survivors", "100", "--scenario", spec, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith("error: --scenario")
    assert named in err[0] and "accepted" in err[0]
    assert not out.exists()


def test_a_scenario_given_twice_is_refused(tmp_path, capsys):
    spec = "anti-il6:coverage=0.5"
    argv = ["population", "--survivors", "100", "--scenario", spec, "--scenario", spec]
    status = main([*argv, "--out", str(tmp_path / "pop")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "given twice" in err and "anti-il6:coverage=0.5,delay=0" in err


def test_workers_and_scheduler_together_are_refused(tmp_path, capsys):
    argv = ["population", "--survivors", "100", "--workers", "2"]
    argv += ["--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path / "pop")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "--workers" in err and "--scheduler" in err
    assert not (tmp_path / "pop").exists()


def test_an_earlier_run_is_kept_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "pop"
    argv = ["population", "--survivors", "500", "--years", "1", "--draws", "2", "--out", str(out)]
    assert main(argv) == 0
    before = (out / "scenarios.csv").read_bytes()
    assert main([*argv, "--seed", "3"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "scenarios.csv").read_bytes() == before
    assert main([*argv, "--seed", "3", "--overwrite"]) == 0
    assert (out / "scenarios.csv").read_bytes() != before
