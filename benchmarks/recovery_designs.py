"""Recovery of the planted infection effect by every design of ``reawaken estimate``.

Each replicate simulates a cohort with the synthetic generator (``reawaken.cohort.synth``),
writes it in a source's layout, imports it into a cohort store and runs a design through
:func:`reawaken.epi.run_design` (what ``reawaken estimate`` runs), with the outcome
``distant_metastasis`` (or ``--outcome lung_metastasis``) and the exposure ``any``. Printed per
design, layout and term: the true value, the mean estimate, the bias of the log ratio with its
Monte Carlo standard error, and the coverage of the 95% intervals.

What each design estimates, and its true value under the generator (``truth.json``:
``infection_effect``, relapse hazard x2 on days 0-90 and x1.5 on days 91-364 after the most
recent influenza or SARS-CoV-2 infection, x1 later; a first metastasis is in the lung with a
fixed probability, independent of everything else):

- ``cox`` (windows 0-90, 91-364, >364): the hazard ratio per window, planted: 2, 1.5, 1. On the
  diagnosis time scale the model is the generator's (stage-specific hazard times a step function
  of days since diagnosis times the infection step function), so the truth is exact; for
  ``lung_metastasis`` the cause-specific hazard is the relapse hazard times the lung share, so
  the ratios are the same.
- ``competing``: the cause-specific hazard ratios of the outcome (as ``cox``). The competing
  event's ratios have no single true value (COVID-19 deaths follow SARS-CoV-2 infections within
  7-28 days, so death's hazard ratio depends on age, vaccination and the pathogen); they are
  printed with the truth blank. The design fits no subdistribution (Fine-Gray) model.
- ``sccs`` (risk windows 0-90, 91-364): the relative incidence per window, planted 2 and 1.5,
  and the time-since-diagnosis groups (from day 731 and 1827) against the first: the
  generator's multipliers 1.2 / 1.5 = 0.8 and 1 / 1.5 = 0.667 -- where the case series'
  assumptions hold. Under the default parameters cancer death follows a relapse (0.25 a year),
  so the end of observation depends on the event: scenario ``sccs`` shows what the design does
  there (it should refuse), ``sccs-event-dependent`` runs the design's extension for
  event-dependent observation periods (deaths as the censoring indicator) on the same data, and
  ``sccs-independent`` removes cancer death after relapse
  (``cancer_death_after_relapse.annual_hazard`` near 0), where the end of observation no longer
  depends on the event. The outcome is a first relapse (not recurrent) and not rare over long
  follow-up, so even there the standard case series is only approximately right.
- ``emulation``: the risk ratio at 91, 183 and 365 days after infection, "infected today" (then
  the natural course, including later infections and COVID-19 deaths) against "not infected
  during follow-up", in the infected persons of the matched trials, with death as a competing
  event and without censoring. Its true value is computed from the generator's own hazards
  (:func:`emulation_truth`): a large cohort is simulated with no loss to follow-up; every person
  whose first infection falls on a day ``T`` at which they are at risk is a case, weighted by
  the chance of not being lost before ``T``; each case's cumulative incidence of relapse by day
  is computed exactly (day by day) from its stage, days since diagnosis and the infections it
  has from ``T`` on (regime "infected") or none (regime "not infected"), with death from other
  causes (Gompertz) and from COVID-19 (each SARS-CoV-2 infection's probability, spread over days
  7-28) competing; the truths are the averages over the cases.

Every infection is recorded (full ascertainment): with the generator's default ascertainment,
unrecorded infections, which raise the hazard too, sit in the reference time and dilute every
design towards 1 by design. The UK Biobank layout records SARS-CoV-2 tests only (no
influenza), so on it the effect is planted on SARS-CoV-2 alone (otherwise its influenza
infections, never recorded, dilute the estimates the same way; ``--ukb-influenza`` keeps the
default and shows by how much).

    python benchmarks/recovery_designs.py --replicates 50 --n 20000
    python benchmarks/recovery_designs.py --designs emulation --layouts flatiron --replicates 20
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth import load_params, simulate
from reawaken.cohort.synth_layouts import write_cohort
from reawaken.epi import run_design
from reawaken.epi.emulation import RISK_DAYS
from reawaken.epi.intervals import window_label
from reawaken.errors import ConvergenceWarning, InputError

LAYOUTS = ("flatiron", "ukb", "omop")
SCENARIOS = ("cox", "competing", "sccs", "sccs-event-dependent", "sccs-independent", "emulation")
FULL_ASCERTAINMENT = {
    "sars-cov-2": [{"from": "1900-01-01", "to": "2100-01-01", "p": 1.0}],
    "influenza": 1.0,
}
UKB_RECORDED = ["sars-cov-2"]  # the UK Biobank layout writes SARS-CoV-2 test results only
NO_CANCER_DEATH = 1e-9  # per year: relapse no longer shortens observation
NO_LOSS = 1e-12  # per year: the truth cohort of the emulation is followed to the data end
ROW_COLUMNS = ["key", "truth", "ratio", "coef", "se", "ci_lower", "ci_upper", "events", "seed"]
COVID_DELAYS = np.arange(7, 29)  # days from infection to a COVID-19 death (synth.simulate)


def planted_params(like: str, *, ukb_influenza: bool = False, sccs_independent: bool = False):
    """Generator parameters of the recovery runs: full ascertainment; on the UK Biobank layout
    the effect planted on SARS-CoV-2 alone (unless ``ukb_influenza``); with
    ``sccs_independent`` no cancer death after relapse."""
    params = load_params()
    params["ascertainment"].update(copy.deepcopy(FULL_ASCERTAINMENT))
    if like == "ukb" and not ukb_influenza:
        params["infection_effect"]["pathogens"] = list(UKB_RECORDED)
    if sccs_independent:
        params["cancer_death_after_relapse"]["annual_hazard"] = NO_CANCER_DEATH
    return params


def planted_windows(params: dict) -> tuple[list[tuple[float, float]], list[float]]:
    """Whole-day windows (days since the infection day) and the planted hazard ratios: the
    generator's ``[start_day, end_day)`` holds days ``start_day .. end_day - 1``, then the rest."""
    eff = params["infection_effect"]
    windows = [(float(w["start_day"]), float(w["end_day"] - 1)) for w in eff["windows"]]
    ratios = [float(w["ratio"]) for w in eff["windows"]]
    windows.append((windows[-1][1] + 1, math.inf))
    ratios.append(float(eff["ratio_after"]))
    return windows, ratios


