"""The source registry: the kinds everywhere come from it, a source added at run time imports
and synthesises, the field maps are the ones the docs show, and the cohort package's layers."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from reawaken.cli import main
from reawaken.cohort import sources
from reawaken.cohort.sources import flatiron
from reawaken.cohort.store import AlreadyStored, CohortStore, read_source
from reawaken.cohort.synth_layouts import generate
from reawaken.cohort.synth_params import default_params
from reawaken.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "reawaken"


def test_built_in_sources():
    assert sources.kinds() == ("ukb", "flatiron", "omop")
    ids = {kind: sources.get(kind).id_column for kind in sources.kinds()}
    assert ids == {"ukb": "eid", "flatiron": "PatientID", "omop": "person_id"}
    for kind in sources.kinds():
        source = sources.get(kind)
        assert source.kind == kind
        assert callable(source.read) and callable(source.write_synthetic)
        assert source.synthetic.loss_per_year == default_params()["loss_to_follow_up"][kind]


def test_unknown_kind_lists_the_registry(tmp_path, capsys):
    with pytest.raises(InputError) as info:
        read_source("nosuch", tmp_path)
    assert str(info.value) == "unknown source kind 'nosuch' (expected one of ukb, flatiron, omop)"
    for args in (["import", "--source", "nosuch", str(tmp_path)], ["synth", "--like", "nosuch"]):
        assert main(["cohort", *args]) == 2
        assert "ukb, flatiron, omop" in capsys.readouterr().err


@pytest.fixture
def copy_of_flatiron():
    """Flatiron's importer and layout registered under a second kind, for one test."""
    source = types.SimpleNamespace(
        kind="flatiron-copy",
        id_column="PatientID",
        title="Flatiron Health, a second registration",
        field_map=flatiron.field_map,
        synthetic=flatiron.synthetic,
        read=flatiron.read,
        write_synthetic=flatiron.write_synthetic,
    )
    sources.register(source)
    try:
        yield source
    finally:
        sources.unregister("flatiron-copy")


def test_a_source_added_at_run_time(copy_of_flatiron, tmp_path):
    assert sources.kinds()[-1] == "flatiron-copy"
    with pytest.raises(InputError, match="source kind 'flatiron-copy' is already registered"):
        sources.register(copy_of_flatiron)
    truth = generate("flatiron-copy", 300, 2, tmp_path / "files")
    assert truth["like"] == "flatiron-copy"
    assert truth["parameters"]["loss_to_follow_up"]["flatiron-copy"] == 0.05
    store = CohortStore(tmp_path / "c.duckdb")
    result = store.import_source("flatiron-copy", tmp_path / "files")
    assert result.source == "flatiron-copy"
    summary = store.summary(min_cell=0)
    for key in ("persons", "person_years", "tables", "infections", "outcomes"):
        assert summary[key] == truth["counts"][key], key
    assert store.imports()["kind"].tolist() == ["flatiron-copy"]


def test_field_maps_are_the_tables_the_docs_show():
    docs = (ROOT / "docs" / "cohort.md").read_text()
    for kind in sources.kinds():
        table = sources.field_map_markdown(sources.get(kind))
        assert table in docs, kind


def test_second_import_names_the_option_in_each_layer(tmp_path, ukb_small, capsys):
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source("ukb", ukb_small)
    with pytest.raises(AlreadyStored) as info:
        store.import_source("ukb", ukb_small)
    assert "pass replace=True to replace it" in info.value.reason
    assert "--" not in info.value.reason
    assert main(["cohort", "import", "--source", "ukb", str(ukb_small), "--db", str(store.path)])
    err = capsys.readouterr().err
    assert "(use --replace to replace it, or --name to store it under another name)" in err


# ----- layers -----------------------------------------------------------------------------
