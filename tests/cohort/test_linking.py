"""No person counted twice (issue 10, finding 6): an import sharing person ids or identical files
with a stored source is refused unless the user says how to link it; each link gives the right
person count; the summary reports the overlaps."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from reawaken.cli import main
from reawaken.cohort import CohortStore, generate
from reawaken.cohort.linking import Unlinked
from reawaken.epi import cohort_designs

N = 300


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> dict[str, Path]:
    """A Flatiron extract, a renamed copy of it, and another extract with the same id scheme."""
    base = tmp_path_factory.mktemp("extracts")
    generate("flatiron", N, 1, base / "site-a")
    shutil.copytree(base / "site-a", base / "copy")
    generate("flatiron", N, 2, base / "other")  # ids F0000000... again, other people's files
    return {"a": base / "site-a", "copy": base / "copy", "other": base / "other"}


def _store(tmp_path: Path, extracts: dict[str, Path]) -> CohortStore:
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source("flatiron", extracts["a"])
    return store


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_extract_under_another_name_is_refused(tmp_path, extracts, capsys):
    # finding 6: the same extract imported again under --name site-b doubled every person
    db = tmp_path / "c.duckdb"
    assert (
        main(["cohort", "import", "--source", "flatiron", str(extracts["a"]), "--db", str(db)]) == 0
    )
    before = _digest(db)
    capsys.readouterr()
    args = ["cohort", "import", "--source", "flatiron", str(extracts["copy"]), "--db", str(db)]
    assert main([*args, "--name", "site-b"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "import 'site-b' shares 300 person ids (F0000000, F0000001, F0000002, ...)" in err
    assert "identical files (Demographics.csv, Diagnosis.csv" in err
    assert "with source 'flatiron'" in err and "counted twice" in err
    assert "--link same-person" in err and "--link distinct" in err
    assert _digest(db) == before  # the store as it was
    assert CohortStore(db).sources() == ["flatiron"]
    assert len(CohortStore(db).person()) == N


def test_overlapping_ids_are_refused_even_from_other_files(tmp_path, extracts):
    store = _store(tmp_path, extracts)
    with pytest.raises(Unlinked) as info:
        store.import_source("flatiron", extracts["other"], name="site-b")
    message = str(info.value)
    assert "shares 300 person ids (F0000000, F0000001, F0000002, ...) with source 'flatiron'" in (
        message
    )
    assert "identical files" not in message  # the files differ: only the ids are shared
    assert 'link="same-person"' in message  # the Python API names its own argument
    assert store.sources() == ["flatiron"]


def test_replacing_a_source_is_not_an_overlap(tmp_path, extracts):
    store = _store(tmp_path, extracts)
    assert store.import_source("flatiron", extracts["copy"], replace=True).rows["person"] == N
    assert store.summary(min_cell=0)["overlaps"] == []


def test_same_person_link_merges_the_persons(tmp_path, extracts):
    store = _store(tmp_path, extracts)
    alone = store.summary(min_cell=0)
    people = cohort_designs.person_table(store, "distant_metastasis").frame
    store.import_source("flatiron", extracts["copy"], name="site-b", link="same-person")
    assert len(store.person()) == len(store.follow_up()) == N
    merged = store.summary(min_cell=0)
    for key in ("persons", "person_years", "tables", "infections", "outcomes", "events"):
        assert merged[key] == alone[key], key  # the copy adds nobody and nothing
    again = cohort_designs.person_table(store, "distant_metastasis").frame
    assert len(again) == len(people) == N
    assert (again["status"] == 1).sum() == (people["status"] == 1).sum()
    # each source alone still reads as imported
    assert len(store.person(source="site-b")) == N


def test_distinct_link_keeps_the_id_spaces_apart(tmp_path, extracts):
    store = _store(tmp_path, extracts)
    store.import_source("flatiron", extracts["other"], name="site-b", link="distinct")
    assert len(store.person()) == 2 * N
    assert store.summary(min_cell=0)["persons"] == 2 * N
    ids = store.person(source="site-b")["person_id"]
    assert ids.str.startswith("site-b:").all() and ids.iloc[0] == "site-b:F0000000"


def test_summary_reports_overlaps(tmp_path, extracts, capsys):
    store = _store(tmp_path, extracts)
    store.import_source("flatiron", extracts["copy"], name="site-b", link="same-person")
    store.import_source("flatiron", extracts["other"], name="site-c", link="distinct")
    overlaps = store.summary(min_cell=0)["overlaps"]
    assert overlaps == [
        {
            "sources": ["flatiron", "site-b"],
            "person_ids": N,
            "identical_files": 6,
            "link": "same-person",
        },
    ]
    db = str(tmp_path / "c.duckdb")
    assert main(["cohort", "summary", "--db", db]) == 0
    text = capsys.readouterr().out
    assert "flatiron & site-b: 300 person ids, 6 identical files (linked as same-person)" in text
    assert main(["cohort", "summary", "--db", db, "--json", "--source", "site-c"]) == 0
    assert json.loads(capsys.readouterr().out)["overlaps"] == []


def test_unknown_causes_of_death_are_reported_as_unknown(tmp_path, extracts, capsys):
    store = _store(tmp_path, extracts)
    outcomes = store.summary(min_cell=0)["outcomes"]
    assert outcomes["death"] > 0
    assert outcomes["unknown_cause_death"] == outcomes["death"]
    assert [outcomes[f"{c}_death"] for c in ("cancer", "covid", "other")] == ["unknown"] * 3
    assert main(["cohort", "summary", "--db", str(tmp_path / "c.duckdb")]) == 0
    text = capsys.readouterr().out
    assert "  cancer_death: unknown\n" in text and "  cancer_death: 0" not in text