def windows_text(windows: Sequence[tuple[float, float]]) -> str:
    return ",".join(window_label(w) for w in windows)


def _step(days: np.ndarray, steps: list[dict], after: float) -> np.ndarray:
    """The generator's step function: ``ratio`` on ``[start_day, end_day)``, else ``after``."""
    out = np.full(np.shape(days), float(after))
    for w in steps:
        out[(days >= w["start_day"]) & (days < w["end_day"])] = w["ratio"]
    return out


def sccs_truth(params: dict) -> dict[str, float]:
    """True relative incidences of the case series' risk windows (the planted windows with an
    end); the time-since-diagnosis groups' are :func:`age_group_truth`."""
    windows, ratios = planted_windows(params)
    return {window_label(w): r for w, r in zip(windows, ratios, strict=True) if w[1] < math.inf}


def age_group_truth(term: str, params: dict) -> float:
    """True relative incidence of a time-since-diagnosis group ``age[a,b]`` or ``age[a,)``
    against the first group: the generator's multiplier on day ``a`` over that on day 0."""
    steps = params["relapse"]["multiplier_by_days_since_diagnosis"]
    start = float(term.removeprefix("age[").split(",")[0])
    return float(_step(np.array([start]), steps, 1.0)[0] / _step(np.array([0.0]), steps, 1.0)[0])


# ----- the emulation's truth, from the generator's hazards -----------------------------------


