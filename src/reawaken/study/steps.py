"""The steps of the default study and of a study on real data.

Mouse experiments (deterministic arms and their claims, an ensemble with 5-95% bands, the
stochastic lesion probabilities); the cohort store (synthetic Flatiron-like and UK Biobank-like
cohorts with planted effects, or the user's store or extracts); per cohort the designs of
``reawaken estimate`` for each outcome, and a negative-control outcome; the bridge (the
mechanism's hazard ratio per window and the two studies reproduced) and the population's
prevention scenarios. Each step writes its files into its own folder and returns the numbers
the report shows (already suppressed: they are read back from the files the step wrote).
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reawaken.errors import ConvergenceWarning, InputError
from reawaken.study.cache import Step, StepContext

PLANTED = {
    "flatiron": {
        "outcomes": ["lung_metastasis"],
        "unaffected": ["other_site_metastasis"],
        "site": "lung",
        "windows": [{"start_day": 0, "end_day": 100000, "ratio": 1.44}],
        "text": "lung metastasis hazard ratio 1.44 at any time after a SARS-CoV-2 infection "
        "(Flatiron, Chia et al. 2025), on relapse in the lung only",
    },
    "ukb": {
        "outcomes": ["cancer_death"],
        "unaffected": ["distant_metastasis", "lung_metastasis", "other_site_metastasis"],
        "site": "any",
        "acts_on": "cancer_death",
        "windows": [{"start_day": 0, "end_day": 366, "ratio": 1.85}],
        "text": "cancer death hazard ratio 1.85 in the year after a SARS-CoV-2 infection, 1 "
        "after (the size of the UK Biobank cancer-death odds ratio, Chia et al. 2025; for a rare "
        "outcome the one-year odds ratio is about the hazard ratio), planted on death itself "
        "(relapse is not affected)",
    },
}
"""The planted effects of the synthetic cohorts (paper-sized): the outcomes they act on, and
those they cannot reach (their true ratio is 1 in every window)."""

CALENDAR_EFFECT = ({"year": 2020, "ratio": 0.75}, {"year": 2021, "ratio": 1.25})
CALENDAR_SOURCE = (
    "assumed, to switch calendar-time confounding on: relapses found less often in 2020 while "
    "care was disrupted, and more in 2021 as it caught up; SARS-CoV-2 waves fall in the same "
    "years, so a model without calendar time is confounded"
)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (NaN as None)."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append(
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in row.items()
            }
        )
    return json.loads(json.dumps(out, default=str))


# ---------------------------------------------------------------- mouse experiments


def mouse_step(ctx: StepContext) -> dict:
    from reawaken.experiments.claims import check_claims
    from reawaken.experiments.outputs import simulate_protocol
    from reawaken.experiments.protocols import get_protocol

    m = ctx.config["mouse"]
    result = simulate_protocol(
        get_protocol(m["protocol"]), ctx.folder / "arms", seed=ctx.config["study"]["seed"]
    )
    claims = check_claims(result.summary)
    claims.to_csv(ctx.folder / "claims.csv", index=False)
    return {
        "claims": _records(claims),
        "figure": "arms/dcc_fold_change.png",
        "claims_met": int(claims["holds"].sum()),
        "claims_total": len(claims),
    }


def ensemble_step(ctx: StepContext) -> dict:
    from reawaken.experiments.outputs import simulate_protocol
    from reawaken.experiments.protocols import get_protocol

    m = ctx.config["mouse"]
    result = simulate_protocol(
        get_protocol(m["protocol"]),
        ctx.folder / "ensemble",
        n=m["ensemble"],
        cv=m["cv"],
        seed=ctx.config["study"]["seed"],
    )
    summary = result.summary
    columns = [
        c
        for c in ("arm", "day", "fold_vs_mock", "fold_vs_mock_q05", "fold_vs_mock_q95")
        if c in summary.columns
    ]
    return {
        "mice_per_arm": m["ensemble"],
        "figure": "ensemble/dcc_fold_change.png",
        "fold_change": _records(summary[columns]),
    }


def lesions_step(ctx: StepContext) -> dict:
    from reawaken.experiments.outputs import write_lesions
    from reawaken.experiments.protocols import get_protocol

    m = ctx.config["mouse"]
    result = write_lesions(
        get_protocol(m["protocol"]),
        m["lesion_arm"],
        m["lesion_days"],
        ctx.folder / "lesions",
        replicates=m["lesion_replicates"],
        seed=ctx.config["study"]["seed"],
    )
    return {
        "arm": m["lesion_arm"],
        "replicates": m["lesion_replicates"],
        "table": _records(result.table),
    }


# ---------------------------------------------------------------- cohorts


def _synthetic_params(like: str) -> dict:
    from reawaken.cohort.synth_params import check_params, default_params

    params = default_params()
    planted = PLANTED[like]
    eff = params["infection_effect"]
    eff["windows"] = planted["windows"]
    eff["site"] = planted["site"]
    eff["acts_on"] = planted.get("acts_on", "relapse")
    eff["pathogens"] = ["sars-cov-2"]
    params["relapse"]["multiplier_by_calendar_year"] = list(CALENDAR_EFFECT)
    params["relapse"]["calendar_source"] = CALENDAR_SOURCE
    eff["source"] = "planted by reawaken study: " + planted["text"]
    return check_params(params)


def cohort_step(like: str):
    def run(ctx: StepContext) -> dict:
        from reawaken.cohort import CohortStore
        from reawaken.cohort.synth import simulate
        from reawaken.cohort.synth_layouts import write_cohort

        n = ctx.config["cohorts"][like]
        seed = ctx.config["study"]["seed"] + (1 if like == "flatiron" else 2)
        extract = Path(tempfile.mkdtemp(prefix="reawaken-study-extract-"))
        try:
            cohort = simulate(n, seed, like, _synthetic_params(like))
            truth = write_cohort(cohort, like, extract, seed)
            store = CohortStore(ctx.folder / "cohort.duckdb")
            store.import_source(like, extract, **truth["import_options"])
        finally:  # person-level files do not stay in the study folder; the store does
            shutil.rmtree(extract, ignore_errors=True)
        summary = _published_summary(store, ctx.config["study"]["min_cell"])
        return {
            "like": like,
            "persons_simulated": n,
            "seed": seed,
            "planted": PLANTED[like],
            "calendar": CALENDAR_SOURCE
            + "; "
            + ", ".join(f"{c['year']}: x{c['ratio']:g}" for c in CALENDAR_EFFECT),
            "store": "cohort.duckdb",
            "summary": summary,
        }

    return run


def store_step(ctx: StepContext) -> dict:
    """Real data: the user's store (read in place), or their extracts imported into DIR."""
    from reawaken.cohort import CohortStore

    data = ctx.config["data"]
    if data["db"]:
        store = CohortStore(data["db"])
        where = data["db"]
    else:
        store = CohortStore(ctx.folder / "cohort.duckdb")
        for source in data["sources"]:
            options = {k: v for k, v in source.items() if k in ("name", "censor_date")}
            store.import_source(source["kind"], source["path"], **options)
        where = "cohort.duckdb"
    return {
        "store": where,
        "record": json.loads(json.dumps(store.record(), default=str)),
        "summary": _published_summary(store, ctx.config["study"]["min_cell"]),
    }


