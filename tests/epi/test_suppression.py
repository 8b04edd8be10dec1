"""Small counts cannot be read back from a run's files: the subtraction attacks.

Every design is run on small synthetic stores where windows with 1 to 9 events occur; an
attacker reads every file written (estimates.csv, counts.csv, cif.csv, fit.json) and tries
totals minus the parts shown, a rate (ratio times the reference rate) times person-time, a risk
times its denominator, and the steps of the cumulative incidence (against the true event counts
and times the persons at risk). None may give a count from 1 to 9. The fit commands' files are
attacked the same way.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_layouts import generate
from reawaken.epi import cohort_designs, run_design
from reawaken.epi.design import read_cohort
from reawaken.epi.designs.competing import CompetingSettings
from reawaken.errors import ConvergenceWarning
from reawaken.suppression import complement, is_small, shown_steps, suppress_note

MIN_CELL = 10


def _store(tmp: Path, like: str, n: int, seed: int) -> Path:
    truth = generate(like, n, seed, tmp / f"{like}_files")
    db = tmp / f"{like}.duckdb"
    CohortStore(db).import_source(like, tmp / f"{like}_files", **truth["import_options"])
    return db


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("stores")
    return {"flatiron": _store(tmp, "flatiron", 3000, 7), "ukb": _store(tmp, "ukb", 3000, 8)}


RUNS = {
    "cox": ("flatiron", {"outcome": "lung_metastasis", "exposure": "sars-cov-2"}),
    "sccs": (
        "flatiron",
        {"outcome": "distant_metastasis", "exposure": "any", "event_dependent": True},
    ),
    "emulation": (
        "flatiron",
        {"outcome": "lung_metastasis", "exposure": "any", "bootstrap": 10, "seed": 1},
    ),
    "competing": (
        "ukb",
        {"outcome": "lung_metastasis", "exposure": "sars-cov-2", "windows": "0-90,>90"},
    ),
}


def _small(value: float) -> bool:
    """A number that reads as a count from 1 to 9 (rounded)."""
    return bool(np.isfinite(value) and is_small(round(value), MIN_CELL))


def _numbers(value) -> list[tuple[str, float]]:
    """(key, number) for every count-like entry of fit.json, nested fits included."""
    keys = ("persons", "outcome_events", "competing_events", "matched_cases",
            "matched_controls", "events", "cases", "competing", "n")  # fmt: skip
    found = []
    for key, item in value.items():
        if isinstance(item, dict):
            found += [(f"{key}.{k}", v) for k, v in _numbers(item)]
        elif key in keys and isinstance(item, int) and not isinstance(item, bool):
            found.append((key, item))
    return found


def attacks(folder: Path, truth=None) -> list[str]:
    """Every count from 1 to 9 that the files in ``folder`` give, with how it was found.

    ``truth`` (the unsuppressed DesignResult) supplies the true cumulative event counts of
    the curves, to check that no two points shown are 1 to 9 events apart."""
    found = []
    fit = json.loads((folder / "fit.json").read_text())
    for key, value in _numbers(fit):
        if _small(value):
            found.append(f"fit.json {key} = {value}")
    for note in fit.get("notes", []):
        if note.split(" ")[0].isdigit() and _small(int(note.split(" ")[0])):
            found.append(f"note: {note}")
    persons, total = fit.get("persons"), fit.get("outcome_events")
    competing = fit.get("competing_events")
    if None not in (persons, total, competing) and _small(persons - total - competing):
        found.append(f"persons - outcome - competing = {persons - total - competing}")
    est = pd.read_csv(folder / "estimates.csv")
    counts = pd.read_csv(folder / "counts.csv")
    for name, table in (("estimates.csv", est), ("counts.csv", counts)):
        for column in ("events", "events_unexposed"):
            if column in table:
                small = table[column].dropna().map(_small)
                found += [f"{name} {column} = {v}" for v in table[column].dropna()[small]]
    # totals minus the parts shown
    if total is not None and counts["events"].sum() <= total and fit["design"] != "emulation":
        rest = total - counts["events"].sum()
        if counts["events"].isna().any() and _small(rest):
            found.append(f"outcome_events - shown windows = {rest}")
    rows = est[(est["event"] == "competing") & (est["kind"] == "exposure")]
    if competing is not None and len(rows) and rows["events"].isna().any():
        rest = competing - rows["events"].sum()
        if _small(rest):
            found.append(f"competing_events - shown competing windows = {rest}")
    # a rate (the ratio times the reference rate) times the window's person-time
    if "none" in set(counts["window"]) and counts["events"].notna().iloc[0]:
        ref = counts.iloc[0]
        rate = ref["events"] / ref["person_years"]
        py = counts.set_index("window")["person_years"]
        for row in est[(est["kind"] == "exposure") & (est["event"] == "outcome")].itertuples():
            if pd.isna(row.events) and row.window in py and np.isfinite(row.ratio):
                derived = row.ratio * rate * py[row.window]
                if _small(derived):
                    found.append(f"ratio x rate x person-years of {row.window} = {derived:.2f}")
    # standard errors: a window's estimate shown where its events are hidden
    hidden = est[est["events"].isna() & (est["kind"] == "exposure")] if "events" in est else est[:0]
    for row in hidden.itertuples():
        if np.isfinite(row.se) and row.se > 0:
            found.append(f"estimate of {row.window} shown with its events hidden (se {row.se:.3g})")
    # risks times their denominators
    if "risk_exposed" in est:
        for arm, denominator, events in (
            ("risk_exposed", fit.get("matched_cases"), "events"),
            ("risk_unexposed", fit.get("matched_controls"), "events_unexposed"),
        ):
            for row in est[[arm, events]].itertuples(index=False):
                risk, count = row
                if np.isfinite(risk) and pd.isna(count) and denominator is not None:
                    if _small(risk * denominator):
                        found.append(f"{arm} x {denominator} = {risk * denominator:.2f}")
    # steps of the cumulative incidence
    if (folder / "cif.csv").exists():
        found += _curve_attacks(pd.read_csv(folder / "cif.csv"), fit, truth)
    return found


def _curve_attacks(curves: pd.DataFrame, fit: dict, truth) -> list[str]:
    found = []
    time = "day" if "day" in curves else "time"
    denominators = {"infected": fit.get("matched_cases"),
                    "not infected": fit.get("matched_controls")}  # fmt: skip
    for arm, rows in curves.groupby("arm", sort=False):
        rows = rows[rows["cif"].notna()].sort_values(time)
        n = denominators.get(arm, fit.get("persons"))
        steps = np.diff(np.concatenate([[0.0], rows["cif"].to_numpy()])) * (n or 0)
        found += [f"cif step of {arm} x {n} = {s:.2f}" for s in steps if _small(s)]
        if truth is not None and hasattr(truth.fits["outcome"], "matched"):
            cum = _true_events(truth, arm, rows[time].to_numpy())
            gaps = np.diff(np.concatenate([[0], cum]))
            found += [f"{g} events between cif rows of {arm}" for g in gaps if is_small(g, 10)]
    return found


def _true_events(truth, arm: str, days: np.ndarray) -> np.ndarray:
    """The true events of a curve up to each day (the emulation's arms)."""
    m = truth.fits["outcome"].matched
    rows = m[(m["arm"] == (1 if arm == "infected" else 0)) & (m["status"] == 1)]
    return np.array([(rows["time"] <= d).sum() for d in days])


def _estimate(db: Path, out: Path, design: str, options: dict, *extra: str) -> None:
    flag = {k: "--" + k.replace("_", "-") for k in options}
    args = [flag[k] if v is True else f"{flag[k]}={v}" for k, v in options.items()]
    assert main(["estimate", "--db", str(db), "--out", str(out), "--design", design,
                 *args, *extra]) == 0  # fmt: skip


@pytest.mark.parametrize("design", list(RUNS))
def test_no_small_count_can_be_derived_from_a_designs_files(stores, tmp_path, design):
    like, options = RUNS[design]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        truth = run_design(CohortStore(stores[like]), design, **options)
    _estimate(stores[like], tmp_path / "all", design, options, "--min-cell", "0")
    # the attacks find the small counts when nothing is hidden: the store has them
    assert attacks(tmp_path / "all", truth)
    _estimate(stores[like], tmp_path / "out", design, options)
    assert attacks(tmp_path / "out", truth) == []


def test_the_attacks_of_the_finding_are_closed(stores, tmp_path):
    """Cox: fit.json's total minus the windows shown; emulation: risk x matched cases and the
    steps of cif.csv by day 91."""
    like, options = RUNS["cox"]
    _estimate(stores[like], tmp_path / "cox", "cox", options)
    fit = json.loads((tmp_path / "cox" / "fit.json").read_text())
    counts = pd.read_csv(tmp_path / "cox" / "counts.csv")
    assert counts["events"].isna().sum() >= 2
    rest = fit["outcome_events"] - counts["events"].sum()
    assert rest == 0 or rest >= MIN_CELL
    like, options = RUNS["emulation"]
    _estimate(stores[like], tmp_path / "em", "emulation", options)
    est = pd.read_csv(tmp_path / "em" / "estimates.csv")
    hidden = est[est["events"].isna()]
    assert len(hidden) and hidden["risk_exposed"].isna().all() and hidden["ratio"].isna().all()
    curves = pd.read_csv(tmp_path / "em" / "cif.csv")
    infected = curves[(curves["arm"] == "infected") & curves["cif"].notna()]
    assert (infected.loc[infected["day"] <= 91, "cif"] == 0).all()


def test_curves_with_event_counts_are_coarsened_and_name_the_competing_event(stores, tmp_path):
    """A cumulative incidence table that carries its event counts is written at the times
    where at least 10 events (or none) accrued since the last time shown; the competing event
    of lung metastasis is named for what it is."""
    store = CohortStore(stores["ukb"])
    settings = CompetingSettings(outcome="lung_metastasis", exposure="sars-cov-2",
                                 windows="0-90,>90")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = run_design(store, "competing", settings)
    cr = cohort_designs.competing_data(read_cohort(store, settings).persons)
    curves = result.curves.assign(
        events=cohort_designs.events_by_time(
            cr["time"], cr["event"], result.curves["day"], result.curves["cause"]
        )
    )
    result = dataclasses.replace(result, curves=curves)
    result.write(tmp_path / "cr")
    written = pd.read_csv(tmp_path / "cr" / "cif.csv")
    assert "events" not in written
    assert set(written["arm"]) == {"lung_metastasis", "metastasis elsewhere or death"}
    assert 0 < len(written) < len(curves)
    for cause, rows in written.groupby("cause"):
        full = curves[curves["cause"] == cause].set_index("day")["events"]
        cum = full[rows["day"]].to_numpy()
        gaps = np.diff(np.concatenate([[0], cum, [full.iloc[-1]]]))
        assert not is_small(gaps, MIN_CELL).any(), (cause, gaps)
    assert attacks(tmp_path / "cr") == []
    fit = json.loads((tmp_path / "cr" / "fit.json").read_text())
    assert fit["outcome_events"] == (cr["event"] == 1).sum()
    assert (tmp_path / "cr" / "cif.png").exists()


def test_the_competing_design_writes_its_curves_coarsened(stores, tmp_path):
    """The design's curves carry their event counts: cif.csv and cif.png are written, only at
    times where at least 10 events (or none) accrued since the last time shown."""
    like, options = RUNS["competing"]
    _estimate(stores[like], tmp_path / "cr", "competing", options)
    written = pd.read_csv(tmp_path / "cr" / "cif.csv")
    assert (tmp_path / "cr" / "cif.png").exists() and "events" not in written
    assert set(written["arm"]) == {"lung_metastasis", "metastasis elsewhere or death"}
    store = CohortStore(stores[like])
    cr = cohort_designs.competing_data(read_cohort(store, CompetingSettings(**options)).persons)
    for cause, rows in written[written["cif"].notna()].groupby("cause"):
        events = np.sort(cr.loc[cr["event"] == cause, "time"].to_numpy())
        cum = np.searchsorted(events, rows["day"].to_numpy(), side="right")
        gaps = np.diff(np.concatenate([[0], cum, [events.size]]))
        assert not is_small(gaps, MIN_CELL).any(), (cause, gaps)
    assert attacks(tmp_path / "cr") == []
    _estimate(stores[like], tmp_path / "all", "competing", options, "--min-cell", "0")
    assert len(pd.read_csv(tmp_path / "all" / "cif.csv")) > len(written)


def test_fit_commands_files_give_no_small_count(tmp_path):
    rng = np.random.default_rng(3)
    n = 40
    time = rng.integers(10, 400, n)
    event = np.r_[np.ones(12, int), np.full(22, 2), np.zeros(6, int)]  # 6 censored
    data = pd.DataFrame({"id": range(n), "start": 0, "stop": time, "time": time,
                         "status": event, "event": (event == 1).astype(int),
                         "x": rng.normal(size=n)})  # fmt: skip
    data.to_csv(tmp_path / "d.csv", index=False)
    d = str(tmp_path / "d.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cox = ["fit", "cox", "--data", d, "--start", "start", "--stop", "stop",
               "--event", "event", "--covariates", "x", "--out", str(tmp_path / "cox")]  # fmt: skip
        assert main(cox) == 0
        assert main(["fit", "finegray", "--data", d, "--time", "time", "--event", "status",
                     "--covariates", "x", "--out", str(tmp_path / "fg")]) == 0  # fmt: skip
    for name in ("cox", "fg"):
        fit = json.loads((tmp_path / name / "fit.json").read_text())
        found = [f"{k} = {v}" for k, v in _numbers(fit) if _small(v)]
        shown = {k: v for k, v in fit.items() if k in ("n", "events", "competing")}
        if None not in shown.values() and {"n", "events", "competing"} <= set(shown):
            rest = shown["n"] - shown["events"] - shown["competing"]
            found += [f"n - events - competing = {rest}"] if _small(rest) else []
        assert found == [], name
    fg = json.loads((tmp_path / "fg" / "fit.json").read_text())
    # 40 - 12 - 22 would give the 6 censored: the smaller part is hidden as well
    assert (fg["n"], fg["events"], fg["competing"]) == (n, None, 22)


def test_complement_hides_until_the_rest_is_zero_or_large():
    assert complement([2378, 12, 13, 4], total=2407) == [2378, None, 13, None]
    assert complement([30, 0, 5, 20], total=55) == [30, 0, None, None]
    assert complement([30, 0, 0, 20], total=50) == [30, 0, 0, 20]
    assert complement([3, 4], total=7, min_cell=0) == [3, 4]
    for parts in ([50, 1, 2, 3], [11, 9], [100, 12, 5, 14]):
        shown = complement(parts, total=sum(parts))
        rest = sum(parts) - sum(p for p in shown if p is not None)
        assert rest == 0 or rest >= MIN_CELL, parts


def test_shown_steps_keep_every_difference_zero_or_large():
    rng = np.random.default_rng(5)
    for _ in range(200):
        cum = np.cumsum(rng.poisson(rng.uniform(0.1, 4), 60))
        fixed = np.zeros(60, dtype=bool)
        last = 0
        for k in np.flatnonzero(rng.random(60) < 0.1):  # totals shown elsewhere, >= 10 apart
            if cum[k] - last >= MIN_CELL and cum[-1] - cum[k] >= MIN_CELL:
                fixed[k], last = True, cum[k]
        keep = np.array(shown_steps(cum, fixed))
        gaps = np.diff(np.concatenate([[0], cum[keep]]))
        assert not is_small(gaps, MIN_CELL).any()
        assert keep[fixed].all()


def test_notes_starting_with_a_small_count():
    assert suppress_note("3 persons diagnosed after their follow-up left out") == (
        "fewer than 10 persons diagnosed after their follow-up left out"
    )
    assert suppress_note("12 cases had no eligible control") == "12 cases had no eligible control"
    assert suppress_note("window 0-30: left out") == "window 0-30: left out"
