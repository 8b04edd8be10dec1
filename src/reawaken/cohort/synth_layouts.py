"""Write a simulated cohort in a source's layout (UK Biobank, Flatiron, OMOP, or any registered
source), with ``truth.json``.

Each source writes its own files (``Source.write_synthetic``, :mod:`reawaken.cohort.sources`).
``truth.json`` holds ``like, n, seed``, ``parameters`` (every generating parameter, with units
and sources), ``import_options`` (options the import must be given to reproduce the counts:
the UK Biobank censor date) and ``counts``: what ``summary(min_cell=0)`` of a store must give
after importing the files (``persons``, ``person_years``, ``tables``, ``infections``,
``outcomes``), plus ``true_infections`` (all infections, recorded or not) for checking how
incomplete ascertainment dilutes an estimate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken import pathogens
from reawaken.cohort import sources
from reawaken.cohort.sources.synthetic import Cohort, SyntheticFiles
from reawaken.cohort.synth import load_params, simulate
from reawaken.io import write_text_atomic


def write_cohort(cohort: Cohort, like: str, out: Path, seed: int) -> dict:
    """Write ``cohort`` in the layout of source ``like`` under ``out``; returns the truth."""
    source = sources.get(like)
    out.mkdir(parents=True, exist_ok=True)
    files = source.write_synthetic(cohort, out, np.random.default_rng([seed, 1]))
    counts = _counts(cohort.people, files)
    counts["true_infections"] = {
        k: int((cohort.infections["pathogen"] == k).sum()) for k in pathogens.ids()
    }
    return {
        "like": like,
        "n": len(cohort.people),
        "seed": seed,
        "import_options": files.import_options,
        "counts": counts,
        "parameters": cohort.params,
    }


def _counts(people: pd.DataFrame, files: SyntheticFiles) -> dict:
    """What the summary of a store holding the files must show (``min_cell=0``)."""
    relapsed = people["relapse"] >= 0
    died = people["death"] >= 0
    rec, causes = files.recorded, files.causes
    infections = {k: int((rec["pathogen"] == k).sum()) for k in pathogens.ids()}
    n = len(people)
    return {
        "persons": n,
        "person_years": round(
            float((files.end - people["entry"].to_numpy() + 1).sum()) / 365.25, 2
        ),
        "tables": {
            "person": n,
            "cancer_diagnosis": n,
            "follow_up": n,
            "infection": int(sum(infections.values())),
            "vaccination": int(files.n_vaccinations),
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
