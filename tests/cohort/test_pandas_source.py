"""A data source added by a user, built in pandas with ``sources/common.py`` and
``sources/canonical.py`` (docs/architecture.md, "Add a data source"): its import goes through
the same checks and the same all-or-nothing store as the built-in SQL importers."""

from __future__ import annotations

import types

import pandas as pd
import pytest

from reawaken.cohort import sources
from reawaken.cohort.sources import canonical, common
from reawaken.cohort.store import CohortStore
from reawaken.errors import InputError

COLUMNS = ["pid", "sex", "born", "diagnosed", "entry", "exit", "died", "metastasis"]


def read(extract: common.Extract) -> common.SourceTables:
    rows = extract.table("patients", COLUMNS)
    issues = extract.issues
    rows, entry = common.parse_dates(rows, "entry", issues, table="follow_up", required=True)
    rows, diagnosed = common.parse_dates(rows, "diagnosed", issues, table="cancer_diagnosis")
    rows, exit_ = common.parse_dates(rows, "exit", issues, table="follow_up", required=True)
    rows, died = common.parse_dates(rows, "died", issues, table="outcome")
    rows, metastasis = common.parse_dates(rows, "metastasis", issues, table="outcome")
    entry, diagnosed, exit_, died = (s.loc[rows.index] for s in (entry, diagnosed, exit_, died))
    ids = rows["pid"]
    sex = rows["sex"].map({"F": "female", "M": "male"}).fillna("unknown")
    dead = died.notna()
    met = metastasis.notna()
    tables = {
        "person": canonical.person(rows, id_column="pid", year_column="born", sex=sex),
        "follow_up": canonical.follow_up(
            rows,
            ids,
            entry,
            exit_,
            "end_of_data",
            died,
            cut=None,
            cut_reason="censored",
            column="exit",
        ),  # fmt: skip
        "cancer_diagnosis": canonical.diagnosis(
            rows, ids, diagnosed, "breast", "diagnosed", code="C50.9", stage="II"
        ),
        "outcome": pd.concat(
            [
                canonical.death(rows[dead], ids[dead], died[dead], "cancer", "died"),
                canonical.metastasis(rows[met], ids[met], metastasis[met], "lung", "metastasis"),
            ],
            ignore_index=True,
        ),
    }
    return common.source_tables(tables, extract.censor_date)


@pytest.fixture
def mini():
    source = types.SimpleNamespace(
        kind="mini-registry",
        id_column="pid",
        title="A small registry (pandas importer)",
        field_map=(),
        synthetic=None,
        read=read,
        write_synthetic=None,
    )
    sources.register(source)
    try:
        yield source
    finally:
        sources.unregister("mini-registry")


def _write(folder, rows):
    folder.mkdir()
    pd.DataFrame(rows, columns=COLUMNS).to_csv(folder / "patients.csv", index=False)


GOOD = [
    ["1", "F", 1960, "2015-03-01", "2015-03-01", "2022-12-31", "", "2019-05-02"],
    ["2", "F", 1955, "2016-06-10", "2016-06-10", "2022-12-31", "2021-01-20", ""],
    ["3", "M", 1970, "2017-01-05", "2017-01-05", "2020-08-31", "", ""],
]


def test_a_pandas_source_is_imported_as_its_rows_say(mini, tmp_path):
    _write(tmp_path / "x", GOOD)
    store = CohortStore(tmp_path / "c.duckdb")
    result = store.import_source("mini-registry", tmp_path / "x")
    assert result.rows["person"] == 3 and result.rows["outcome"] == 2
    fu = store.follow_up().sort_values("person_id").reset_index(drop=True)
    assert fu["end_reason"].tolist() == ["end_of_data", "death", "end_of_data"]
    assert str(fu.loc[1, "end_date"])[:10] == "2021-01-20"  # death ends follow-up
    out = store.outcome().sort_values("person_id").reset_index(drop=True)
    assert out["outcome_type"].tolist() == ["distant_metastasis", "death"]
    assert out["site"].tolist()[0] == "lung" and out["cause"].tolist()[1] == "cancer"
    summary = store.summary(min_cell=0)
    assert summary["persons"] == 3 and summary["outcomes"]["lung_metastasis"] == 1


def test_a_bad_row_of_a_pandas_source_is_named_and_nothing_is_stored(mini, tmp_path):
    store = CohortStore(tmp_path / "c.duckdb")
    _write(tmp_path / "good", GOOD)
    store.import_source("mini-registry", tmp_path / "good")
    bad = [*GOOD[:2], ["3", "M", 1970, "2017-01-05", "2017-02-30", "2020-08-31", "", ""]]
    _write(tmp_path / "bad", bad)
    with pytest.raises(InputError) as err:
        store.import_source("mini-registry", tmp_path / "bad", name="second")
    assert err.value.row == 3 and err.value.column == "entry"
    assert "2017-02-30" in str(err.value)
    assert store.sources() == ["mini-registry"]  # the failed import left the store as it was
    other = CohortStore(tmp_path / "d.duckdb")
    lenient = other.import_source("mini-registry", tmp_path / "bad", lenient=True)
    assert lenient.n_quarantined == 1 and lenient.rows["person"] == 2
    assert other.table("quarantine")["column"].tolist() == ["entry"]
