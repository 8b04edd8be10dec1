"""Validation of canonical tables in DuckDB (:func:`reawaken.cohort.sources.sql_validate.
finalize`) on hand-made tables: a clean cohort passes whole and reports nothing; each kind of
bad row the checks know is reported (so the quick screen of a clean cohort never hides one)."""

from __future__ import annotations

import datetime as dt

import pytest

from reawaken.cohort.schema import TABLES, Issues, columns
from reawaken.cohort.sources import sql_validate
from reawaken.cohort.sources.sql_import import SqlTables
from reawaken.io import duckdb_connect

D = dt.date
# A clean cohort: two persons, each with one follow-up row, a diagnosis, events within it.
CLEAN: dict[str, list[tuple]] = {
    "person": [("p1", 1950, "female"), ("p2", 1960, "male")],
    "follow_up": [
        ("p1", D(2010, 1, 1), D(2020, 1, 1), "lost"),
        ("p2", D(2011, 1, 1), D(2019, 6, 1), "death"),
    ],
    "cancer_diagnosis": [
        ("p1", D(2009, 5, 1), "breast", "C50", "II", None, None, None),  # before follow-up: fine
        ("p2", D(2012, 5, 1), "lung", "C34", None, None, None, None),
    ],
    "infection": [
        ("p1", D(2015, 3, 1), "sars-cov-2", "test", False),
        ("p1", D(2015, 4, 1), "sars-cov-2", "diagnosis", True),  # same episode (<= 90 days)
    ],
    "vaccination": [("p2", D(2013, 1, 1), "influenza")],
    "outcome": [
        ("p1", D(2016, 1, 1), "distant_metastasis", "bone", None),
        ("p2", D(2019, 6, 1), "death", None, "cancer"),
    ],
}


def _finalize(tables: dict[str, list[tuple]]) -> tuple[dict[str, list[tuple]], list[str]]:
    """The validated tables (canonical columns, in order) and the reasons reported."""
    con = duckdb_connect(":memory:")
    relations = {}
    for name, rows in tables.items():
        typed = ", ".join(f"{c} {TABLES[name].get(c, 'VARCHAR')}" for c in columns(name))
        relations[name] = f"t_{name}"
        con.execute(
            f"CREATE TABLE t_{name} ({typed}, _file VARCHAR, _row BIGINT, _column VARCHAR, "
            "_ord BIGINT)"
        )
        for k, row in enumerate(rows, start=1):
            marks = ", ".join("?" * (len(row) + 4))
            con.execute(f"INSERT INTO t_{name} VALUES ({marks})", [*row, name, k, "c", k])
    issues = Issues(lenient=True)
    valid = sql_validate.finalize(SqlTables(con, relations, issues))
    out = {name: con.sql(table.select()).fetchall() for name, table in valid.items()}
    con.close()
    return out, [r["reason"] for r in issues.rows]


def _with(table: str, *rows: tuple, drop: int | None = None) -> dict[str, list[tuple]]:
    tables = {name: list(rows_) for name, rows_ in CLEAN.items()}
    if drop is not None:
        del tables[table][drop]
    tables[table] += rows
    return tables


def test_clean_cohort_passes_whole():
    out, reasons = _finalize(CLEAN)
    assert reasons == []
    assert out["person"] == CLEAN["person"]
    assert out["follow_up"] == CLEAN["follow_up"]
    assert out["outcome"] == CLEAN["outcome"]
    assert out["infection"] == [("p1", D(2015, 3, 1), "sars-cov-2", "test", True)]


@pytest.mark.parametrize(
    ("tables", "reason"),
    [
        (_with("person", ("p1", 1950, "female")), "duplicate person id p1"),
        (_with("person", ("p3", 1970, "female")), "no follow-up for person p3"),
        (  # as many joined rows as rows in either table, none alone: p1 twice in each
            _with(
                "follow_up",
                ("p1", D(2010, 1, 1), D(2020, 1, 1), "lost"),
                ("p3", D(2010, 1, 1), D(2020, 1, 1), "lost"),
                ("p4", D(2010, 1, 1), D(2020, 1, 1), "lost"),
            )
            | {
                "person": [
                    *CLEAN["person"],
                    ("p1", 1950, "female"),
                    ("p5", 1950, "female"),
                    ("p6", 1950, "female"),
                ]
            },
            "duplicate person id p1",
        ),
        (_with("person", ("p3", None, "male")), "missing year of birth"),
        (_with("person", ("p3", 1970, "x")), "unknown sex x (expected one of"),
        (
            _with("follow_up", ("p1", D(2010, 1, 1), D(2020, 1, 1), "lost")),
            "more than one follow-up row",
        ),
        (
            _with("follow_up", ("p2", D(2011, 1, 1), D(2010, 1, 1), "lost"), drop=1),
            "end of follow-up 2010-01-01 before its start 2011-01-01",
        ),
        (
            _with("follow_up", ("p2", D(1940, 1, 1), D(1955, 1, 1), "lost"), drop=1),
            "end of follow-up 1955-01-01 before birth (year 1960)",
        ),
        (
            _with("follow_up", ("p2", None, D(2019, 6, 1), "death"), drop=1),
            "missing start or end of follow-up",
        ),
        (
            _with("infection", ("p9", D(2015, 3, 1), "sars-cov-2", "test", False)),
            "person p9 not in the person table (or left out)",
        ),
        (_with("infection", ("p1", None, "sars-cov-2", "test", False)), "missing date"),
        (
            _with("infection", ("p1", D(2009, 3, 1), "rsv", "test", False)),
            "event 2009-03-01 before start of follow-up 2010-01-01",
        ),
        (
            _with("vaccination", ("p2", D(2020, 3, 1), "influenza")),
            "event 2020-03-01 after end of follow-up 2019-06-01",
        ),
        (_with("vaccination", ("p2", D(2013, 1, 1), "x")), "unknown vaccine x"),
        (
            _with("cancer_diagnosis", ("p1", D(1949, 1, 1), "lung", "C34", None, None, None, None)),
            "date 1949-01-01 before birth (year 1950)",
        ),
        (
            _with("cancer_diagnosis", ("p1", D(2021, 1, 1), "lung", "C34", None, None, None, None)),
            "diagnosis 2021-01-01 after end of follow-up 2020-01-01",
        ),
        (
            _with("cancer_diagnosis", ("p1", D(2011, 1, 1), "lung", "C34", "V", None, None, None)),
            "unknown stage V",
        ),
        (_with("outcome", ("p2", D(2019, 5, 1), "death", None, "covid")), "more than one death"),
        (
            _with("outcome", ("p1", D(2016, 1, 1), "distant_metastasis", "skin", None)),
            "bad metastasis site skin",
        ),
        (
            _with("outcome", ("p1", D(2016, 1, 1), "distant_metastasis", None, "covid")),
            "bad cause of death covid",
        ),
    ],
)
def test_each_bad_row_is_reported(tables, reason):
    out, reasons = _finalize(tables)
    assert len(reasons) >= 1
    assert any(r.startswith(reason) for r in reasons), reasons
