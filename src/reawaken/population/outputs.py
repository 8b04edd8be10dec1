"""The files of a population run: scenarios.csv, per_year.csv, population.png, population.json.

population.json records the settings, the seeds, the versions, the scenarios as parsed, what
ran the chunks, and every assumption the run used with its basis (the bridge's human-only
magnitudes, the survivors' distributions, the seasons, the baseline hazards' sources).
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from reawaken.population.run import LEVEL, PopulationResult

FILES = ("scenarios.csv", "per_year.csv", "population.png", "population.json")
"""The files a population run writes."""
BRIDGE_VALUES = (
    "influenza_attack_rate_under_65",
    "influenza_attack_rate_65_plus",
    "sars_cov_2_attack_rate",
    "influenza_vaccine_efficacy",
    "symptom_onset",
    "anti_il6_dose",
    "antiviral_efficacy",
    "infection_cv",
    "doubling_time",
    "doubling_time_cv",
    "detection_cells",
    "detection_delay",
    "lesion_response",
    "survival_after_lung_metastasis",
    "early_years_multiplier",
    "hr_negative_early",
    "hr_negative_late",
)
"""The bridge's human-only magnitudes a population run reads (directly or through the kernel
and the baseline hazards)."""
MEASURE_DEFINITIONS = {
    "person_years": "years alive within follow-up",
    "infections": "infections while alive (prevented ones not counted)",
    "treated": "vaccine: survivor-autumns vaccinated while alive; anti-il6, antiviral: infections "
    "treated",
    "lung_metastases": "first lung metastases (first distant metastasis in the lung)",
    "excess_lung_metastases": "lung metastases minus those of no-infection",
    "prevented_lung_metastases": "lung metastases of baseline minus those of the scenario",
    "prevented_fraction": "prevented lung metastases over the excess of baseline",
    "number_needed_to_treat": "treated (see treated) per lung metastasis prevented; blank when "
    "the scenario treats nothing or prevents none",
    "cancer_deaths": "deaths from the cancer after a lung metastasis, within follow-up",
    "excess_cancer_deaths": "cancer deaths minus those of no-infection",
    "prevented_cancer_deaths": "cancer deaths of baseline minus those of the scenario",
}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def assumptions_used() -> dict[str, Any]:
    """Every assumption of a population run with its value, unit, basis and source.

    Returns
    -------
    dict
        ``bridge`` (the human-only magnitudes used), ``survivors`` (their distributions),
        ``infections`` (seasons and rates), ``baseline_hazards`` (sources) and ``vaccination``.

    Raises
    ------
    reawaken.errors.InputError
        If the synthetic cohort parameters cannot be read.

    Examples
    --------
    >>> from reawaken.population.outputs import assumptions_used
    >>> a = assumptions_used()
    >>> a["bridge"]["sars_cov_2_attack_rate"]["basis"]
    'sourced'
    """
    from reawaken.bridge.assumptions import HUMAN
    from reawaken.bridge.baseline import SOURCES
    from reawaken.population.infections import SARS_COV_2_SOURCE, SEASON
    from reawaken.population.survivors import survivor_distributions

    return {
        "bridge": {
            name: {
                "value": HUMAN[name].value,
                "unit": HUMAN[name].unit,
                "basis": HUMAN[name].basis,
                "source": HUMAN[name].source,
            }
            for name in BRIDGE_VALUES
        },
        "survivors": survivor_distributions(),
        "infections": {
            "influenza_season": dict(SEASON),
            "sars_cov_2": SARS_COV_2_SOURCE,
            "infections_diagnosed": "assumed: every infection counted by the attack rates is "
            "symptomatic and diagnosed at symptom onset, so it can be treated",
        },
        "vaccination": "assumed: one autumn visit a year gives both the influenza vaccine and "
        "the SARS-CoV-2 booster (one uniform per survivor and year); a vaccinated survivor's "
        "infection that year is prevented with probability efficacy, otherwise it runs with "
        "reawaken.model.Vaccination(infectivity_reduction=0)",
        "baseline_hazards": dict(SOURCES),
        "competing_events": "death from other causes (Gompertz) and a first distant metastasis "
        "outside the lung end follow-up for a first lung metastasis; cancer death after a lung "
        "metastasis at an exponential lag of median survival_after_lung_metastasis",
    }


def record(result: PopulationResult, command: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """population.json: settings, seeds, versions, scenarios, engine, assumptions.

    Parameters
    ----------
    result : PopulationResult
        The run.
    command : mapping, optional
        The command line's options (recorded as given).

    Returns
    -------
    dict
        The record (plain JSON values).

    Raises
    ------
    reawaken.errors.InputError
        If the synthetic cohort parameters cannot be read.

    Examples
    --------
    >>> from reawaken.population import PopulationSettings, run_population
    >>> from reawaken.population.outputs import record
    >>> r = record(run_population(PopulationSettings(500, 1, 2, 9), []))
    >>> r["seeds"]["run"], r["settings"]["chunks"]
    (9, 1)
    """
    from reawaken import __version__

    s = result.settings
    return {
        "command": dict(command or {}),
        "settings": {
            "survivors": s.survivors,
            "years": s.years,
            "draws": s.draws,
            "seed": s.seed,
            "chunk_size": s.chunk_size,
            "chunks": s.chunks,
            "interval_level": LEVEL,
        },
        "seeds": {
            "run": s.seed,
            "chunks": "numpy.random.default_rng([seed, chunk]) for chunk 0.."
            f"{s.chunks - 1}; chunk c holds survivors c*{s.chunk_size} onwards",
            "kernels": result.kernels.seeds,
            "kernel_rule": "SeedSequence([seed, 0x6B65726E, pathogen index]).generate_state(1)"
            "[0]; every treatment of a pathogen uses its seed (paired draws)",
            "groups": f"survivor i uses parameter draw i mod {s.draws} for all her infections",
        },
        "versions": {
            "reawaken": __version__,
            "python": platform.python_version(),
            **{k: _version(k) for k in ("numpy", "pandas", "dask", "distributed")},
        },
        "scenarios": [sc.record() for sc in result.scenarios],
        "kernels": list(result.kernels.labels),
        "measures": MEASURE_DEFINITIONS,
        "intervals": "survivors split into draws groups by index (i mod draws), group d using "
        "parameter draw d; each group's counts scaled to the population, the measure computed "
        f"per group, and the {(1 - LEVEL) / 2:g} and {(1 + LEVEL) / 2:g} empirical quantiles "
        "across groups (parameter uncertainty and Monte Carlo noise); value is the whole "
        "population's",
        "engine": result.engine,
        "seconds": round(result.seconds, 3),
        "assumptions": assumptions_used(),
    }


def _plain(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def write_population(
    result: PopulationResult, folder: str | Path, command: Mapping[str, Any] | None = None
) -> list[Path]:
    """Write the run's files (:data:`FILES`) into ``folder`` (which must exist).

    Parameters
    ----------
    result : PopulationResult
        The run.
    folder : str or pathlib.Path
        Where to write (the command line hands it a new folder that then takes the place of
        ``--out``: :func:`reawaken.run_folder.write_run`).
    command : mapping, optional
        The command line's options, for population.json.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    OSError
        If a file cannot be written.

    Examples
    --------
    >>> from pathlib import Path
    >>> from reawaken.population import PopulationSettings, run_population
    >>> from reawaken.population.outputs import write_population
    >>> Path("pop").mkdir()
    >>> r = run_population(PopulationSettings(500, 1, 2, 9), [])
    >>> [p.name for p in write_population(r, "pop")]
    ['scenarios.csv', 'per_year.csv', 'population.png', 'population.json']
    """
    from matplotlib.figure import Figure

    from reawaken.population.figure import plot_by_year, plot_excess

    folder = Path(folder)
    table = result.table()
    per_year = result.per_year()
    paths = [folder / name for name in FILES]
    table.to_csv(paths[0], index=False)
    per_year.to_csv(paths[1], index=False)
    fig = Figure(figsize=(10, 4), dpi=120, layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_excess(table, left)
    plot_by_year(per_year, right)
    s = result.settings
    fig.suptitle(
        f"{s.survivors:,} survivors, {s.years} years, {s.draws} draws, seed {s.seed}", fontsize=9
    )
    fig.savefig(paths[2])
    paths[3].write_text(json.dumps(_plain(record(result, command)), indent=2) + "\n")
    return paths