def audited_summary(
    summary: Mapping, at_risk_events: Mapping[str, int], min_cell: int
) -> tuple[dict, list[str]]:
    """The store summary with every outcome count hidden whose difference from the events the
    designs count (persons at risk with the outcome) is from 1 to ``min_cell - 1``: that
    difference is the persons left out with the outcome (prevalent, or without a diagnosis or
    follow-up), a small count the attrition table hides and a subtraction would give back.

    Examples
    --------
    >>> summary = {"outcomes": {"lung_metastasis": 120, "distant_metastasis": 400},
    ...            "events": {"distant_metastasis": 430, "death": 90}}
    >>> shown, notes = audited_summary(
    ...     summary, {"lung_metastasis": 116, "distant_metastasis": 380}, 10)
    >>> shown["outcomes"], shown["events"]["distant_metastasis"]
    ({'lung_metastasis': None, 'distant_metastasis': 400}, 430)
    """
    shown = json.loads(json.dumps(summary, default=str))
    notes = []
    for outcome, events in at_risk_events.items():
        for group in ("outcomes", "events"):
            total = shown.get(group, {}).get(outcome)
            if isinstance(total, bool) or not isinstance(total, (int, float)):
                continue
            if 0 < total - events < min_cell:
                shown[group][outcome] = None
                notes.append(
                    f"store {group} {outcome} hidden: minus the {outcome.replace('_', ' ')} "
                    "events of the persons at risk it would give back a count under "
                    f"{min_cell}"
                )
    return shown, notes