def emulation_truth(
    like: str,
    params: dict,
    *,
    n: int = 200_000,
    seed: int = 987_654,
    days: Sequence[int] = RISK_DAYS,
    chunk: int = 4000,
) -> pd.DataFrame:
    """True risks of relapse ``days`` after infection, infected against not infected, in the
    emulation's cases (see the module docstring): columns ``day, risk_exposed,
    risk_unexposed, risk_ratio, cases``."""
    horizon = max(days)
    p = copy.deepcopy(params)
    loss = p["loss_to_follow_up"][like] / 365.25
    p["loss_to_follow_up"][like] = NO_LOSS
    cohort = simulate(n, seed, like, p)
    people = cohort.people.set_index("pid")
    planted = p["infection_effect"]["pathogens"]
    inf = cohort.infections[cohort.infections["pathogen"].isin(planted)]
    inf = inf.sort_values(["pid", "day"], kind="stable")
    first = inf.groupby("pid")["day"].min()
    start = np.maximum(people["entry"], people["dx"])
    exit_ = np.where(people["relapse"] >= 0, people["relapse"], people["end"])
    t0 = first.reindex(people.index).to_numpy(dtype=float)
    is_case = np.isfinite(t0) & (t0 >= start) & (t0 <= exit_)
    cases = people[is_case].assign(t0=t0[is_case], start=start[is_case])
    weight = np.exp(-loss * (cases["t0"] - cases["start"]).to_numpy())
    risk = {"infected": np.zeros(horizon), "not infected": np.zeros(horizon)}
    for lo in range(0, len(cases), chunk):
        part = cases.iloc[lo : lo + chunk]
        for regime in risk:
            cif = _case_risks(part, inf, cohort.vaccinations, p, horizon, regime == "infected")
            risk[regime] += weight[lo : lo + chunk] @ cif
    total = weight.sum()
    at = np.asarray(days) - 1  # day T is day 1
    exposed, unexposed = risk["infected"][at] / total, risk["not infected"][at] / total
    return pd.DataFrame(
        {
            "day": list(days),
            "risk_exposed": exposed,
            "risk_unexposed": unexposed,
            "risk_ratio": exposed / unexposed,
            "cases": len(cases),
        }
    )


def _case_risks(
    cases: pd.DataFrame,
    inf: pd.DataFrame,
    vac: pd.DataFrame,
    p: dict,
    horizon: int,
    infected: bool,
) -> np.ndarray:
    """Cumulative incidence of relapse on days 1..horizon from each case's time zero (rows:
    cases), relapse on a death's day counting as relapse (as the person table does)."""
    pid = cases.index.to_numpy()
    t0 = cases["t0"].to_numpy(dtype=float)
    k = np.arange(horizon, dtype=float)
    t = t0[:, None] + k[None, :]  # calendar day of day k (its whole day [t, t + 1))
    rel = p["relapse"]
    base = cases["stage"].map(rel["annual_hazard_by_stage"]).to_numpy(dtype=float) / 365.25
    since_dx = t - cases["dx"].to_numpy(dtype=float)[:, None]
    hazard = base[:, None] * _step(since_dx, rel["multiplier_by_days_since_diagnosis"], 1.0)
    death_free = _other_death_free(cases, t, p)
    if infected:
        eff = p["infection_effect"]
        own = inf[inf["pid"].isin(pid)]
        keys = own["pid"].to_numpy(dtype=float) * 1e6 + own["day"].to_numpy(dtype=float)
        idx = np.searchsorted(keys, pid[:, None] * 1e6 + t, side="right") - 1
        since = t - own["day"].to_numpy(dtype=float)[idx]  # the case's own infection: t >= t0
        hazard = hazard * _step(since, eff["windows"], eff["ratio_after"])
        death_free = death_free * _covid_death_free(cases, own, vac, p, t)
    free = np.exp(-np.cumsum(hazard, axis=1) + hazard)  # relapse-free at the start of day k
    daily = free * -np.expm1(-hazard) * death_free
    return np.cumsum(daily, axis=1)


