"""Every design of ``reawaken estimate`` recovers the effect planted by the synthetic generator.

The generator multiplies the relapse hazard by 2 on days 0-90 and by 1.5 on days 91-364 after
the most recent influenza or SARS-CoV-2 infection (``truth.json``: ``infection_effect``). Cohorts
go through the whole pipeline (simulate, write the Flatiron or UK Biobank files, import into a
store) and each design runs through :func:`reawaken.epi.run_design`, as ``reawaken estimate``
runs it. The true value of each design's estimand under the generator, and why, is in
``benchmarks/recovery_designs.py`` (its docstring); the benchmark prints bias, Monte Carlo error
and coverage over many replicates.

The fast tests use one cohort per layout: every estimate with a true value must lie within
three of its own standard errors of it (on the log scale; 99.7% for one estimate, about 95%
for the family), which a method off by a third of the effect fails; the wrong analyses below
do fail it. The slow test runs replicates and asks the replicate mean to lie within three Monte
Carlo standard errors of the truth (``REAWAKEN_RECOVERY_REPLICATES``, default 8, sets their
number), printing coverage.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.epi import run_design
from reawaken.errors import ConvergenceWarning, InputError

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "recovery_designs.py"
_spec = importlib.util.spec_from_file_location("recovery_designs", _BENCH)
rd = importlib.util.module_from_spec(_spec)
sys.modules["recovery_designs"] = rd
_spec.loader.exec_module(rd)

SIZES = {"flatiron": 20000, "ukb": 40000}  # UK Biobank: exposed only from 2020 (SARS-CoV-2)
SEEDS = {"flatiron": 2024, "ukb": 2025}
Z_LIMIT = 3.0
RECOVERED = ("cox", "competing", "sccs-event-dependent", "sccs-independent", "emulation")


def _z(rows: pd.DataFrame) -> pd.Series:
    """Distance of each estimate from its truth in its own standard errors (log scale)."""
    return (rows["coef"] - np.log(rows["truth"])) / rows["se"]


def _ignore_balance_warning() -> None:
    """balance.py takes the square root of a rounding-negative variance when a matching
    covariate has one level (UK Biobank: stage unknown for all): a RuntimeWarning, not ours."""
    warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)


@pytest.fixture(scope="module", params=list(SIZES))
def layout(request, tmp_path_factory) -> dict:
    """One cohort per layout and generator variant, every scenario's estimates on it."""
    like = request.param
    folder = tmp_path_factory.mktemp(like)
    out: dict = {"like": like, "stores": {}, "estimates": {}, "scenarios": {}}
    for name in rd.SCENARIOS:
        sc = rd.scenario(name, like, bootstrap=50, truth_n=50_000)
        if sc.variant not in out["stores"]:
            where = folder / sc.variant
            where.mkdir()
            out["stores"][sc.variant] = rd.build_store(
                SIZES[like], SEEDS[like], like, sc.params, where
            )
        out["scenarios"][name] = sc
        with warnings.catch_warnings():
            _ignore_balance_warning()
            out["estimates"][name] = rd.estimates(sc, out["stores"][sc.variant], SEEDS[like])
    return out


AUXILIARY = ("risk_exposed", "risk_unexposed", "age[")
"""Keys reported beside the estimands but judged elsewhere: the emulation's risks (in
:func:`test_emulation_risks_recovered`) and the case series' time-since-diagnosis terms, which
are biased downwards wherever the outcome is a first relapse that is not rare (the time after a
case's relapse counts as at risk though no first relapse can follow; late groups hold more of
it: on Flatiron 0.74 and 0.53 against 0.8 and 0.667 over 8 replicates, benchmark)."""

KNOWN_MISSES = {
    ("ukb", "sccs-event-dependent"): (
        "a first relapse is not rare over the UK Biobank's 12-16 years of observation, and its "
        "exposures (SARS-CoV-2, 2020-2022) fall at the end of observation, mostly after the "
        "cases' event: the case series counts that post-event time as at risk, so the relative "
        "incidence is biased towards 1 (see benchmarks/recovery_designs.py)"
    ),
}
"""Designs and layouts whose estimates miss the planted truth, and why (reported, not hidden:
the tolerance stays; the test xfails only while the miss is there)."""


