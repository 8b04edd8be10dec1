"""Edge cases of the UK Biobank and Flatiron importers: codes read as written, time zones,
out-of-range years, malformed files, duplicated columns, date spellings, and what a lenient
import keeps of a person whose death row is quarantined."""

from __future__ import annotations

from pathlib import Path

import pytest
from cohort_helpers import rows

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
