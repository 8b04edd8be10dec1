"""Write a simulated cohort in the UK Biobank, Flatiron or OMOP layout, with ``truth.json``.

``truth.json`` holds ``like, n, seed``, ``parameters`` (every generating parameter, with units
and sources), ``import_options`` (options the import must be given to reproduce the counts:
the UK Biobank censor date) and ``counts``: what ``reawaken cohort summary --json --min-cell 0``
must print after importing the files (``persons``, ``person_years``, ``tables``, ``infections``,
``outcomes``), plus ``true_infections`` (all infections, recorded or not) for checking how
incomplete ascertainment dilutes an estimate.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from reawaken.cohort.schema import PATHOGENS
from reawaken.cohort.synth import EPOCH, Cohort, load_params, simulate
from reawaken.io import write_atomic, write_text_atomic

ICD10_MET = {"lung": "C78.0", "bone": "C79.5", "liver": "C78.7", "brain": "C79.3", "other": "C79.8"}
ICD10CM_MET = {
    "lung": "C78.01",
    "bone": "C79.51",
    "liver": "C78.7",
    "brain": "C79.31",
    "other": "C79.89",
}
ICD10_INFECTION = {
    "sars-cov-2": "U07.1",
    "influenza": "J11.1",
    "rsv": "J21.0",
    "other-respiratory": "J06.9",
}
DEATH_CODE = {"cancer": "C50.9", "covid": "U07.1", "other": "I21.9"}
OMOP_CONDITION = {"sars-cov-2": 37311061, "influenza": 4266367, "rsv": 0, "other-respiratory": 0}
OMOP_TEST = {"sars-cov-2": 706158, "influenza": 37020635, "rsv": 37021152}
CVX = {"influenza": "140", "sars-cov-2": "208"}


def iso(days: np.ndarray | pd.Series) -> np.ndarray:
    """ISO date strings of integer days since 1970-01-01."""
    return (EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")).astype(str)


def _write_table(frame: pd.DataFrame, sep: str, path: Path) -> None:
    """Write ``frame`` as delimited text without quoting (generated values hold no delimiter)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    options = pacsv.WriteOptions(delimiter=sep, quoting_style="none")
    pacsv.write_csv(table, str(path), write_options=options)


def _repeat_tests(rec: pd.DataFrame, p: dict, rng: np.random.Generator) -> pd.DataFrame:
    """A second positive test a few days after some first ones (still within follow-up)."""
    rt = p["repeat_test"]
    again = rec[rng.random(len(rec)) < rt["probability"]].copy()
    again["day"] = again["day"] + rng.integers(1, rt["max_gap_days"] + 1, len(again))
    return again[again["day"] <= again["end"]]


def _death_month_imputed(people: pd.DataFrame) -> np.ndarray:
    """Flatiron's documented imputation applied to the true death day (last activity = death)."""
    death = (EPOCH + people["death"].to_numpy().astype("timedelta64[D]")).astype("datetime64[M]")
    mid = ((death.astype("datetime64[D]") + 14) - EPOCH).astype(np.int64)
    return np.maximum(mid, people["death"].to_numpy())


