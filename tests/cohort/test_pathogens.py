"""The pathogen table: what derives from it, what it refuses, and a pathogen added at run time
flowing through the generator, the import and the summary."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from importlib import resources

import pandas as pd
import pytest

from reawaken import pathogens
from reawaken.cli import main
from reawaken.cohort import codes, schema
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_params import default_params
from reawaken.errors import InputError
from reawaken.model.parameters import PARAMETER_SET_NAMES

# Made-up codes, for this test only: U99 is not an ICD-10 category in use, and OMOP leaves
# concept ids above 2,000,000,000 to local vocabularies.
TEST_ICD10 = "U99.1"
TEST_OMOP_TEST = 2_000_000_001

HMPV = pathogens.Pathogen(
    id="hmpv",
    name="Human metapneumovirus (test row)",
    icd10=(pathogens.Code(TEST_ICD10, "TEST ONLY: made-up code for a pathogen added in a test"),),
    omop_tests=(pathogens.Concept(TEST_OMOP_TEST, "TEST ONLY: made-up local test concept"),),
    synthetic=pathogens.Synthetic(
        incidence=pathogens.Seasonal(0.3, "02-15", 20, (), "test value"),
        ascertainment=1.0,
        severe=False,
        icd10=TEST_ICD10,
        omop_test=TEST_OMOP_TEST,
    ),
    exposure=True,
)


@pytest.fixture
def hmpv():
    """The test pathogen, registered for one test."""
    pathogens.register(HMPV)
    try:
        yield HMPV
    finally:
        pathogens.unregister("hmpv")


def test_built_in_rows_and_what_derives_from_them():
    assert pathogens.ids() == ("influenza", "sars-cov-2", "rsv", "other-respiratory")
    assert pathogens.exposure_groups() == {
        "sars-cov-2": ("sars-cov-2",),
        "influenza": ("influenza",),
        "any": ("influenza", "sars-cov-2"),
    }
    assert schema.allowed()[("infection", "pathogen")] == (pathogens.ids(), False)
    assert schema.vaccines() == ("influenza", "sars-cov-2", "rsv", "other")
    for row in pathogens.table():
        assert set(row.parameter_sets) <= set(PARAMETER_SET_NAMES)
    assert pathogens.get("sars-cov-2").parameter_sets == ("mouse-sars-cov-2", "human-sars-cov-2")


# sha256 of each built-in row's repr when the rows were Python literals: the packaged file
# reads back to the same values, types included (sd_days 21 stays an integer)
FROZEN_ROWS = {
    "influenza": "3fd9d4f5de20b1a4",
    "sars-cov-2": "7f02985724bdc3fd",
    "rsv": "fbb0b80406a680d0",
    "other-respiratory": "7abc8fbf339079aa",
}
FILE = resources.files("reawaken").joinpath("data", "pathogens.json").read_text(encoding="utf-8")


def test_the_packaged_file_gives_the_rows_the_literals_gave():
    digests = {
        row.id: hashlib.sha256(repr(row).encode()).hexdigest()[:16] for row in pathogens.BUILT_IN
    }
    assert digests == FROZEN_ROWS
    assert pathogens._read(FILE, "f.json") == pathogens.BUILT_IN
    covid = pathogens.get("sars-cov-2").synthetic
    assert covid.incidence.waves[0] == pathogens.Wave("2020-04-10", 18, 0.05)
    assert covid.ascertainment[2] == pathogens.Period("2022-04-01", "2100-01-01", 0.2)


def test_a_pathogen_is_one_entry_in_the_file():
    data = json.loads(FILE)
    data["pathogens"].append(
        {
            "id": "hmpv",
            "name": HMPV.name,
            "icd10": [{"code": TEST_ICD10, "label": HMPV.icd10[0].label}],
            "omop_tests": [{"concept_id": TEST_OMOP_TEST, "label": HMPV.omop_tests[0].label}],
            "exposure": True,
            "synthetic": {
                "incidence": {
                    "attack_rate": 0.3,
                    "peak": "02-15",
                    "sd_days": 20,
                    "skip_seasons": [],
                    "source": "test value",
                },
                "ascertainment": 1.0,
                "severe": False,
                "icd10": TEST_ICD10,
                "omop_test": TEST_OMOP_TEST,
            },
        }
    )
    rows = pathogens._read(json.dumps(data), "f.json")
    assert rows == (*pathogens.BUILT_IN, HMPV)


def _edited(edit) -> str:
    data = json.loads(FILE)
    edit(data["pathogens"])
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "f.json: not valid JSON"),
        ('{"rows": []}', "f.json: expected an object with a list of rows, 'pathogens'"),
        (_edited(lambda rows: rows[1].pop("name")), "f.json, row 2: field name is missing"),
        (
            _edited(lambda rows: rows[2]["synthetic"]["incidence"].update(atack_rate=0.1)),
            "f.json, row 3: Seasonal has no field synthetic.incidence.atack_rate",
        ),
        (
            _edited(lambda rows: rows[1]["synthetic"]["incidence"]["waves"][1].update(peak=5)),
            "f.json, row 2: field synthetic.incidence.waves[1].peak is 5, expected str",
        ),
        (
            _edited(lambda rows: rows[0]["synthetic"].update(ascertainment="high")),
            'f.json, row 1: field synthetic.ascertainment is "high", expected float or tuple',
        ),
        (
            _edited(lambda rows: rows[0].update(exposure=1)),
            "f.json, row 1: field exposure is 1, expected bool",
        ),
        (
            _edited(lambda rows: rows[3]["icd10"].append({"code": "J10", "label": "again"})),
            "f.json, row 4: pathogen 'other-respiratory': ICD-10 code J10 belongs to 'influenza'",
        ),
        (
            _edited(lambda rows: rows.append(rows[0])),
            "f.json, row 5: pathogen 'influenza' is already in the table",
        ),
    ],
)
def test_the_file_reader_names_the_row_and_field_it_refuses(text, message):
    with pytest.raises(InputError) as info:
        pathogens._read(text, "f.json")
    assert str(info.value).startswith(message)


def test_concept_sets_take_the_pathogen_codes():
    icd10 = pd.Series(["U07.1", "u07.2", "J11.1", "J21.0", "J21.9", "J06.9", "C50.9"])
    assert list(codes.classify_icd(icd10, "infection")) == [
        "sars-cov-2",
        "sars-cov-2",
        "influenza",
        "rsv",  # J21.0 is RSV bronchiolitis: the longer prefix wins over J21
        "other-respiratory",
        "other-respiratory",
        pd.NA,
    ]
    icd9 = pd.Series(["079.6", "487.1", "466.11", "466.0"])
    assert list(codes.classify_icd(icd9, "infection", version=9)) == [
        "rsv",
        "influenza",
        "rsv",
        "other-respiratory",
    ]
    assert codes.cvx_vaccines()["208"] == "sars-cov-2"
    assert codes.cvx_vaccines()["88"] == "influenza"
    assert codes.cvx_vaccines()["306"] == "rsv"
    assert codes.omop_concepts("test")[37021152] == "rsv"
    assert codes.omop_concepts("infection") == {37311061: "sars-cov-2", 4266367: "influenza"}
    # the other roles stay in the packaged files
    assert codes.omop_concepts("sex") == {8532: "female", 8507: "male"}


def test_generator_defaults_come_from_the_table():
    p = default_params()
    assert p["seasonal"]["influenza"]["attack_rate"] == 0.08
    assert list(p["seasonal"]) == ["influenza", "rsv", "other-respiratory"]
    assert p["sars_cov_2_waves"]["waves"][3] == {
        "peak": "2022-01-05",
        "sd_days": 20,
        "attack_rate": 0.25,
    }
    assert p["ascertainment"]["sars-cov-2"][1] == {
        "from": "2020-07-01",
        "to": "2022-03-31",
        "p": 0.6,
    }
    assert p["ascertainment"]["rsv"] == 0.05
    assert p["infection_effect"]["pathogens"] == ["influenza", "sars-cov-2"]
    assert p["loss_to_follow_up"]["flatiron"] == 0.05


def _row(**changes) -> pathogens.Pathogen:
    return dataclasses.replace(HMPV, **changes)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_row(id="influenza"), "pathogen 'influenza' is already in the table"),
        (_row(id="any"), "pathogen 'any': an id is lower-case letters, digits and dashes"),
        (_row(id="HMPV"), "pathogen 'HMPV': an id is lower-case letters, digits and dashes"),
        (
            _row(icd10=(pathogens.Code("U07.1", "clash"),)),
            "pathogen 'hmpv': ICD-10 code U071 belongs to 'sars-cov-2'",
        ),
        (
            _row(icd10=(pathogens.Code("U9", "too short"),)),
            "pathogen 'hmpv': ICD-10 code 'U9' is not 3-7 letters or digits",
        ),
        (
            _row(synthetic=dataclasses.replace(HMPV.synthetic, icd10="J06.9")),
            "pathogen 'hmpv': synthetic ICD-10 code 'J06.9' is not one of its codes",
        ),
        (
            _row(synthetic=dataclasses.replace(HMPV.synthetic, cvx="140")),
            "pathogen 'hmpv': synthetic CVX code '140' is not one of its vaccines",
        ),
    ],
)
def test_register_refuses_rows_that_do_not_fit(row, message):
    with pytest.raises(InputError) as info:
        pathogens.register(row)
    assert str(info.value).startswith(message)
    assert pathogens.ids() == ("influenza", "sars-cov-2", "rsv", "other-respiratory")


def test_unknown_and_built_in_ids():
    with pytest.raises(InputError, match=r"unknown pathogen 'hmpv' \(known: influenza, "):
        pathogens.get("hmpv")
    with pytest.raises(InputError, match="built in and cannot be removed"):
        pathogens.unregister("rsv")


@pytest.mark.parametrize("like", ["flatiron", "omop"])
def test_a_pathogen_added_at_run_time_goes_through_synth_import_and_summary(
    hmpv, like, tmp_path, capsys
):
    assert pathogens.exposure_groups()["hmpv"] == ("hmpv",)
    assert "hmpv" in schema.allowed()[("infection", "pathogen")][0]
    files, db = tmp_path / "files", tmp_path / "c.duckdb"
    args = ["--like", like, "--n", "400", "--seed", "3", "--out", str(files)]
    assert main(["cohort", "synth", *args]) == 0
    truth = json.loads((files / "truth.json").read_text())
    assert truth["parameters"]["seasonal"]["hmpv"]["attack_rate"] == 0.3
    assert truth["parameters"]["ascertainment"]["hmpv"] == 1.0
    assert truth["counts"]["infections"]["hmpv"] > 20  # about 0.3 a season, all recorded
    assert main(["cohort", "import", "--source", like, str(files), "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["cohort", "summary", "--db", str(db), "--json", "--min-cell", "0"]) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("persons", "person_years", "tables", "infections", "outcomes"):
        assert summary[key] == truth["counts"][key], key
    episodes = CohortStore(db).infection()
    evidence = set(episodes.loc[episodes["pathogen"] == "hmpv", "evidence"])
    assert evidence == ({"diagnosis"} if like == "flatiron" else {"test", "diagnosis"})
    # the designs take their exposures from the table: estimate accepts the new pathogen
    est = tmp_path / "est"
    status = main(["estimate", "--db", str(db), "--design", "cox", "--outcome",
                   "distant_metastasis", "--exposure", "hmpv", "--windows", "0-365,>365",
                   "--min-cell", "0", "--out", str(est)])  # fmt: skip
    assert status == 0, capsys.readouterr().err
    fit = json.loads((est / "fit.json").read_text())
    assert fit["exposure"] == "hmpv" and fit["persons"] == truth["counts"]["persons"]
    counts = pd.read_csv(est / "counts.csv").set_index("window")
    assert counts.loc["0-365", "person_years"] > 0


def test_user_concepts_still_add_codes(tmp_path, flatiron_small):
    """A user's icd10.csv row wins over the pathogen table's row for the same prefix."""
    extra = tmp_path / "concepts"
    extra.mkdir()
    (extra / "icd10.csv").write_text(
        "prefix,role,value,label\nJ06,infection,influenza,user row: J06 counted as influenza\n"
    )
    plain = CohortStore(tmp_path / "a.duckdb")
    plain.import_source("flatiron", flatiron_small)
    extended = CohortStore(tmp_path / "b.duckdb")
    extended.import_source("flatiron", flatiron_small, concepts=extra)

    def f2(store: CohortStore) -> list[tuple[str, str]]:
        inf = store.infection()
        inf = inf[inf["person_id"] == "F2"]
        return list(
            zip(inf["infection_date"].dt.strftime("%Y-%m-%d"), inf["pathogen"], strict=True)
        )

    assert f2(plain) == [("2019-12-01", "influenza"), ("2019-12-20", "other-respiratory")]
    # J06.9 on 2019-12-20 is now influenza, 19 days after the ICD-9 influenza: one episode
    assert f2(extended) == [("2019-12-01", "influenza")]
