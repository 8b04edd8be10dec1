"""Round trip: synth -> import -> summary reproduces the generator's own counts exactly."""

from __future__ import annotations

import json

import pytest

from reawaken.cli import main


@pytest.mark.parametrize("like", ["ukb", "flatiron", "omop"])
def test_round_trip(tmp_path, capsys, like):
    out, db = tmp_path / like, tmp_path / "c.duckdb"
    assert (
        main(["cohort", "synth", "--like", like, "--n", "1000", "--seed", "11", "--out", str(out)])
        == 0
    )
    truth = json.loads((out / "truth.json").read_text())
    args = ["cohort", "import", "--source", like, str(out), "--db", str(db)]
    for key, value in truth["import_options"].items():
        args += [f"--{key.replace('_', '-')}", value]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["cohort", "summary", "--db", str(db), "--json", "--min-cell", "0"]) == 0
    summary = json.loads(capsys.readouterr().out)
    counts = truth["counts"]
    assert summary["persons"] == counts["persons"] == 1000
    assert summary["person_years"] == counts["person_years"]
    assert summary["tables"] == counts["tables"]
    assert summary["infections"] == counts["infections"]
    assert summary["outcomes"] == counts["outcomes"]
    # the planted structure is present at all
    assert counts["outcomes"]["distant_metastasis"] > 0
    assert counts["infections"]["sars-cov-2"] > 0
    assert sum(counts["true_infections"].values()) > sum(counts["infections"].values())
