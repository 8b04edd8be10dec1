"""Edge cases of the UK Biobank and Flatiron importers: codes read as written, time zones,
out-of-range years, malformed files, duplicated columns, date spellings, and what a lenient
import keeps of a person whose death row is quarantined."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cohort_helpers import rows

from reawaken.cohort.sources import common
from reawaken.cohort.store import CohortStore
from reawaken.errors import InputError

FLATIRON = {
    "Demographics.csv": "PatientID,BirthYear,Gender\nF1,1950,F\nF2,1960,Female\nF3,1955,\n",
    "Enhanced_MetastaticBreast.csv": (
        "PatientID,DiagnosisDate,MetDiagnosisDate,GroupStage\n"
        "F1,2015-01-10,,Stage IIA\nF2,2016-03-03,,Stage I\nF3,2017-01-01,,Stage IV\n"
    ),
    "Visit.csv": "PatientID,VisitDate\nF1,2021-05-05\nF2,2022-01-01\nF3,2019-03-20\n",
}
UKB_HEADER = "eid,p31,p34,p53_i0"


def _write(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def _import(tmp_path: Path, kind: str, folder: Path, **options) -> CohortStore:
    store = CohortStore(tmp_path / "c.duckdb")
    store.import_source(kind, folder, **options)
    return store


def _error(tmp_path: Path, kind: str, folder: Path, **options) -> InputError:
    with pytest.raises(InputError) as err:
        _import(tmp_path, kind, folder, **options)
    assert "\n" not in str(err.value)
    return err.value


# ----- 1. codes read as written ----------------------------------------------------------------
def test_flatiron_icd9_code_ending_in_dot_zero_keeps_its_site(tmp_path):
    diagnosis = (
        "PatientID,DiagnosisDate,DiagnosisCode,DiagnosisCodeSystem\n"
        "F1,2016-02-01,197.0,ICD-9-CM\nF2,2017-05-05,198.3,ICD-9-CM\nF3,2018-01-01,197.7,ICD-9-CM\n"
    )
    folder = _write(tmp_path / "x", {**FLATIRON, "Diagnosis.csv": diagnosis})
    outcome = _import(tmp_path, "flatiron", folder).table("outcome")
    got = rows(outcome[["person_id", "outcome_date", "outcome_type", "site"]])
    assert got == [
        ("F1", "2016-02-01", "distant_metastasis", "lung"),
        ("F2", "2017-05-05", "distant_metastasis", "brain"),
        ("F3", "2018-01-01", "distant_metastasis", "liver"),
    ]


# ----- 2. time zones -----------------------------------------------------------------------------
CLI = Path(sys.executable).with_name("reawaken")
DATE_TIMES = [
    "2008-01-01T23:30:00+05:00",
    "2008-01-01T01:30:00-05:00",
    "2008-01-01T23:30:00Z",
    "2008-01-01 12:00",
    "2008-01-01T23:30:00.123456-05:00",
]


def _cli_import(folder: Path, db: Path, tz: str, *options: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TZ": tz}
    command = [str(CLI), "cohort", "import", "--source", "ukb", str(folder), "--db", str(db)]
    return subprocess.run([*command, *options], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Tokyo"])
def test_date_times_with_offsets_give_the_date_as_written_in_any_time_zone(tmp_path, tz):
    lines = [UKB_HEADER] + [f"{1001 + i},0,1950,{d}" for i, d in enumerate(DATE_TIMES)]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    done = _cli_import(folder, tmp_path / "c.duckdb", tz)
    assert done.returncode == 0, done.stderr
    follow_up = CohortStore(tmp_path / "c.duckdb").table("follow_up")
    assert rows(follow_up[["start_date", "end_date"]]) == [("2008-01-01", "2008-01-01")] * 5


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Tokyo"])
def test_parquet_timestamps_with_a_time_zone_give_their_utc_date(tmp_path, tz):
    utc = dt.UTC
    stamp = pa.timestamp("us", tz="UTC")
    table = pa.table(
        {
            "eid": pa.array([1001, 1002], pa.int64()),
            "p31": pa.array([0, 1]),
            "p34": pa.array([1950, 1945]),
            "p53_i0": pa.array([dt.datetime(2008, 1, 1, tzinfo=utc)] * 2, stamp),
            "p40000_i0": pa.array([dt.datetime(2015, 6, 1, 23, 30, tzinfo=utc), None], stamp),
            "p40001_i0": pa.array(["C509", None]),
            "p191": pa.array([None, dt.datetime(2012, 3, 4)], pa.timestamp("us")),
        }
    )
    (tmp_path / "x").mkdir()
    pq.write_table(table, tmp_path / "x" / "participant.parquet")
    done = _cli_import(tmp_path / "x", tmp_path / "c.duckdb", tz)
    assert done.returncode == 0, done.stderr
    follow_up = CohortStore(tmp_path / "c.duckdb").table("follow_up")
    assert rows(follow_up) == [
        ("1001", "2008-01-01", "2015-06-01", "death"),
        ("1002", "2008-01-01", "2012-03-04", "lost"),
    ]


def test_flatiron_visit_dates_with_and_without_offsets(tmp_path):
    visits = "PatientID,VisitDate\nF1,2021-05-05T10:00:00Z\nF2,2022-01-01 09:00\nF3,2019-03-20\n"
    folder = _write(tmp_path / "x", {**FLATIRON, "Visit.csv": visits})
    follow_up = _import(tmp_path, "flatiron", folder).table("follow_up")
    assert rows(follow_up[["person_id", "end_date"]]) == [
        ("F1", "2021-05-05"),
        ("F2", "2022-01-01"),
        ("F3", "2019-03-20"),
    ]


def test_a_text_the_date_reader_fails_on_is_a_bad_date(tmp_path, monkeypatch):
    def fails(text):
        raise ValueError("Mixed timezones detected")

    monkeypatch.setattr(common, "parse_date_text", fails)
    lines = [UKB_HEADER, "1001,0,1950,2008-01-01", "1002,0,1950,2008-01-01T10:00Z"]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.column) == ("participant.csv", 2, "p53_i0")
    assert err.reason == "unparseable or impossible date 2008-01-01T10:00Z"


# ----- 7. date spellings -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["now", "today", "2008", "2008-05", "20080101", "2008/05/01", "2008-01-01 25:00"]
)
def test_only_iso_and_day_month_year_dates_are_read(tmp_path, value):
    lines = ["eid,p31,p34,p53_i0,p191", "1001,0,1950,2008-01-01,"]
    lines.append(f"1002,0,1950,2008-01-01,{value}")
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.column) == ("participant.csv", 2, "p191")
    assert err.reason == f"unparseable or impossible date {value}"


def test_day_month_year_dates_are_read(tmp_path):
    lines = [UKB_HEADER, "1001,0,1950,31/12/2008", "1002,0,1950,1/2/2008"]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    follow_up = _import(tmp_path, "ukb", folder).table("follow_up")
    assert rows(follow_up[["person_id", "start_date"]]) == [
        ("1001", "2008-12-31"),
        ("1002", "2008-02-01"),
    ]


# ----- 3. years of birth out of range ------------------------------------------------------------
@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e30", "1e12", "99999999999"])
def test_a_year_of_birth_that_is_no_whole_number_that_fits_is_reported(tmp_path, value):
    lines = ["eid,p31,p34,p53_i0,p40000_i0", f"1001,0,{value},2008-01-01,2010-01-01"]
    lines.append("1002,0,1950,2008-01-01,")
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.column) == ("participant.csv", 1, "p34")
    assert err.reason == f"bad year of birth {value}"
    store = _import(tmp_path, "ukb", folder, lenient=True)
    assert rows(store.table("person")) == [("1002", 1950, "female")]
    quarantined = store.table("quarantine")
    assert quarantined[["row", "column", "reason"]].values.tolist() == [
        [1, "p34", f"bad year of birth {value}"]
    ]


@pytest.mark.parametrize("value", ["1e12", "inf"])
def test_flatiron_birth_year_out_of_range_is_reported(tmp_path, value):
    demographics = f"PatientID,BirthYear,Gender\nF1,1950,F\nF2,1960,Female\nF3,{value},\n"
    folder = _write(tmp_path / "x", {**FLATIRON, "Demographics.csv": demographics})
    err = _error(tmp_path, "flatiron", folder)
    assert (Path(err.file).name, err.row, err.column) == ("Demographics.csv", 3, "BirthYear")
    assert err.reason == f"bad year of birth {value}"


# ----- 4. malformed files ------------------------------------------------------------------------
def _participants(n: int) -> list[str]:
    return ["eid,p31,p34,p53_i0,p190"] + [f"{1000 + i},0,1950,2008-01-01," for i in range(1, n + 1)]


@pytest.mark.parametrize("n", [5, 30_000])  # found when sniffing the file, or when reading it
@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1003,0,1950,2008-01-01,lost, abroad", "expected 5 fields, found 6"),
        ("1003,0,1950,2008-01-01", "expected 5 fields, found 4"),
        ('1003,0,1950,"2008-01-01,', "unterminated quote"),
    ],
)
def test_a_malformed_csv_row_is_one_line_naming_its_data_row(tmp_path, n, line, reason):
    lines = _participants(n)
    lines[3] = line
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.column, err.reason) == (
        "participant.csv",
        3,
        None,
        reason,
    )


def test_text_that_is_not_utf8_is_named_with_its_row(tmp_path):
    latin = "eid,p31,p34,p53_i0,p190\n1001,0,1950,2008-01-01,\n1002,0,1950,2008-01-01,Bj\xf6rk\n"
    folder = _write(tmp_path / "x", {"participant.csv": latin.encode("latin-1")})
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.reason) == ("participant.csv", 2, "not UTF-8 text")
    utf16 = "eid,p31,p34,p53_i0\n1001,0,1950,2008-01-01\n".encode("utf-16")
    folder = _write(tmp_path / "y", {"participant.csv": utf16})
    err = _error(tmp_path, "ukb", folder)
    assert (err.row, err.reason) == (None, "not UTF-8 text in the header")


def test_a_malformed_tsv_row_of_flatiron_through_the_cli(tmp_path):
    visits = "PatientID\tVisitDate\nF1\t2021-05-05\nF2\t2022-01-01\textra\nF3\t2019-03-20\n"
    folder = _write(tmp_path / "x", {**FLATIRON, "Visit.tsv": visits})
    (folder / "Visit.csv").unlink()
    command = [str(CLI), "cohort", "import", "--source", "flatiron", str(folder)]
    done = subprocess.run(
        [*command, "--db", str(tmp_path / "c.duckdb")], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: file {folder / 'Visit.tsv'}, row 2: expected 2 fields, found 3"
    ]


# ----- 5. a column given twice -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "first", "second"),
    [
        ("eid,p31,p34,p53_i0,31-0.0", "p31", "31-0.0"),
        ("eid,31-0.0,p34,p53_i0,p31", "31-0.0", "p31"),
        ("eid,p31,p34,p53_i0,p40005_i0,p40006_i0,40005-0.0", "p40005_i0", "40005-0.0"),
        ("eid,p31,p34,p53_i0,p34", "p34", "p34"),
        ("eid,p31,p34,p53_i0, p34 ", "p34", " p34 "),
    ],
)
def test_a_column_given_twice_is_refused_naming_both(tmp_path, header, first, second):
    width = header.count(",") + 1
    values = ["1001", "0", "1950", "2008-01-01", "2005-01-01", "C509", "2006-01-01"][:width]
    lines = [header, ",".join(values)]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    err = _error(tmp_path, "ukb", folder)
    assert Path(err.file).name == "participant.csv"
    used = first.strip() if first.startswith("p") else second.strip()
    assert err.reason == f"column {used!r} given twice: {first!r} and {second!r}"


# ----- 6. a registry code column without its date column -----------------------------------------
def test_a_registry_code_column_without_its_date_column_is_refused(tmp_path):
    lines = ["eid,p31,p34,p53_i0,p40006_i0", "1001,0,1950,2008-01-01,C509"]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.column) == ("participant.csv", None, "p40005_i0")
    assert err.reason == "registry code column p40006_i0 without its date column"


# ----- 8. a quarantined death leaves a consistent person -----------------------------------------
def test_ukb_malformed_cause_keeps_the_death_without_its_cause(tmp_path):
    lines = [
        "eid,p31,p34,p53_i0,p40000_i0,p40001_i0",
        "1001,0,1950,2008-01-01,2015-01-01,C50*",
        "1002,0,1950,2008-01-01,2016-01-01,C509",
    ]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.column) == ("participant.csv", 1, "p40001_i0")
    assert err.reason == "unknown ICD-10 code C50*"
    store = _import(tmp_path, "ukb", folder, lenient=True)
    assert rows(store.table("outcome")[["person_id", "outcome_date", "outcome_type", "cause"]]) == [
        ("1001", "2015-01-01", "death", None),
        ("1002", "2016-01-01", "death", "cancer"),
    ]
    assert rows(store.table("follow_up")) == [
        ("1001", "2008-01-01", "2015-01-01", "death"),
        ("1002", "2008-01-01", "2016-01-01", "death"),
    ]
    quarantined = store.table("quarantine")[["person_id", "row", "column", "reason"]]
    assert quarantined.values.tolist() == [
        ["1001", 1, "p40001_i0", "unknown ICD-10 code C50* (the death is kept, its cause NULL)"]
    ]


@pytest.mark.parametrize(
    ("death", "reason"),
    [
        ("2019-02", "death date 2019-02 is before last activity 2019-03-20"),
        ("2019-13", "death date 2019-13 is not a date YYYY-MM (or YYYY)"),
        ("1940-05", "death date 1940-05 is before birth (BirthYear 1955"),
    ],
)
def test_flatiron_patient_with_a_quarantined_death_is_left_out(tmp_path, death, reason):
    mortality = f"PatientID,DateOfDeath\nF3,{death}\n"
    folder = _write(tmp_path / "x", {**FLATIRON, "Enhanced_Mortality_V2.csv": mortality})
    store = _import(tmp_path, "flatiron", folder, lenient=True)
    assert store.table("person")["person_id"].tolist() == ["F1", "F2"]
    assert store.table("follow_up")["person_id"].tolist() == ["F1", "F2"]
    quarantined = store.table("quarantine")
    assert quarantined["person_id"].unique().tolist() == ["F3"]
    first = quarantined.iloc[0]
    assert (Path(first["file"]).name, first["row"], first["column"]) == (
        "Enhanced_Mortality_V2.csv",
        1,
        "DateOfDeath",
    )
    assert first["reason"].startswith(reason)
    assert "person F3 not in the person table (or left out)" in quarantined["reason"].tolist()


def test_ukb_end_of_data_is_the_latest_date_of_the_rows_kept(tmp_path):
    lines = [
        "eid,p31,p34,p53_i0,p40000_i0,p40001_i0,p190,p191",
        "1001,0,1950,2008-01-01,2015-06-01,C509,,",
        "1002,0,1950,2008-01-01,,,,",
        "1004,0,1950,2008-01-01,2016-06-01,I219,5,2014-01-01",  # death after loss: not kept
        "1003,0,1950,2008-01-01,2007-06-01,I219,,",  # death before the assessment: left out
    ]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    store = _import(tmp_path, "ukb", folder, lenient=True)
    assert rows(store.table("follow_up")) == [
        ("1001", "2008-01-01", "2015-06-01", "death"),
        ("1002", "2008-01-01", "2015-06-01", "end_of_data"),
        ("1004", "2008-01-01", "2014-01-01", "lost"),
    ]
    imports = store.table("imports")
    assert imports["censor_date"].dt.strftime("%Y-%m-%d").tolist() == ["2015-06-01"]
    assert imports["n_after_censor"].tolist() == [0]
    reasons = store.table("quarantine")["reason"].tolist()
    assert "event 2016-06-01 after end of follow-up 2014-01-01" in reasons


def test_ukb_end_of_data_leaves_out_a_duplicated_id(tmp_path):
    lines = [
        "eid,p31,p34,p53_i0,p40005_i0,p40006_i0,p40000_i0,p40001_i0",
        "1001,0,1950,2008-01-01,2005-01-01,C509,,",
        "1002,0,1950,2008-01-01,,,,",
        "1001,0,1950,2009-01-01,2006-01-01,C509,2012-01-01,C509",
    ]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    store = _import(tmp_path, "ukb", folder, lenient=True)
    assert rows(store.table("follow_up")) == [("1002", "2008-01-01", "2008-01-01", "end_of_data")]


# ----- 9. UK Biobank registry entries coded in ICD-9 ---------------------------------------------
ICD9_HEADER = "eid,p31,p34,p53_i0,p40005_i0,p40006_i0,p40013_i0,p40005_i1,p40006_i1,p40013_i1"


def test_ukb_registry_entries_coded_in_icd9_are_read(tmp_path):
    lines = [
        ICD9_HEADER,
        "1001,0,1950,2008-01-01,1990-05-01,,1749,2009-01-01,C509,",
        "1002,0,1950,2008-01-01,1993-02-01,,1970,,,",  # ICD-9 197.0: lung metastasis, prevalent
        "1003,0,1950,2008-01-01,,,,,,",
    ]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    store = _import(tmp_path, "ukb", folder)
    diagnoses = store.table("cancer_diagnosis")[
        ["person_id", "diagnosis_date", "site", "code", "stage"]
    ]
    assert rows(diagnoses) == [
        ("1001", "1990-05-01", "breast", "1749", None),
        ("1001", "2009-01-01", "breast", "C509", None),
        ("1002", "1993-02-01", "other", "1970", "IV"),
    ]


@pytest.mark.parametrize(
    ("header", "reason", "column"),
    [
        (ICD9_HEADER, "missing ICD-10 code (nor ICD-9 code p40013_i0)", "p40006_i0"),
        ("eid,p31,p34,p53_i0,p40005_i0,p40006_i0", "missing ICD-10 code", "p40006_i0"),
    ],
)
def test_a_registry_entry_without_any_code_names_the_code_column(tmp_path, header, reason, column):
    width = header.count(",") + 1
    values = ["1001", "0", "1950", "2008-01-01", "1990-05-01"] + [""] * (width - 5)
    folder = _write(tmp_path / "x", {"participant.csv": f"{header}\n{','.join(values)}\n"})
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.column, err.reason) == (
        "participant.csv",
        1,
        column,
        reason,
    )


def test_an_unknown_icd9_code_names_its_column(tmp_path):
    lines = [ICD9_HEADER, "1001,0,1950,2008-01-01,1990-05-01,,17$9,,,"]
    folder = _write(tmp_path / "x", {"participant.csv": "\n".join(lines) + "\n"})
    err = _error(tmp_path, "ukb", folder)
    assert (err.row, err.column, err.reason) == (1, "p40013_i0", "unknown ICD-9 code 17$9")


# ----- 10. the COVID-19 result files under their download names ----------------------------------
COVID_PARTICIPANTS = UKB_HEADER + "\n1001,0,1950,2008-01-01\n1002,1,1945,2008-01-01\n"
COVID_HEADER = "eid\tspecdate\tspectype\tlaboratory\torigin\tresult\n"


def test_ukb_covid_results_downloaded_as_txt_are_read(tmp_path):
    tests = COVID_HEADER + "1001\t05/11/2020\t7\t1\t1\t1\n1002\t2021-01-03\t7\t1\t0\t0\n"
    folder = _write(
        tmp_path / "x", {"participant.csv": COVID_PARTICIPANTS, "covid19_result.txt": tests}
    )
    (folder / "README.txt").write_text("not a table\n")
    store = _import(tmp_path, "ukb", folder)
    assert rows(store.table("infection")) == [("1001", "2020-11-05", "sars-cov-2", "test", True)]
    # the file read is recorded (and a copy of it imported again is recognised); the note not
    recorded = store.query("SELECT file FROM import_files ORDER BY file")["file"].tolist()
    assert recorded == ["covid19_result.txt", "participant.csv"]


def test_ukb_covid_results_of_several_nations_are_read_together(tmp_path):
    england = COVID_HEADER + "1001\t2020-11-05\t7\t1\t1\t1\n1002\t2021-01-03\t7\t1\t0\tx\n"
    scotland = COVID_HEADER + "1002\t2021-02-03\t7\t1\t0\t1\n"
    files = {
        "participant.csv": COVID_PARTICIPANTS,
        "covid19_result_england.txt": england,
        "covid19_result_scotland.tsv": scotland,
    }
    folder = _write(tmp_path / "x", files)
    err = _error(tmp_path, "ukb", folder)
    assert (Path(err.file).name, err.row, err.column) == ("covid19_result_england.txt", 2, "result")
    store = _import(tmp_path, "ukb", folder, lenient=True)
    assert rows(store.table("infection")[["person_id", "infection_date", "hospitalised"]]) == [
        ("1001", "2020-11-05", True),
        ("1002", "2021-02-03", False),
    ]
    assert rows(store.table("follow_up")[["person_id", "end_date"]]) == [
        ("1001", "2021-02-03"),
        ("1002", "2021-02-03"),
    ]


def test_ukb_covid_results_in_one_file_and_nation_files_are_refused(tmp_path):
    files = {
        "participant.csv": COVID_PARTICIPANTS,
        "covid19_result.txt": COVID_HEADER,
        "covid19_result_wales.txt": COVID_HEADER,
    }
    err = _error(tmp_path, "ukb", _write(tmp_path / "x", files))
    assert err.reason == (
        "both covid19_result.txt and the nation files ['covid19_result_wales.txt']: "
        "the same tests would be read twice; keep either"
    )