@pytest.mark.parametrize("name", RECOVERED)
def test_planted_effect_recovered(layout, name):
    try:
        _check_recovered(layout, name)
    except AssertionError:
        if (layout["like"], name) in KNOWN_MISSES:
            pytest.xfail(KNOWN_MISSES[layout["like"], name])
        raise


def _check_recovered(layout: dict, name: str) -> None:
    est = layout["estimates"][name]
    if name == "sccs-independent" and (est["key"] == "(refused)").any():
        # the UK Biobank cases die of other causes (old, long follow-up): the design's check
        # counts every death as an end of observation that may depend on the event
        assert "observation ended early" in est["refused"].iloc[0]
        return
    rows = est[est["truth"].notna() & ~est["key"].str.startswith(AUXILIARY)]
    assert len(rows) >= 2, est
    z = _z(rows)
    assert (z.abs() <= Z_LIMIT).all(), rows.assign(z=z)
    # the first window's effect is detected: a method finding no effect would fail
    first = rows.iloc[0]
    assert abs(first["coef"]) / first["se"] > Z_LIMIT, first


def test_competing_outcome_is_the_cox_model(layout):
    """The competing design's outcome model is the Cox design's, estimate for estimate."""
    cox, comp = layout["estimates"]["cox"], layout["estimates"]["competing"]
    outcome = comp[~comp["key"].str.startswith("competing ")]
    assert outcome["ratio"].to_numpy() == pytest.approx(cox["ratio"].to_numpy(), rel=1e-12)
    assert comp["key"].str.startswith("competing ").sum() == 3


def test_emulation_risks_recovered(layout):
    """The risks of each arm, not only their ratio, against the counterfactual truth (within
    three bootstrap standard errors of the risk, from the risk ratio's interval width)."""
    est = layout["estimates"]["emulation"]
    risks = est[est["key"].str.startswith(("risk_exposed", "risk_unexposed"))].set_index("key")
    ratios = est[est["key"].str.startswith("risk_ratio")]
    for row in ratios.itertuples(index=False):
        day = row.key.removeprefix("risk_ratio_")
        for arm in ("exposed", "unexposed"):
            risk = risks.loc[f"risk_{arm}_{day}"]
            # the log risk ratio's SE bounds each arm's relative SE from above
            assert abs(math.log(risk["ratio"] / risk["truth"])) <= Z_LIMIT * row.se, (arm, day)


def test_wrong_analysis_is_caught(layout):
    """Ignoring the windows (one window 0-364 for the first year after an infection) gives an
    estimate that the recovery criterion rejects against the planted first-window ratio."""
    sc = layout["scenarios"]["cox"]
    store = layout["stores"][sc.variant]
    wrong = rd.estimates(sc, store, SEEDS[layout["like"]], windows="0-364,>364")
    first = wrong.iloc[0]
    assert first["key"] == "0-364"
    z = (first["coef"] - math.log(2.0)) / first["se"]
    assert z < -Z_LIMIT, wrong


def test_sccs_refused_where_the_outcome_ends_observation(layout):
    """Under the default parameters cancer death follows a relapse, so the end of observation
    depends on the event: the standard case series is refused there (with the extension as
    the remedy), where run anyway it misses the planted values (see the benchmark)."""
    est = layout["estimates"]["sccs"]
    assert list(est["key"]) == ["(refused)"], est
    assert "event-dependent observation periods" in est["refused"].iloc[0]