def _at_risk_events(store: Any) -> dict[str, int]:
    """Persons at risk with each outcome the store summary counts (as the designs count them)."""
    from reawaken.epi.cohort_designs import person_table

    found = {}
    for outcome in ("lung_metastasis", "distant_metastasis", "cancer_death"):
        try:
            frame = person_table(store, outcome).frame
        except InputError:  # the store cannot support this outcome: nothing to compare
            continue
        found[outcome] = int((frame["status"] == 1).sum())
    return found


def _published_summary(store: Any, min_cell: int) -> dict:
    """The store's summary as the study publishes it (small counts and those a subtraction
    would give back hidden), with the notes saying what was hidden."""
    summary = store.summary(min_cell=min_cell)
    shown, notes = audited_summary(summary, _at_risk_events(store), min_cell)
    shown["suppression_notes"] = notes
    return shown


def store_path(output: Any) -> Path:
    where = Path(output.results["store"])
    return where if where.is_absolute() else output.folder / where


# ---------------------------------------------------------------- designs


DESIGN_OPTIONS = {
    "sccs": {"event_dependent": True},
}


def _design_options(design: str, config: Mapping) -> dict:
    options: dict[str, Any] = dict(DESIGN_OPTIONS.get(design, {}))
    if design == "emulation":
        options.update(bootstrap=config["estimate"]["bootstrap"], seed=config["study"]["seed"])
    return options


def estimates_step(cohort: str):
    def run(ctx: StepContext) -> dict:
        from reawaken.cohort import CohortStore
        from reawaken.epi.estimate import run_design

        store = CohortStore(store_path(ctx.upstream[cohort]))
        est = ctx.config["estimate"]
        min_cell = ctx.config["study"]["min_cell"]
        runs = []
        outcomes = list(est["outcomes"])
        negative = est["negative_control"]
        plan: list[tuple[str, str, dict]] = []
        for o in outcomes:
            for d in est["designs"]:
                plan.append((o, d, {}))
                if d == "cox":  # and adjusted for calendar year: the calendar confounds
                    plan.append((o, d, {"calendar_years": True}))
        if negative:
            plan.append((negative, "cox", {}))
        descriptive = {}
        for outcome in dict.fromkeys([*outcomes, *([negative] if negative else [])]):
            descriptive[outcome] = _descriptive(
                store, est["exposure"], outcome, min_cell, ctx.folder
            )
        for outcome, design, extra in plan:
            name = f"{design}{'_calendar' if extra else ''}_{outcome}"
            options = {
                "outcome": outcome,
                "exposure": est["exposure"],
                **_design_options(design, ctx.config),
                **extra,
            }
            if design in ("cox", "competing", "sccs"):
                options["windows"] = est["windows"]
            entry: dict[str, Any] = {
                "name": name,
                "design": design,
                "calendar_adjusted": bool(extra),
                "outcome": outcome,
                "negative_control": outcome == negative,
            }
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    result = run_design(store, design, **options)
                result.write(ctx.folder / name, min_cell=min_cell)
            except InputError as exc:  # the design refuses these data: say why
                entry["refused"] = exc.reason
                runs.append(entry)
                continue
            entry["convergence_warnings"] = sorted({str(w.message) for w in caught})
            table = pd.read_csv(ctx.folder / name / "estimates.csv")
            entry["estimates"] = _records(table)
            if design == "emulation" and outcome == "cancer_death":
                found = _odds_ratio_year(table)
                if "refused" not in found:  # written, and read back as every number is
                    pd.DataFrame([{k: found[k] for k in ODDS_COLUMNS}]).to_csv(
                        ctx.folder / name / "odds_ratio_year.csv", index=False
                    )
                    back = pd.read_csv(ctx.folder / name / "odds_ratio_year.csv")
                    found.update(_records(back)[0])
                entry["odds_ratio_year"] = found
            entry["figures"] = sorted(f"{name}/{p.name}" for p in (ctx.folder / name).glob("*.png"))
            fit = json.loads((ctx.folder / name / "fit.json").read_text())
            entry["notes"] = fit.get("notes", [])
            if fit.get("balance"):
                table = balance_table(fit["balance"], descriptive.get(outcome, {}))
                table.to_csv(ctx.folder / name / "balance.csv", index=False)
                _balance_figure(table, ctx.folder / name / "balance.png")
                entry["balance"] = _records(pd.read_csv(ctx.folder / name / "balance.csv"))
                entry["figures"].append(f"{name}/balance.png")
            entry["warnings"] = fit.get("warnings", [])
            runs.append(entry)
        return {"cohort": cohort, "runs": runs, "descriptive": descriptive}

    return run