def _other_death_free(cases: pd.DataFrame, t: np.ndarray, p: dict) -> np.ndarray:
    """Chance of no death from other causes before day t, given alive on time zero
    (Gompertz hazard of age, as the generator draws it)."""
    g = p["other_death"]
    alpha, beta = g["log_rate_at_age_0"], g["per_year_of_age"]
    age = (t - cases["birth"].to_numpy(dtype=float)[:, None]) / 365.25
    cum = np.exp(alpha) / beta * np.exp(beta * age)
    return np.exp(-(cum - cum[:, :1]))


def _covid_death_free(
    cases: pd.DataFrame, own: pd.DataFrame, vac: pd.DataFrame, p: dict, t: np.ndarray
) -> np.ndarray:
    """Chance of no COVID-19 death before day t from the cases' SARS-CoV-2 infections on or
    after time zero (each kills with its age- and vaccine-dependent probability, on a day 7-28
    days after it, as the generator draws it)."""
    out = np.ones_like(t)
    row_of = pd.Series(np.arange(len(cases)), index=cases.index)
    sc = own[own["pathogen"] == "sars-cov-2"]
    sc = sc[sc["day"].to_numpy() >= cases["t0"].reindex(sc["pid"]).to_numpy()]
    if sc.empty:
        return out
    cd, cv = p["covid_death"], p["vaccination"]["sars-cov-2"]
    age = (sc["day"].to_numpy() - sc["birth"].to_numpy()) / 365.25
    ifr = np.minimum(cd["max"], cd["ifr_at_60"] * np.exp(cd["per_year_of_age"] * (age - 60)))
    doses = vac[vac["vaccine"] == "sars-cov-2"][["pid", "day"]]
    pairs = doses.merge(sc[["pid", "day"]].reset_index(), on="pid", suffixes=("_v", ""))
    lag = pairs["day"] - pairs["day_v"]
    pairs = pairs[(lag >= 14) & (lag <= cv["protection_days"])]
    protected = sc.index.isin(pairs["index"].unique())
    ifr = np.where(protected, ifr * cd["vaccinated_ratio"], ifr)
    rows = row_of.loc[sc["pid"]].to_numpy()
    for row, day, prob in zip(rows, sc["day"].to_numpy(), ifr, strict=True):
        before = (t[row][:, None] > day + COVID_DELAYS[None, :]).sum(axis=1)
        out[row] *= 1.0 - prob * before / len(COVID_DELAYS)
    return out


# ----- one replicate: cohort, store, design ---------------------------------------------------


@dataclass
class Scenario:
    """One design on one layout: its options for run_design and its true values by key."""

    design: str
    layout: str
    outcome: str
    params: dict
    options: dict
    truth: dict[str, float] = field(default_factory=dict)
    variant: str = "default"  # the generator's parameters (see VARIANTS)


def scenario(
    name: str,
    layout: str,
    *,
    outcome: str = "distant_metastasis",
    bootstrap: int = 100,
    truth_n: int = 200_000,
    ukb_influenza: bool = False,
) -> Scenario:
    """The design, options and true values of a scenario (see :data:`SCENARIOS`)."""
    independent = name == "sccs-independent"
    params = planted_params(layout, ukb_influenza=ukb_influenza, sccs_independent=independent)
    windows, ratios = planted_windows(params)
    design = "sccs" if independent else name
    if design in ("cox", "competing"):
        truth = {window_label(w): r for w, r in zip(windows, ratios, strict=True)}
        options = {"windows": windows_text(windows)}
    elif design in ("sccs", "sccs-event-dependent"):
        truth = sccs_truth(params)
        options = {"windows": windows_text([w for w in windows if w[1] < math.inf])}
        if design == "sccs-event-dependent":
            design, options["event_dependent"] = "sccs", True
    elif design == "emulation":
        table = emulation_truth(layout, params, n=truth_n)
        truth = {}
        for row in table.itertuples(index=False):
            truth[f"risk_ratio_{row.day}d"] = row.risk_ratio
            truth[f"risk_exposed_{row.day}d"] = row.risk_exposed
            truth[f"risk_unexposed_{row.day}d"] = row.risk_unexposed
        options = {"bootstrap": bootstrap}
    else:
        raise InputError(f"unknown scenario {name!r} (expected one of {', '.join(SCENARIOS)})")
    variant = "independent" if independent else "default"
    return Scenario(design, layout, outcome, params, options, truth, variant)