def test_emulation_truth_matches_the_generator():
    """The counterfactual truth's infected arm equals what the generator's own draws give:
    the share of cases relapsing by day 91, 183, 365 after infection (cases followed that long
    before the data end, no loss), within three binomial standard errors."""
    from reawaken.cohort.sources.synthetic import day
    from reawaken.cohort.synth import simulate

    like = "flatiron"
    p = rd.planted_params(like)
    p["loss_to_follow_up"][like] = rd.NO_LOSS
    cohort = simulate(60000, 99, like, p)
    people = cohort.people.set_index("pid")
    inf = cohort.infections[cohort.infections["pathogen"].isin(p["infection_effect"]["pathogens"])]
    inf = inf.sort_values(["pid", "day"], kind="stable")
    first = inf.groupby("pid")["day"].min().reindex(people.index).to_numpy(dtype=float)
    start = np.maximum(people["entry"], people["dx"]).to_numpy()
    exit_ = np.where(people["relapse"] >= 0, people["relapse"], people["end"])
    full = first + 365 <= day(p["data_end"]["value"])
    case = np.isfinite(first) & (first >= start) & (first <= exit_) & full
    cases = people[case].assign(t0=first[case])
    computed = rd._case_risks(cases, inf, cohort.vaccinations, p, 365, True)
    relapse = cases["relapse"].to_numpy()
    death = np.where(cases["death"] >= 0, cases["death"], np.inf)
    for d in (91, 183, 365):
        drawn = (relapse >= 0) & (relapse <= cases["t0"] + d - 1) & ~(death < relapse)
        se = math.sqrt(drawn.mean() * (1 - drawn.mean()) / len(drawn))
        assert abs(drawn.mean() - computed[:, d - 1].mean()) <= Z_LIMIT * se, d


@pytest.mark.slow
def test_replicates_recover_the_truth(capsys):
    replicates = int(os.environ.get("REAWAKEN_RECOVERY_REPLICATES", "8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _ignore_balance_warning()
        results = rd.run(
            ["cox", "sccs-event-dependent", "emulation"],
            list(SIZES),
            replicates=replicates,
            n={"flatiron": 20000, "ukb": 40000},
            seed=7,
            bootstrap=50,
            truth_n=50_000,
            log=lambda line: None,
        )
    table = rd.summarise(results)
    with capsys.disabled():
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    judged = table[table["truth"].notna() & ~table["key"].str.startswith(AUXILIARY)]
    missed = [(like, name) in KNOWN_MISSES for like, name in judged[["layout", "scenario"]].values]
    judged = judged[~np.array(missed)]  # reported in the table above, and by the fast test
    assert len(judged) == (3 + 2 + 3) + (3 + 3)
    assert (judged["bias_in_se"].abs() <= Z_LIMIT).all(), judged


def test_run_design_is_what_is_tested(layout):
    """The estimates tested are run_design's, unchanged (the helper only selects rows)."""
    sc = layout["scenarios"]["cox"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        direct = run_design(
            layout["stores"][sc.variant],
            "cox",
            outcome="distant_metastasis",
            exposure="any",
            **sc.options,
        ).estimates
    exposure = direct[direct["kind"] == "exposure"]
    tested = layout["estimates"]["cox"]
    assert list(tested["key"]) == list(exposure["window"])
    assert tested["ratio"].to_numpy() == pytest.approx(exposure["ratio"].to_numpy(), rel=1e-15)


def test_unknown_scenario_is_refused():
    with pytest.raises(InputError, match="unknown scenario"):
        rd.scenario("cohort", "flatiron")


def test_emulation_fine_gray_lies_between_the_planted_ratios(layout):
    """The emulation's subdistribution hazard ratio over its year averages the planted 2 (days
    0-90) and 1.5 (91-364) on the cause-specific hazard; with a few percent of competing deaths
    in a year the subdistribution ratio is close to it: its interval meets [1.5, 2] and it is
    detected (a model ignoring the matching weights or the clusters still would; one on the
    wrong arm or the competing event would not)."""
    from reawaken.epi.designs.emulation import FINE_GRAY_TERM

    est = layout["estimates"]["emulation"]
    row = est[est["key"] == FINE_GRAY_TERM]
    assert len(row) == 1, est["key"].tolist()
    row = row.iloc[0]
    assert row["ci_lower"] <= 2.0 and row["ci_upper"] >= 1.5, row
    assert row["coef"] / row["se"] > Z_LIMIT, row
