"""UK Biobank and Flatiron imports run in DuckDB: their canonical tables and quarantine are
row for row those of the pandas importers they replace (digests frozen from that code on the
same synthetic extracts), with bad rows of every kind planted."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from reawaken.cohort.store import read_source
from reawaken.cohort.synth_layouts import generate
from reawaken.errors import InputError

# (table, rows, sha256 of the rows as text) per extract, from the pandas importers (the code
# these importers replaced), on generate(kind, 400, 3) with the edits of _plant below.
EMPTY = hashlib.sha256(b"").hexdigest()  # no rows
FROZEN: dict[str, dict[str, tuple[int, str]]] = {
    "ukb-clean": {
        "person": (400, "4b8639ce5661143df992114266df9d8e79ceafe7579b127eae2b78094997dd78"),
        "cancer_diagnosis": (
            400,
            "0f0be5c2bd23730e2872f48ada1eb2d365a393e336c444bdb40c4a4acd942b37",
        ),
        "follow_up": (400, "49c020d7c1e44d17440becd67a82ba4603430ad8822c545dd2a41f484f44e7e1"),
        "infection": (37, "f6b5b92a2e93d3b518e5fad375abd6e0462fafc8f78ddaa3f07d1a76d6ecc82f"),
        "vaccination": (0, EMPTY),
        "outcome": (279, "a1021960b42eb52b2fda1013ac522db98b569f814b625b7022514da6085438a8"),
        "quarantine": (0, EMPTY),
    },
    "ukb-planted": {
        "person": (390, "b25005ea2ca5465f9bf97417b59d6c841be3fd1ff059df934fbd02d3f09f14c6"),
        "cancer_diagnosis": (
            387,
            "d7da0cd96bc8706b595fdcf69f382d2947efbda32be8ea330d5ab5349e7cccec",
        ),
        # the end of data is the latest date of the rows kept, 2022-12-27, not the quarantined
        # diagnosis of 2030-01-01 (row 31) as the pandas importer had it
        "follow_up": (390, "3e3561b253f87a81758022c6319dca99d667b56ddf57d60ee0de9df0096de571"),
        "infection": (36, "8e58bdf131373650ffcb71ab462ea0c971cddb999d4b221d568669983000fa1c"),
        "vaccination": (0, EMPTY),
        "outcome": (274, "af3872bb5e80cf8c47ab618a41bd21c993570b4f0e4a711a41b88bc598b44a7f"),
        "quarantine": (26, "18eaf2a89b4555234f527f258baff1604f999fc184887699c7d467cbbda637f2"),
    },
    "flatiron-clean": {
        "person": (400, "09c450d28abf006cba3ae0106a1fc7ceb5c42d118f8575a525b867bb5a2cb90d"),
        "cancer_diagnosis": (
            400,
            "9d1704c52cd63874f4f4fdb010fe8f166ed489abd41f3f7348ca0b541f002616",
        ),
        "follow_up": (400, "6095631649a4e55e261f1ca3f7bc04f048c2702c9625bede55705cf742e03033"),
        "infection": (105, "1e436d41bb83650ca548ba808e1bb602bd98bc1ce0fa79a4d52d4e36fd4f37dd"),
        "vaccination": (0, EMPTY),
        "outcome": (117, "b9c9f43c96c12147c768d9a5e4ea791de6a27acf1b2afc32e7f2cc0211997e02"),
        "quarantine": (0, EMPTY),
    },
    # flatiron-planted differs from the pandas importers in one way: a patient whose death
    # row is quarantined (F0000000 "last spring", F0000015 "2012" before last activity) is
    # left out with all their rows (3 more quarantined), not stored as alive
    "flatiron-planted": {
        "person": (394, "5c098bf00eff65dfb1dcdf5bc5c7c11a6c404ee73dfae2c4d3c003a9917e4912"),
        "cancer_diagnosis": (
            394,
            "d9bbe11a2f118ce934db249db0b863713ce3b4677669b5bfe851943a838ae756",
        ),
        "follow_up": (394, "8081c6a61baba9ff437a29e6ef84119de4ff6be788a7116572bea934e252ab20"),
        "infection": (102, "cb6aae905852e1a260b3c7ea4ace94ca405e3a8e6d5a03ac1361a22e214e8a60"),
        "vaccination": (0, EMPTY),
        "outcome": (113, "efb1f6e545ecedf1cd7ee82b32aec14aee33193a489331226da6c5071c99c36a"),
        "quarantine": (19, "7a6a6f078b4d101b2b2b2f1408586df95af4ec12d3ec85f2b4cdd2d80752cf75"),
    },
}


def _edit(path: Path, sep: str, edits: list[tuple[int, str, str]]) -> None:
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    for row, column, value in edits:
        frame.loc[row - 1, column] = value
    frame.to_csv(path, sep=sep, index=False)


def _plant(kind: str, folder: Path) -> None:
    """Bad rows of each kind the importer checks (rows numbered from 1)."""
    if kind == "ukb":
        part, tests = folder / "participant.tsv", folder / "covid19_result.tsv"
        _edit(
            part,
            "\t",
            [
                (3, "p53_i0", "2007-02-30"),
                (5, "p53_i0", ""),
                (7, "p40005_i0", "yesterday"),
                (9, "p40006_i0", "C5$0"),
                (11, "p31", "7"),
                (13, "p34", "nineteen"),
                (15, "eid", ""),
                (17, "eid", "1000020"),
                (19, "p40000_i0", "1930-01-01"),
                (21, "p40001_i0", "X$"),
                (23, "p191", "abc"),
                (25, "p53_i0", "15/03/2008"),
                (27, "p53_i0", "2008-03-15T10:00:00"),
                (29, "p191", "2000-01-01"),
                (31, "p40005_i0", "2030-01-01"),
            ],
        )
        _edit(
            tests,
            "\t",
            [
                (2, "result", "2"),
                (4, "specdate", "notadate"),
                (6, "eid", ""),
                (8, "eid", "99999999"),
                (10, "specdate", "1990-01-01"),
                (12, "specdate", "05/11/2020"),
            ],
        )
        return
    _edit(folder / "Demographics.csv", ",", [(2, "BirthYear", "x"), (4, "Gender", "Other")])
    _edit(
        folder / "Enhanced_MetastaticBreast.csv",
        ",",
        [(3, "GroupStage", "Stage V"), (5, "DiagnosisDate", "2015-02-31"), (7, "GroupStage", "")],
    )
    _edit(
        folder / "Enhanced_MetBreastBiomarkers.csv",
        ",",
        [
            (2, "BiomarkerStatus", "weird"),
            (5, "BiomarkerStatus", "Equivocal"),
            (8, "ResultDate", "x"),
        ],
    )
    _edit(
        folder / "Diagnosis.csv",
        ",",
        [
            (1, "DiagnosisCodeSystem", "SNOMED"),
            (2, "DiagnosisCode", "%%"),
            (3, "DiagnosisDate", ""),
        ],
    )
    _edit(
        folder / "Enhanced_Mortality_V2.csv",
        ",",
        [
            (1, "DateOfDeath", "last spring"),
            (2, "DateOfDeath", "1900-02"),
            (3, "DateOfDeath", "2012"),
        ],
    )
    _edit(folder / "Visit.csv", ",", [(2, "VisitDate", "zz"), (5, "VisitDate", "2035-01-01")])


def _digests(tables: dict[str, pd.DataFrame], quarantine: pd.DataFrame) -> dict[str, tuple]:
    out = {}
    quarantine = quarantine.assign(file=[Path(f).name for f in quarantine["file"]])
    for name, frame in [*tables.items(), ("quarantine", quarantine)]:
        frame = frame.copy()
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].dt.strftime("%Y-%m-%d")
        frame = frame.astype(object).where(frame.notna(), None)
        text = "\n".join("|".join(map(str, r)) for r in frame.itertuples(index=False))
        out[name] = (len(frame), hashlib.sha256(text.encode()).hexdigest())
    return out


def digests(kind: str, folder: Path, *, lenient: bool, planted: bool) -> dict[str, tuple]:
    """The digests of one import of a fresh synthetic extract (bad rows planted or not)."""
    generate(kind, 400, 3, folder)
    if planted:
        _plant(kind, folder)
    _, tables, issues = read_source(kind, folder, lenient=lenient)
    return _digests(tables, issues.frame())


@pytest.mark.parametrize("kind", ["ukb", "flatiron"])
@pytest.mark.parametrize("planted", [False, True])
def test_same_tables_and_quarantine_as_the_pandas_importers(tmp_path, kind, planted):
    got = digests(kind, tmp_path / kind, lenient=True, planted=planted)
    assert got == FROZEN[f"{kind}-{'planted' if planted else 'clean'}"]


@pytest.mark.parametrize("kind", ["ukb", "flatiron"])
def test_strict_raises_the_first_quarantined_row(tmp_path, kind):
    folder = tmp_path / kind
    generate(kind, 400, 3, folder)
    _plant(kind, folder)
    _, _, issues = read_source(kind, folder, lenient=True)
    first = issues.frame().iloc[0]
    with pytest.raises(InputError) as err:
        read_source(kind, folder)
    assert (err.value.reason, err.value.row, err.value.column) == (
        first["reason"],
        first["row"],
        first["column"],
    )
    assert err.value.file == first["file"]


@pytest.mark.parametrize("kind", ["ukb", "flatiron"])
def test_parquet_files_give_the_tables_of_csv_files(tmp_path, kind, ukb_small, flatiron_small):
    # parquet columns are typed (ids and years as integers, blanks as floats' NaN): read as
    # text they give the same cohort as the same tables in CSV/TSV
    folder = ukb_small if kind == "ukb" else flatiron_small
    parquet = tmp_path / kind
    parquet.mkdir()
    for file in folder.iterdir():
        sep = "\t" if file.suffix == ".tsv" else ","
        pd.read_csv(file, sep=sep).to_parquet(parquet / f"{file.stem}.parquet")
    _, want, _ = read_source(kind, folder)
    _, got, _ = read_source(kind, parquet)
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def test_only_omop_reads_from_a_database():
    with pytest.raises(InputError) as err:
        read_source("ukb", "postgresql://reader@localhost:5432/cdm")
    assert err.value.reason == (
        "only the omop source reads from a database, not ukb: postgresql://reader@localhost:5432/cdm"
    )
