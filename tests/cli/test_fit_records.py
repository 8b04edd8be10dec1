"""fit.json of the fit commands says what ran on what: the command and its options, the data
file's checksum and the reawaken version, so that two analyses of one file differ."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

import reawaken
from reawaken.cli import main

DATA = Path(__file__).parents[1] / "data"


def _fit_json(folder: Path) -> dict:
    return json.loads((folder / "fit.json").read_text())


def test_fit_cox_records_its_options_and_data(tmp_path):
    src = DATA / "survival" / "jasa1.csv"
    base = ["fit", "cox", "--data", str(src), "--start", "start", "--stop", "stop",
            "--event", "event", "--covariates", "age,transplant"]  # fmt: skip
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--ties", "breslow", "--out", str(tmp_path / "b")]) == 0
    a, b = _fit_json(tmp_path / "a"), _fit_json(tmp_path / "b")
    assert a["command"]["name"] == "fit cox"
    assert a["command"]["options"]["covariates"] == ["age", "transplant"]
    ties = (a["command"]["options"]["ties"], b["command"]["options"]["ties"])
    assert ties == ("efron", "breslow")
    assert a["data_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest() == b["data_sha256"]
    assert a["reawaken_version"] == reawaken.__version__


def test_fit_finegray_and_sccs_record_their_command(tmp_path):
    cr = DATA / "competing" / "cr_fine.csv"
    argv = ["fit", "finegray", "--data", str(cr), "--time", "time", "--event", "event",
            "--covariates", "x1,x2", "--cause", "2"]  # fmt: skip
    assert main([*argv, "--out", str(tmp_path / "fg")]) == 0
    fg = _fit_json(tmp_path / "fg")
    assert fg["command"]["name"] == "fit finegray" and fg["command"]["options"]["cause"] == 2
    sccs = tmp_path / "itp.csv"
    pd.read_csv(DATA / "sccs" / "itpdat.txt.gz", sep=r"\s+").to_csv(sccs, index=False)
    assert main(["fit", "sccs", "--data", str(sccs), "--case", "case", "--start", "sta",
                 "--end", "end", "--event", "itp", "--exposure", "mmr", "--windows",
                 "15-28,29-42", "--out", str(tmp_path / "sccs")]) == 0  # fmt: skip
    record = _fit_json(tmp_path / "sccs")["command"]
    assert record["name"] == "fit sccs" and record["options"]["windows"] == [[15, 28], [29, 42]]


def test_fit_cif_writes_a_record_too(tmp_path):
    src = DATA / "competing" / "cr_fine.csv"
    argv = ["fit", "cif", "--data", str(src), "--time", "time", "--event", "event",
            "--at", "0.01,1,5", "--out", str(tmp_path / "cif")]  # fmt: skip
    assert main(argv) == 0
    record = _fit_json(tmp_path / "cif")
    assert record["command"]["name"] == "fit cif"
    assert record["command"]["options"]["at"] == [0.01, 1.0, 5.0]
    assert record["data_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert record["min_cell"] == 10 and record["reawaken_version"] == reawaken.__version__
    shown = pd.read_csv(tmp_path / "cif" / "cif.csv")
    hidden = 6 - len(shown)  # 3 times x 2 causes
    assert record["notes"] == ([f"{hidden} rows left out: steps of fewer than 10 events"]
                               if hidden else [])  # fmt: skip