PAPER_ODDS_RATIO = {"value": 1.85, "lower": 1.14, "upper": 3.02}
"""UK Biobank cancer survivors, cancer death after a positive SARS-CoV-2 test against a
negative one (Chia et al. 2025)."""


ODDS_COLUMNS = ("value", "lower", "upper", "risk_ratio", "risk_exposed", "risk_unexposed")


def _odds_ratio_year(estimates: pd.DataFrame) -> dict:
    """The cancer-death odds ratio within a year of infection, as the UK Biobank analysis
    reports it, from the emulation's 365-day risks, beside the paper's."""
    from reawaken.bridge.studies import odds_ratio_within_year

    try:
        found = odds_ratio_within_year(estimates)
    except InputError as exc:
        return {"refused": exc.reason}
    shown = {k: (None if not math.isfinite(v) else round(v, 4)) for k, v in found.items()}
    return {
        **shown,
        "paper": PAPER_ODDS_RATIO,
        "comparison": "recorded SARS-CoV-2 infection against matched persons not (yet) "
        "infected (the paper compared a positive test with a negative one)",
    }


def _descriptive(store: Any, exposure: str, outcome: str, min_cell: int, folder: Path) -> dict:
    """Table 1 by exposure and the attrition table of one outcome (suppressed), written as
    ``table_one_<outcome>.csv`` and ``attrition_<outcome>.csv``; a store that cannot support
    the outcome gives the reason instead."""
    from reawaken.epi.attrition import attrition
    from reawaken.epi.table_one import table_one

    try:
        one = table_one(store, exposure, outcome, min_cell=min_cell)
        steps = attrition(store, outcome, min_cell=min_cell)
    except InputError as exc:
        return {"refused": exc.reason}
    one.to_csv(folder / f"table_one_{outcome}.csv", index=False)
    steps.to_csv(folder / f"attrition_{outcome}.csv", index=False)
    return {
        "table_one": _records(pd.read_csv(folder / f"table_one_{outcome}.csv")),
        "attrition": _records(pd.read_csv(folder / f"attrition_{outcome}.csv")),
    }


TABLE_ONE_NAMES = {"stage": "stage", "age_band": "age band", "age": "age at diagnosis, years"}
"""The emulation's balance covariates and their names in Table 1."""


def balance_table(after: list[dict], descriptive: Mapping) -> pd.DataFrame:
    """The matched covariates' standardised mean differences after matching (the emulation's
    balance at time zero) beside the crude ones before matching (Table 1: persons with a
    recorded infection against those without)."""
    before = {}
    for row in descriptive.get("table_one", []):
        before[(row["variable"], row["level"])] = row.get("smd")
    rows = []
    for row in after:
        name = TABLE_ONE_NAMES.get(row["covariate"], row["covariate"])
        level = row.get("level")
        label = name if level is None else f"{name}: {level}"
        rows.append(
            {
                "covariate": row["covariate"],
                "level": level,
                "label": label,
                "smd_before": before.get((name, level)),
                "smd_after": row["smd"],
            }
        )
    return pd.DataFrame(rows, columns=["covariate", "level", "label", "smd_before", "smd_after"])


def _balance_figure(table: pd.DataFrame, path: Path) -> None:
    from reawaken.plots import file_axes
    from reawaken.plots.balance import plot_balance

    ax = file_axes(6.5, 0.3 * len(table) + 1.6)
    plot_balance(table, ax=ax)
    ax.set_title("Covariate balance of the emulated trials")
    ax.figure.tight_layout()
    ax.figure.savefig(path)


# ---------------------------------------------------------------- bridge, population


def bridge_step(ctx: StepContext) -> dict:
    from reawaken.bridge.run import BridgeSettings, run_bridge, write_bridge

    b = ctx.config["bridge"]
    settings = BridgeSettings(
        draws=b["draws"],
        seed=ctx.config["study"]["seed"],
        cohort_size=b["cohort_size"],
        bootstrap=50,
        calibrate=b["calibrate"],
        min_cell=ctx.config["study"]["min_cell"],
    )
    result, daily = run_bridge(settings)
    write_bridge(result, daily, ctx.folder)
    return {
        "hr_by_window": _records(result.hr_by_window),
        "studies": _records(result.studies),
        "calibration": json.loads(json.dumps(result.record["calibration"], default=str)),
        "figure": "bridge.png",
    }


