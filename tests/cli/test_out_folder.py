"""An output folder is written as a whole: an earlier run's files never sit beside a new run's.

A folder holding an earlier run's files is refused (exit 2, nothing changed) unless replacing
them is asked for; then none of the earlier files survives. A failed run leaves the folder as
it was; files that are not a run's are left alone.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_layouts import generate
from reawaken.epi import run_design
from reawaken.epi.outputs import write_design
from reawaken.errors import ConvergenceWarning, InputError
from reawaken.run_folder import earlier_run_files, write_run


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("store")
    truth = generate("flatiron", 1500, 7, tmp / "files")
    db = tmp / "flatiron.duckdb"
    CohortStore(db).import_source("flatiron", tmp / "files", **truth["import_options"])
    return db


def _design(db: Path, design: str, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return run_design(CohortStore(db), design, outcome="distant_metastasis",
                          exposure="any", **options)  # fmt: skip


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_cox_run_into_an_emulation_folder_is_refused_and_changes_nothing(store, tmp_path, capsys):
    out = tmp_path / "est"
    args = ["estimate", "--db", str(store), "--outcome", "distant_metastasis",
            "--exposure", "any", "--out", str(out)]  # fmt: skip
    assert main([*args, "--design", "emulation", "--bootstrap", "5"]) == 0
    assert (out / "cif.csv").exists() and (out / "cif.png").exists()
    before = _snapshot(out)
    capsys.readouterr()
    assert main([*args, "--design", "cox"]) == 2
    err = capsys.readouterr().err
    assert "holds the files of an earlier run" in err and "cif.csv" in err
    assert _snapshot(out) == before


def test_replacing_an_earlier_run_leaves_none_of_its_files(store, tmp_path):
    out = tmp_path / "est"
    write_design(_design(store, "emulation", bootstrap=5), out)
    (tmp_path / "notes.txt").write_text("beside the folder\n")
    cox = _design(store, "cox")
    with pytest.raises(InputError, match="earlier run"):
        write_design(cox, out)
    written = write_design(cox, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert not (out / "cif.csv").exists() and not (out / "cif.png").exists()
    assert json.loads((out / "fit.json").read_text())["design"] == "cox"
    assert (tmp_path / "notes.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_other_files_in_the_folder_are_kept(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    (out / "data.csv").write_text("x\n1\n")
    (out / "cif.csv").write_text("old\n")

    def new(folder: Path) -> list[Path]:
        (folder / "estimates.csv").write_text("new\n")
        return [folder / "estimates.csv"]

    assert earlier_run_files(out) == ["cif.csv"]
    with pytest.raises(InputError, match=r"cif\.csv"):
        write_run(out, new)
    assert write_run(out, new, overwrite=True) == [out / "estimates.csv"]
    assert sorted(p.name for p in out.iterdir()) == ["data.csv", "estimates.csv"]
    # a new or empty folder takes the files without being asked
    assert write_run(tmp_path / "a" / "b", new) == [tmp_path / "a" / "b" / "estimates.csv"]


def test_a_failed_run_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    (out / "fit.json").write_text("{}\n")

    def fails(folder: Path) -> list[Path]:
        (folder / "estimates.csv").write_text("half\n")
        raise RuntimeError("solver failed")

    with pytest.raises(RuntimeError):
        write_run(out, fails, overwrite=True)
    assert _snapshot(out) == {"fit.json": b"{}\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_an_output_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("")
    with pytest.raises(InputError, match="is a file"):
        write_run(tmp_path / "out", lambda folder: [], overwrite=True)


def test_fit_commands_refuse_an_earlier_run(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 60
    data = pd.DataFrame({"start": 0, "stop": rng.integers(5, 300, n),
                         "event": rng.integers(0, 2, n), "x": rng.normal(size=n)})  # fmt: skip
    data.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "cox"
    args = ["fit", "cox", "--data", str(tmp_path / "d.csv"), "--start", "start", "--stop",
            "stop", "--event", "event", "--covariates", "x", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    before = _snapshot(out)
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"--out {out}" in err and "--overwrite" in err
    assert _snapshot(out) == before


def test_a_synthetic_extract_replaces_an_earlier_one_whole(tmp_path, capsys):
    """An OMOP extract overwritten by a Flatiron one leaves no OMOP file behind."""
    from reawaken.cli import main

    out = tmp_path / "synth"
    base = ["cohort", "synth", "--n", "100", "--seed", "1", "--out", str(out)]
    assert main([*base, "--like", "omop"]) == 0
    omop = {p.name for p in out.iterdir()}
    assert "death.csv" in omop
    capsys.readouterr()
    assert main([*base, "--like", "flatiron"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert {p.name for p in out.iterdir()} == omop
    assert main([*base, "--like", "flatiron", "--overwrite"]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"truth.json", "Demographics.csv"} <= names
    assert not names & (omop - {"truth.json"})