def build_store(n: int, seed: int, like: str, params: dict, folder: Path) -> CohortStore:
    """Simulate a cohort, write it in the layout ``like`` and import it into a new store."""
    cohort = simulate(n, seed, like, params)
    files = folder / f"files{seed}"
    truth = write_cohort(cohort, like, files, seed)
    store = CohortStore(folder / f"store{seed}.duckdb")
    store.import_source(like, files, **truth["import_options"])
    return store


def estimates(sc: Scenario, store: CohortStore, seed: int, **changes) -> pd.DataFrame:
    """The scenario's design run on ``store`` (``changes`` replace its options): one row per
    estimate with ``key`` (window, term or risk), ``truth``, ``seed`` and ``refused`` (the
    design's one-line refusal, when it refuses)."""
    options = {**sc.options, **changes}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = run_design(store, sc.design, outcome=sc.outcome, exposure="any", **options)
    except InputError as exc:
        refused = pd.DataFrame({"key": ["(refused)"], "seed": [seed], "refused": [str(exc)]})
        return refused.reindex(columns=[*ROW_COLUMNS, "refused"])
    est = result.estimates
    rows = est[(est["kind"] == "exposure") | (sc.design == "sccs")].copy()
    rows["key"] = np.where(rows["kind"] == "exposure", rows["window"], rows["term"])
    if sc.design == "emulation":
        rows["key"] = rows["term"]
        risks = []
        for arm in ("exposed", "unexposed"):
            at_day = est[est["term"].astype(str).str.startswith("risk_ratio")]
            part = at_day[["term", f"risk_{arm}"]].rename(columns={f"risk_{arm}": "ratio"})
            part["key"] = part["term"].str.replace("risk_ratio", f"risk_{arm}")
            risks.append(part)
        rows = pd.concat([rows, *risks], ignore_index=True)
    if sc.design == "competing":
        rows["key"] = np.where(rows["event"] == "outcome", rows["key"], "competing " + rows["key"])
    rows["truth"] = rows["key"].map(sc.truth)
    age = rows["key"].str.startswith("age[")
    rows.loc[age, "truth"] = [age_group_truth(k, sc.params) for k in rows.loc[age, "key"]]
    rows["seed"] = seed
    rows["refused"] = ""
    return rows.reindex(columns=[*ROW_COLUMNS, "refused"])


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per scenario, layout and key: truth, replicates, mean estimate (of the ratio, the
    exponentiated mean log), bias of the log ratio and its Monte Carlo SE, coverage of the 95%
    intervals and its Monte Carlo SE (for risks: mean risk, bias of the risk)."""
    rows = []
    for (name, layout, key), g in results.groupby(["scenario", "layout", "key"], sort=False):
        if key == "(refused)":
            rows.append({"scenario": name, "layout": layout, "key": key, "replicates": len(g)})
            continue
        g = g[np.isfinite(g["ratio"].astype(float))]
        n = len(g)
        truth = float(g["truth"].iloc[0]) if n else np.nan
        is_risk = key.startswith("risk_") and not key.startswith("risk_ratio")
        value = g["ratio"].astype(float) if is_risk else np.log(g["ratio"].astype(float))
        err = value - (truth if is_risk else math.log(truth) if truth > 0 else np.nan)
        covered = (g["ci_lower"] <= truth) & (truth <= g["ci_upper"])
        has_ci = g["ci_lower"].notna().any() and not is_risk and np.isfinite(truth)
        cov = float(covered.mean()) if has_ci and n else np.nan
        rows.append(
            {
                "scenario": name,
                "layout": layout,
                "key": key,
                "truth": truth,
                "replicates": n,
                "mean": float(value.mean()) if is_risk else float(np.exp(value.mean())),
                "bias": float(err.mean()),
                "bias_mc_se": float(err.std(ddof=1) / math.sqrt(n)) if n > 1 else np.nan,
                "bias_in_se": float(err.mean() / (err.std(ddof=1) / math.sqrt(n)))
                if n > 1
                else np.nan,
                "coverage": cov,
                "coverage_mc_se": math.sqrt(cov * (1 - cov) / n) if has_ci and n else np.nan,
                "mean_events": float(g["events"].astype(float).mean())
                if g["events"].notna().any()
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def run(
    names: Sequence[str],
    layouts: Sequence[str],
    *,
    replicates: int,
    n: int | dict[str, int],
    seed: int,
    outcome: str = "distant_metastasis",
    bootstrap: int = 100,
    truth_n: int = 200_000,
    ukb_influenza: bool = False,
    log=print,
) -> pd.DataFrame:
    """Every replicate of every scenario on every layout: the rows of :func:`estimates` with
    ``scenario`` and ``layout``; the stores are made once per layout, parameters and seed."""
    parts = []
    for layout in layouts:
        size = n[layout] if isinstance(n, dict) else n
        chosen = [
            scenario(
                name,
                layout,
                outcome=outcome,
                bootstrap=bootstrap,
                truth_n=truth_n,
                ukb_influenza=ukb_influenza,
            )
            for name in names
        ]
        t0 = time.perf_counter()
        for r in range(replicates):
            rep_seed = seed * 100_000 + r
            with tempfile.TemporaryDirectory() as tmp:
                stores: dict[str, CohortStore] = {}
                for name, sc in zip(names, chosen, strict=True):
                    if sc.variant not in stores:
                        folder = Path(tmp) / sc.variant
                        folder.mkdir()
                        stores[sc.variant] = build_store(size, rep_seed, layout, sc.params, folder)
                    part = estimates(sc, stores[sc.variant], rep_seed)
                    parts.append(part.assign(scenario=name, layout=layout))
            if (r + 1) % 10 == 0 or r + 1 == replicates:
                log(f"  {layout}: {r + 1} replicates, {time.perf_counter() - t0:.0f} s")
    return pd.concat(parts, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=50)
    parser.add_argument("--n", type=int, default=20000, help="persons per cohort (flatiron, omop)")
    parser.add_argument("--n-ukb", type=int, default=50000, help="persons per UK Biobank cohort")
    parser.add_argument("--designs", default=",".join(SCENARIOS))
    parser.add_argument("--layouts", default="flatiron,ukb")
    parser.add_argument("--outcome", default="distant_metastasis")
    parser.add_argument("--bootstrap", type=int, default=100, help="emulation's replicates")
    parser.add_argument("--truth-n", type=int, default=200_000, help="emulation's truth cohort")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ukb-influenza", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="CSV of every replicate's rows")
    args = parser.parse_args(argv)
    names = [s for s in args.designs.split(",") if s]
    layouts = [s for s in args.layouts.split(",") if s]
    shown = sys.argv[1:] if argv is None else argv
    print("command: python benchmarks/recovery_designs.py " + " ".join(shown), flush=True)
    t0 = time.perf_counter()
    sizes = {like: args.n_ukb if like == "ukb" else args.n for like in layouts}
    results = run(
        names,
        layouts,
        replicates=args.replicates,
        n=sizes,
        seed=args.seed,
        outcome=args.outcome,
        bootstrap=args.bootstrap,
        truth_n=args.truth_n,
        ukb_influenza=args.ukb_influenza,
    )
    if args.out is not None:
        results.to_csv(args.out, index=False)
    table = summarise(results)
    cohorts = ", ".join(f"{like} n={size}" for like, size in sizes.items())
    print(
        f"\n{args.replicates} replicates per layout ({cohorts}), outcome {args.outcome}, "
        "exposure any, every infection recorded:"
    )
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    refused = results[results["key"] == "(refused)"]
    for (name, layout), g in refused.groupby(["scenario", "layout"]):
        print(f"\n{name} on {layout} refused in {len(g)} replicates: {g['refused'].iloc[0]}")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