def population_step(ctx: StepContext) -> dict:
    from reawaken.population.outputs import write_population
    from reawaken.population.run import PopulationSettings, run_population

    p = ctx.config["population"]
    settings = PopulationSettings(
        p["survivors"], p["years"], p["draws"], ctx.config["study"]["seed"]
    )
    result = run_population(settings, p["scenarios"])
    write_population(result, ctx.folder)
    min_cell = ctx.config["study"]["min_cell"]
    for name in ("scenarios.csv", "per_year.csv"):
        table = suppress_simulated(pd.read_csv(ctx.folder / name), min_cell)
        table.to_csv(ctx.folder / name, index=False)
    table = pd.read_csv(ctx.folder / "scenarios.csv")
    return {"scenarios": _records(table), "figure": "population.png"}


SIMULATED_COUNTS = frozenset(
    {
        "infections",
        "treated",
        "lung_metastases",
        "excess_lung_metastases",
        "prevented_lung_metastases",
        "cancer_deaths",
        "excess_cancer_deaths",
        "prevented_cancer_deaths",
    }
)


def suppress_simulated(table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Counts of virtual persons from 1 to ``min_cell - 1`` (and their intervals) left empty,
    as the study's files show no count under the threshold. They are not patient data, so
    nothing more is hidden (a difference of two shown counts may give one back)."""
    table = table.copy()
    counts = table["measure"].isin(SIMULATED_COUNTS)
    small = counts & table["value"].abs().between(0, min_cell, inclusive="neither")
    table.loc[small, ["value", "lower", "upper"]] = np.nan
    for column in ("lower", "upper"):
        tiny = counts & table[column].abs().between(0, min_cell, inclusive="neither")
        table.loc[tiny, column] = np.nan
    return table


# ---------------------------------------------------------------- the plan


def study_steps(config: Mapping) -> list[Step]:
    """The steps the configuration asks for, in the order they run."""

    def mouse(*keys: str):
        return lambda c: {"seed": c["study"]["seed"], **{k: c["mouse"][k] for k in keys}}

    steps = [
        Step("mouse", "mouse-lung arms and claims", mouse_step, mouse("protocol")),
        Step(
            "ensemble",
            f"mouse-lung ensemble (n = {config['mouse']['ensemble']} per arm)",
            ensemble_step,
            mouse("protocol", "ensemble", "cv"),
        ),
        Step(
            "lesions",
            "stochastic lesion probabilities",
            lesions_step,
            mouse("protocol", "lesion_arm", "lesion_replicates", "lesion_days"),
        ),
    ]
    data = config["data"]

    def estimate(c):
        return {
            "estimate": c["estimate"],
            "seed": c["study"]["seed"],
            "min_cell": c["study"]["min_cell"],
        }

    if data["db"] or data["sources"]:
        steps.append(
            Step(
                "store",
                "cohort store",
                store_step,
                lambda c: {"data": c["data"], "min_cell": c["study"]["min_cell"]},
                inputs=lambda c: (
                    [Path(c["data"]["db"])]
                    if c["data"]["db"]
                    else [Path(s["path"]) for s in c["data"]["sources"]]
                ),
            )
        )
        steps.append(
            Step(
                "estimates_store",
                "designs on the cohort store",
                estimates_step("store"),
                estimate,
                depends=("store",),
            )
        )
    else:
        for like in ("flatiron", "ukb"):
            if config["cohorts"][like] <= 0:
                continue
            name = f"cohort_{like}"
            steps.append(
                Step(
                    name,
                    f"synthetic {like} cohort",
                    cohort_step(like),
                    lambda c, like=like: {
                        "n": c["cohorts"][like],
                        "seed": c["study"]["seed"],
                        "planted": PLANTED[like],
                        "calendar": CALENDAR_EFFECT,
                        "min_cell": c["study"]["min_cell"],
                    },
                )
            )
            steps.append(
                Step(
                    f"estimates_{like}",
                    f"designs on the {like} cohort",
                    estimates_step(name),
                    estimate,
                    depends=(name,),
                )
            )
    if config["bridge"]["enabled"]:
        steps.append(
            Step(
                "bridge",
                "bridge: kernel, calibration, studies reproduced",
                bridge_step,
                lambda c: {"bridge": c["bridge"], "seed": c["study"]["seed"]},
            )
        )
    if config["population"]["enabled"]:
        steps.append(
            Step(
                "population",
                "population: prevention scenarios",
                population_step,
                lambda c: {"population": c["population"], "seed": c["study"]["seed"]},
            )
        )
    return steps
