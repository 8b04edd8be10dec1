"""Bad input: a clear error naming file, row and column (exit 2), or quarantine with --lenient."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.cohort.store import CohortStore
from reawaken.errors import InputError


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "extract"
    shutil.copytree(src, dst)
    return dst


def _edit(path: Path, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row - 1, column] = value
    frame.to_csv(path, index=False)


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("column", "row", "value", "message"),
    [
        ("p53_i0", 2, "2007-02-30", "unparseable or impossible date 2007-02-30"),
        ("p40005_i0", 1, "yesterday", "unparseable or impossible date yesterday"),
        ("eid", 3, "1001", "duplicate person id 1001"),
        ("p31", 1, "7", "unknown sex code 7"),
        ("p40006_i0", 3, "C5$0", "unknown ICD-10 code C5$0"),
        ("p40000_i0", 2, "1930-01-01", "before birth"),
    ],
)
def test_strict_errors_name_file_row_column(tmp_path, ukb_small, column, row, value, message):
    folder = _copy(ukb_small, tmp_path)
    _edit(folder / "participant.csv", row, column, value)
    with pytest.raises(InputError) as err:
        CohortStore(tmp_path / "c.duckdb").import_source("ukb", folder)
    assert message in err.value.reason
    assert err.value.file.endswith("participant.csv")
    if column != "p40000_i0":  # death before birth is found on the canonical death row
        assert err.value.row == row
    assert err.value.column == column
    assert not (tmp_path / "c.duckdb").exists()


def test_missing_and_misspelt_columns(tmp_path, ukb_small):
    folder = _copy(ukb_small, tmp_path)
    frame = pd.read_csv(folder / "participant.csv", dtype=str)
    frame.rename(columns={"p34": "p43"}).to_csv(folder / "participant.csv", index=False)
    with pytest.raises(InputError, match=r"column 'p34': missing required column \(found 'p43'"):
        CohortStore(tmp_path / "c.duckdb").import_source("ukb", folder)
    frame.drop(columns=["p53_i0"]).to_csv(folder / "participant.csv", index=False)
    with pytest.raises(InputError, match="column 'p53_i0': missing required column"):
        CohortStore(tmp_path / "c.duckdb").import_source("ukb", folder)


def test_event_after_end_of_follow_up(tmp_path, flatiron_small):
    folder = _copy(flatiron_small, tmp_path)
    # F3 died in 2020 (imputed 2020-07-01); a diagnosis in 2021 is after the end of follow-up
    diag = pd.read_csv(folder / "Diagnosis.csv", dtype=str)
    diag.loc[len(diag)] = ["F3", "2021-05-05", "J10.1", "ICD-10-CM"]
    diag.to_csv(folder / "Diagnosis.csv", index=False)
    with pytest.raises(InputError) as err:
        CohortStore(tmp_path / "c.duckdb").import_source("flatiron", folder)
    # the death date is imputed from last activity, so the late record makes the death
    # date inconsistent: reported on the mortality row
    assert "before last activity" in err.value.reason
    assert err.value.column == "DateOfDeath" and err.value.row == 2


def test_ukb_test_after_death_is_named(tmp_path, ukb_small):
    folder = _copy(ukb_small, tmp_path)
    with (folder / "covid19_result.tsv").open("a") as handle:
        handle.write("1002\t2021-02-01\t7\t1\t0\t1\t\t\t\n")
    with pytest.raises(InputError) as err:
        CohortStore(tmp_path / "c.duckdb").import_source("ukb", folder)
    assert "event 2021-02-01 after end of follow-up 2021-01-20" in err.value.reason
    assert err.value.file.endswith("covid19_result.tsv")
    assert (err.value.row, err.value.column) == (8, "specdate")


def test_unknown_flatiron_codes(tmp_path, flatiron_small):
    folder = _copy(flatiron_small, tmp_path)
    _edit(folder / "Enhanced_MetastaticBreast.csv", 2, "GroupStage", "Stage V")
    with pytest.raises(InputError, match="row 2, column 'GroupStage': unknown GroupStage Stage V"):
        CohortStore(tmp_path / "c.duckdb").import_source("flatiron", folder)


def test_lenient_quarantines_and_summary_counts(tmp_path, ukb_small):
    folder = _copy(ukb_small, tmp_path)
    _edit(folder / "participant.csv", 4, "p53_i0", "2010-13-05")  # 1004: bad date
    with (folder / "covid19_result.tsv").open("a") as handle:
        handle.write("1002\t2021-02-01\t7\t1\t0\t1\t\t\t\n")  # after 1002's death
    store = CohortStore(tmp_path / "c.duckdb")
    result = store.import_source("ukb", folder, lenient=True)
    q = store.quarantine()
    assert result.n_quarantined == len(q) == 4
    reasons = sorted(q["reason"])
    assert reasons[0].startswith("event 2021-02-01 after end of follow-up")
    assert "unparseable or impossible date 2010-13-05" in reasons
    # 1004's two positive tests go with the person
    assert sum(r.startswith("person 1004 not in the person table") for r in reasons) == 2
    assert sorted(store.person()["person_id"]) == ["1001", "1002", "1003"]
    assert store.summary(min_cell=0)["quarantined"] == 4
    assert store.summary()["quarantined"] is None  # 4 < 10: suppressed


def test_refuses_second_import_and_replaces(tmp_path, ukb_small, capsys):
    db = tmp_path / "c.duckdb"
    args = ["cohort", "import", "--source", "ukb", str(ukb_small), "--db", str(db)]
    assert main(args) == 0
    assert main(args) == 2
    assert "already in the store" in capsys.readouterr().err
    assert main([*args, "--replace"]) == 0
    assert len(CohortStore(db).person()) == 4
    capsys.readouterr()
    # the same files under another name would count every person twice: refused
    assert main([*args, "--name", "ukb-copy"]) == 2
    assert "shares 4 person ids" in capsys.readouterr().err
    assert main([*args, "--name", "ukb-copy", "--link", "same-person"]) == 0
    assert len(CohortStore(db).person()) == 4
    assert main([*args, "--name", "ukb-apart", "--link", "distinct"]) == 0
    assert len(CohortStore(db).person()) == 8


def test_failed_import_leaves_store_and_inputs_unchanged(
    tmp_path, ukb_small, flatiron_small, capsys
):
    db = tmp_path / "c.duckdb"
    CohortStore(db).import_source("flatiron", flatiron_small)
    before = CohortStore(db).summary(min_cell=0)
    folder = _copy(ukb_small, tmp_path)
    _edit(folder / "participant.csv", 3, "p34", "nineteen sixty")
    digest = _digest(folder)
    status = main(["cohort", "import", "--source", "ukb", str(folder), "--db", str(db)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: file ") and "row 3, column 'p34': bad year of birth" in err
    assert len(err.strip().splitlines()) == 1
    assert CohortStore(db).summary(min_cell=0) == before
    assert _digest(folder) == digest


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["cohort", "summary", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "none.duckdb: no such file" in capsys.readouterr().err
    assert (
        main(["cohort", "import", "--source", "epic", str(tmp_path), "--db", str(tmp_path / "x")])
        == 2
    )
    assert (
        main(
            [
                "cohort",
                "import",
                "--source",
                "ukb",
                str(tmp_path),
                "--censor-date",
                "2020-99-01",
                "--db",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "--censor-date 2020-99-01: not a calendar date" in capsys.readouterr().err
