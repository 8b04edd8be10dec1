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
from reawaken.cohort.summary import CAUSES, death_counts
from reawaken.cohort.synth import load_params, simulate
from reawaken.io import write_text_atomic


def write_cohort(cohort: Cohort, like: str, out: Path, seed: int) -> dict:
    """Write a simulated cohort in the layout of a source.

    Parameters
    ----------
    cohort : Cohort
        A cohort from :func:`simulate`.
    like : str
        The source kind whose layout to write (:func:`reawaken.cohort.sources.kinds`).
    out : pathlib.Path
        The folder to write into (created if missing).
    seed : int
        Seed of the layout's own random numbers (repeated tests, codes); with the seed of
        :func:`simulate` the files are those :func:`generate` writes.

    Returns
    -------
    dict
        The truth (what ``truth.json`` holds): ``like``, ``n``, ``seed``,
        ``import_options``, ``counts`` (what the store's ``summary(min_cell=0)`` gives after
        importing the files with ``import_options``, plus ``true_infections``) and
        ``parameters``. Nothing is written to ``truth.json`` here.

    Raises
    ------
    InputError
        If ``like`` is not a source kind.
    OSError
        If a file cannot be written.

    Examples
    --------
    >>> from pathlib import Path
    >>> from reawaken.cohort import simulate, write_cohort
    >>> cohort = simulate(300, 1, "flatiron")
    >>> truth = write_cohort(cohort, "flatiron", Path("synthetic"), 1)
    >>> truth["counts"]["infections"]
    {'influenza': 14, 'sars-cov-2': 41, 'rsv': 2, 'other-respiratory': 13}
    >>> sorted(path.name for path in Path("synthetic").iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['Demographics.csv', 'Diagnosis.csv', 'Enhanced_MetBreastBiomarkers.csv',
     'Enhanced_MetastaticBreast.csv', 'Enhanced_Mortality_V2.csv', 'Visit.csv']
    """
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
            **death_counts(
                {c: int((causes == c).sum()) for c in CAUSES},
                int((died & causes.isna()).sum()),
            ),
            "death": int(died.sum()),
        },
    }


def generate(
    like: str, n: int, seed: int, out: str | Path, params_file: str | Path | None = None
) -> dict:
    """Simulate a synthetic cohort and write it in a source's layout, with ``truth.json``.

    What ``reawaken cohort synth`` does: :func:`simulate`, :func:`write_cohort`, then the
    truth as ``out/truth.json``.

    Parameters
    ----------
    like : str
        The source kind whose layout to write (:func:`reawaken.cohort.sources.kinds`:
        ``ukb``, ``flatiron``, ``omop``).
    n : int
        Number of persons (at least 1).
    seed : int
        Seed of the random numbers: the same seed gives the same files.
    out : str or pathlib.Path
        The folder to write into (created if missing).
    params_file : str or pathlib.Path, optional
        A JSON file of parameters to change (see :func:`load_params`).

    Returns
    -------
    dict
        The truth written to ``truth.json`` (see :func:`write_cohort`): import the files with
        ``truth["import_options"]`` and the store's ``summary(min_cell=0)`` gives
        ``truth["counts"]``.

    Raises
    ------
    InputError
        If ``like`` is not a source kind, ``n`` is below 1, or the parameter file cannot be
        read or holds an unknown or out-of-range parameter.
    OSError
        If a file cannot be written.

    Examples
    --------
    >>> from reawaken.cohort import CohortStore, generate
    >>> truth = generate("ukb", 300, 1, "synthetic")  # a synthetic UK Biobank extract
    >>> truth["import_options"], truth["counts"]["outcomes"]["distant_metastasis"]
    ({'censor_date': '2022-12-31'}, 71)
    >>> store = CohortStore("cohort.duckdb")
    >>> store.import_source("ukb", "synthetic", **truth["import_options"]).rows["outcome"]
    239
    >>> summary = store.summary(min_cell=0)
    >>> all(summary[key] == truth["counts"][key] for key in ("persons", "tables", "outcomes"))
    True
    """
    params = load_params(params_file)
    cohort = simulate(n, seed, like, params)
    out = Path(out)
    truth = write_cohort(cohort, like, out, seed)
    write_text_atomic(json.dumps(truth, indent=2) + "\n", out / "truth.json")
    return truth