def write_cohort(cohort: Cohort, like: str, out: Path, seed: int) -> dict:
    """Write ``cohort`` in layout ``like`` under ``out``; returns the truth dictionary."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 1])
    people, p = cohort.people, cohort.params
    inf = cohort.infections.merge(people[["pid", "end"]], on="pid")
    rec = inf[inf["recorded"]]
    if like == "ukb":
        rec = rec[rec["pathogen"] == "sars-cov-2"]
    pid = people["pid"].astype(str)
    died = people["death"] >= 0
    relapsed = people["relapse"] >= 0
    end = people["end"].to_numpy().copy()
    tables: dict[str, pd.DataFrame] = {}
    n_vacc = 0
    if like == "ukb":
        part = pd.DataFrame(
            {
                "eid": people["pid"] + 1000001,
                "p31": np.where(people["sex"] == "female", 0, 1),
                "p34": people["birth_year"],
                "p53_i0": iso(people["entry"]),
                "p40005_i0": iso(people["dx"]),
                "p40006_i0": "C509",
                "p40011_i0": 8500,
                "p40012_i0": 3,
                "p40005_i1": np.where(relapsed, iso(people["relapse"].clip(0)), ""),
                "p40006_i1": np.where(
                    relapsed, people["site"].map(ICD10_MET).fillna("").str.replace(".", ""), ""
                ),
                "p40012_i1": np.where(relapsed, "6", ""),
                "p40000_i0": np.where(died, iso(people["death"].clip(0)), ""),
                "p40001_i0": np.where(
                    died, people["cause"].map(DEATH_CODE).fillna("").str.replace(".", ""), ""
                ),
                "p190": np.where(people["end_reason"] == "lost", "5", ""),
                "p191": np.where(people["end_reason"] == "lost", iso(people["end"]), ""),
            }
        )
        tables["participant"] = part
        pos = pd.concat([rec, _repeat_tests(rec, p, rng)], ignore_index=True)
        covid_start = np.datetime64("2020-03-16", "D") - EPOCH
        lo = np.maximum(people["entry"].to_numpy(), covid_start.astype(np.int64))
        can = (lo <= end) & (rng.random(len(people)) < 0.3)
        neg_day = lo[can] + np.floor(rng.random(can.sum()) * (end[can] - lo[can] + 1)).astype(
            np.int64
        )
        tests = pd.concat(
            [
                pd.DataFrame(
                    {
                        "eid": pos["pid"] + 1000001,
                        "day": pos["day"],
                        "result": 1,
                        "origin": pos["hospitalised"].astype(int),
                    }
                ),
                pd.DataFrame(
                    {"eid": people["pid"][can] + 1000001, "day": neg_day, "result": 0, "origin": 0}
                ),
            ]
        ).sort_values(["eid", "day"])
        tables["covid19_result"] = pd.DataFrame(
            {
                "eid": tests["eid"],
                "specdate": iso(tests["day"]),
                "spectype": 7,
                "laboratory": 1,
                "origin": tests["origin"],
                "result": tests["result"],
                "acute": "",
                "hosaq": "",
                "reqorg": "",
            }
        )
        causes = people["cause"]
    elif like == "flatiron":
        ids = "F" + pid.str.zfill(7)
        id_of = dict(zip(people["pid"], ids, strict=True))
        tables["Demographics"] = pd.DataFrame(
            {
                "PatientID": ids,
                "BirthYear": people["birth_year"],
                "Gender": np.where(people["sex"] == "female", "F", "M"),
            }
        )
        tables["Enhanced_MetastaticBreast"] = pd.DataFrame(
            {
                "PatientID": ids,
                "DiagnosisDate": iso(people["dx"]),
                "MetDiagnosisDate": np.where(relapsed, iso(people["relapse"].clip(0)), ""),
                "GroupStage": "Stage " + people["stage"],
            }
        )
        bio = []
        for marker in ("er", "pr", "her2"):
            bio.append(
                pd.DataFrame(
                    {
                        "PatientID": ids,
                        "BiomarkerName": marker.upper(),
                        "BiomarkerStatus": people[marker].str.capitalize(),
                        "ResultDate": iso(people["dx"]),
                    }
                )
            )
        tables["Enhanced_MetBreastBiomarkers"] = pd.concat(bio).sort_values(
            "PatientID", kind="stable"
        )
        rel = people[relapsed]
        diag = pd.concat(
            [
                pd.DataFrame(
                    {
                        "PatientID": rec["pid"].map(id_of),
                        "DiagnosisDate": iso(rec["day"]),
                        "DiagnosisCode": rec["pathogen"].map(ICD10_INFECTION),
                    }
                ),
                pd.DataFrame(
                    {
                        "PatientID": rel["pid"].map(id_of),
                        "DiagnosisDate": iso(rel["relapse"]),
                        "DiagnosisCode": rel["site"].map(ICD10CM_MET),
                    }
                ),
            ]
        )
        diag["DiagnosisCodeSystem"] = "ICD-10-CM"
        tables["Diagnosis"] = diag.sort_values(["PatientID", "DiagnosisDate"])
        dead = people[died]
        death_text = (
            (EPOCH + dead["death"].to_numpy().astype("timedelta64[D]"))
            .astype("datetime64[M]")
            .astype(str)
        )
        tables["Enhanced_Mortality_V2"] = pd.DataFrame(
            {"PatientID": dead["pid"].map(id_of), "DateOfDeath": death_text}
        )
        tables["Visit"] = (
            pd.concat(
                [
                    pd.DataFrame(
                        {"PatientID": ids, "VisitDate": iso(people["dx"]), "VisitType": "Office"}
                    ),
                    pd.DataFrame(
                        {"PatientID": ids, "VisitDate": iso(people["end"]), "VisitType": "Office"}
                    ),
                ]
            )
            .drop_duplicates()
            .sort_values(["PatientID", "VisitDate"])
        )
        end[died.to_numpy()] = _death_month_imputed(dead)
        causes = pd.Series(None, index=people.index, dtype=object)
    else:
        tables["person"] = pd.DataFrame(
            {
                "person_id": people["pid"] + 1,
                "gender_concept_id": np.where(people["sex"] == "female", 8532, 8507),
                "year_of_birth": people["birth_year"],
                "race_concept_id": 0,
                "ethnicity_concept_id": 0,
            }
        )
        tables["observation_period"] = pd.DataFrame(
            {
                "observation_period_id": people["pid"] + 1,
                "person_id": people["pid"] + 1,
                "observation_period_start_date": iso(people["entry"]),
                "observation_period_end_date": iso(people["end"]),
                "period_type_concept_id": 32817,
            }
        )
        as_test = rec["pathogen"].isin(list(OMOP_TEST)) & (rng.random(len(rec)) < 0.6)
        tst = pd.concat([rec[as_test], _repeat_tests(rec[as_test], p, rng)])
        dia = rec[~as_test]
        rel = people[relapsed]
        cond = pd.concat(
            [
                pd.DataFrame(
                    {
                        "person_id": people["pid"] + 1,
                        "condition_concept_id": 4112853,
                        "day": people["dx"],
                        "condition_source_value": "C50.9",
                    }
                ),
                pd.DataFrame(
                    {
                        "person_id": dia["pid"] + 1,
                        "condition_concept_id": dia["pathogen"].map(OMOP_CONDITION),
                        "day": dia["day"],
                        "condition_source_value": dia["pathogen"].map(ICD10_INFECTION),
                    }
                ),
                pd.DataFrame(
                    {
                        "person_id": rel["pid"] + 1,
                        "condition_concept_id": np.where(rel["site"] == "lung", 254591, 0),
                        "day": rel["relapse"],
                        "condition_source_value": rel["site"].map(ICD10_MET),
                    }
                ),
            ]
        ).sort_values(["person_id", "day"])
        tables["condition_occurrence"] = pd.DataFrame(
            {
                "condition_occurrence_id": np.arange(1, len(cond) + 1),
                "person_id": cond["person_id"],
                "condition_concept_id": cond["condition_concept_id"],
                "condition_start_date": iso(cond["day"]),
                "condition_type_concept_id": 32817,
                "condition_source_value": cond["condition_source_value"],
            }
        )
        tables["measurement"] = pd.DataFrame(
            {
                "measurement_id": np.arange(1, len(tst) + 1),
                "person_id": tst["pid"] + 1,
                "measurement_concept_id": tst["pathogen"].map(OMOP_TEST),
                "measurement_date": iso(tst["day"]),
                "measurement_type_concept_id": 32817,
                "value_as_concept_id": 4126681,
                "value_source_value": "Detected",
            }
        )
        vac = cohort.vaccinations
        n_vacc = len(vac)
        tables["drug_exposure"] = pd.DataFrame(
            {
                "drug_exposure_id": np.arange(1, len(vac) + 1),
                "person_id": vac["pid"] + 1,
                "drug_concept_id": 0,
                "drug_exposure_start_date": iso(vac["day"]),
                "drug_type_concept_id": 32817,
                "drug_source_value": vac["vaccine"].map(CVX),
            }
        )
        dead = people[died]
        tables["death"] = pd.DataFrame(
            {
                "person_id": dead["pid"] + 1,
                "death_date": iso(dead["death"]),
                "death_type_concept_id": 32817,
                "cause_concept_id": 0,
                "cause_source_value": dead["cause"].map(DEATH_CODE),
            }
        )
        causes = people["cause"]
    sep = {"ukb": "\t"}.get(like, ",")
    suffix = ".tsv" if like == "ukb" else ".csv"
    for name, frame in tables.items():
        write_atomic(out / f"{name}{suffix}", partial(_write_table, frame, sep))
    counts = _counts(people, end, rec, causes, n_vacc, like)
    counts["true_infections"] = {
        k: int((cohort.infections["pathogen"] == k).sum()) for k in PATHOGENS
    }
    import_options = {"censor_date": p["data_end"]["value"]} if like == "ukb" else {}
    return {
        "like": like,
        "n": len(people),
        "seed": seed,
        "import_options": import_options,
        "counts": counts,
        "parameters": p,
    }


def _counts(
    people: pd.DataFrame,
    end: np.ndarray,
    rec: pd.DataFrame,
    causes: pd.Series,
    n_vacc: int,
    like: str,
) -> dict:
    relapsed = people["relapse"] >= 0
    died = people["death"] >= 0
    infections = {k: int((rec["pathogen"] == k).sum()) for k in PATHOGENS}
    n = len(people)
    return {
        "persons": n,
        "person_years": round(float((end - people["entry"].to_numpy() + 1).sum()) / 365.25, 2),
        "tables": {
            "person": n,
            "cancer_diagnosis": n,
            "follow_up": n,
            "infection": int(sum(infections.values())),
            "vaccination": int(n_vacc),
            "outcome": int(relapsed.sum() + died.sum()),
        },
        "infections": infections,
        "outcomes": {
            "lung_metastasis": int((people["site"] == "lung").sum()),
            "distant_metastasis": int(relapsed.sum()),
            "cancer_death": int((causes == "cancer").sum()),
            "covid_death": int((causes == "covid").sum()),
            "other_death": int((causes == "other").sum()),
            "death": int(died.sum()),
        },
    }


def generate(
    like: str, n: int, seed: int, out: str | Path, params_file: str | Path | None = None
) -> dict:
    """Simulate and write a synthetic cohort in layout ``like`` plus ``out/truth.json``."""
    params = load_params(params_file)
    cohort = simulate(n, seed, like, params)
    out = Path(out)
    truth = write_cohort(cohort, like, out, seed)
    write_text_atomic(json.dumps(truth, indent=2) + "\n", out / "truth.json")
    return truth
