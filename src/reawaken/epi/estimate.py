"""One design on the cohort store, end to end: the tables ``reawaken estimate`` writes.

:func:`run_design` prepares the data (``reawaken.epi.cohort_designs``), fits the design and
returns a :class:`DesignResult`: the estimates in the standard columns (``term, coef, se,
ratio, ci_lower, ci_upper, p_value``) with ``design, outcome, exposure, kind, window, events,
person_years, evalue, evalue_ci``, events and person-years per window, cumulative incidence
curves where the design has them, a fit summary and notes. Counts are not suppressed here;
``reawaken.epi.tables.suppress_small_counts`` does that before anything is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from reawaken.epi import cohort_designs as designs
from reawaken.epi.evalue import add_evalues
from reawaken.epi.intervals import DEFAULT_WINDOWS, check_windows, window_label
from reawaken.errors import InputError

DESIGNS = ("cox", "sccs", "emulation", "competing")
RARE_OUTCOME = 0.15  # cumulative risk under which HR ~ RR (VanderWeele & Ding 2017)


@dataclass
class DesignResult:
    """What one design produced: tables for the files, notes and the fit summary."""

    estimates: pd.DataFrame
    counts: pd.DataFrame
    curves: pd.DataFrame | None
    summary: dict
    notes: list[str] = field(default_factory=list)


def _cox_rows(fit, data: designs.CoxData, event: str) -> pd.DataFrame:
    est = fit.estimates()
    counts = designs.window_counts(data).set_index("window")
    labels = dict(zip(data.window_terms, data.window_labels, strict=True))
    est["kind"] = np.where(est["term"].isin(data.window_terms), "exposure", "adjustment")
    est["window"] = est["term"].map(labels).fillna("")
    est["events"] = est["window"].map(counts["events"]).astype("Int64")
    est["person_years"] = est["window"].map(counts["person_years"])
    est["event"] = event
    return est


def _fit_cox(data: designs.CoxData):
    from reawaken.epi.cox import fit_cox

    return fit_cox(
        data.intervals,
        start="start",
        stop="stop",
        event="event",
        covariates=data.window_terms + data.adjustment_terms,
        id="id",
    )


def run_design(
    store,
    *,
    design: str,
    outcome: str,
    exposure: str,
    windows=DEFAULT_WINDOWS,
    time_scale: str = "diagnosis",
    calendar_years: bool = False,
    controls: int = 5,
    horizon: int = 365,
    bootstrap: int = 200,
    seed: int = 1,
    source: str | None = None,
) -> DesignResult:
    """Run ``design`` for ``outcome`` after ``exposure`` on a cohort store (unsuppressed)."""
    if design not in DESIGNS:
        raise InputError(f"unknown design {design!r} (expected one of {', '.join(DESIGNS)})")
    if exposure not in designs.EXPOSURES:
        choices = ", ".join(designs.EXPOSURES)
        raise InputError(f"unknown exposure {exposure!r} (expected one of {choices})")
    if outcome not in designs.OUTCOMES:
        choices = ", ".join(designs.OUTCOMES)
        raise InputError(f"unknown outcome {outcome!r} (expected one of {choices})")
    windows = check_windows(windows)
    if design in ("cox", "competing"):
        designs.check_time_scale(time_scale, calendar_years)
    if design == "sccs":
        sccs_windows(windows)  # refuses open-ended windows only, before the store is read
    people = designs.person_table(store, outcome, source=source)
    infections = designs.infection_table(store, exposure, source=source)
    persons = people.frame
    notes = list(people.notes)
    summary = {
        "design": design,
        "outcome": outcome,
        "exposure": exposure,
        "persons": len(persons),
        "outcome_events": int((persons["status"] == 1).sum()),
        "competing_events": int((persons["status"] == 2).sum()),
    }
    curves = None
    if design in ("cox", "competing"):
        parts = []
        for status, event in ((1, "outcome"), (2, "competing")):
            if design == "cox" and status == 2:
                continue
            data = designs.cox_intervals(
                persons,
                infections,
                exposure=exposure,
                windows=windows,
                time_scale=time_scale,
                calendar_years=calendar_years,
                event_status=status,
            )
            notes += data.notes if status == 1 else []
            fit = _fit_cox(data)
            parts.append(_cox_rows(fit, data, event))
            summary[f"{event}_fit"] = fit.summary()
            if status == 1:
                counts = designs.window_counts(data)
        estimates = pd.concat(parts, ignore_index=True)
        if design == "competing":
            from reawaken.epi.competing import cumulative_incidence

            cr = designs.competing_data(persons)
            grid = np.arange(30, int(cr["time"].max()) + 1, 30)
            cif = cumulative_incidence(cr["time"], cr["event"], grid, causes=[1, 2])
            cif["arm"] = np.where(cif["cause"] == 1, outcome, "competing death")
            curves = cif.rename(columns={"time": "day"})
        risk = summary["outcome_events"] / len(persons)
        estimates = add_evalues(
            estimates, measure="HR", rare=risk < RARE_OUTCOME, rows=estimates["kind"] == "exposure"
        )
    elif design == "sccs":
        estimates, counts = _run_sccs(persons, infections, windows, summary, notes)
    else:
        estimates, counts, curves = _run_emulation(
            persons, infections, controls, horizon, bootstrap, seed, summary, notes
        )
    estimates.insert(0, "design", design)
    estimates.insert(1, "outcome", outcome)
    estimates.insert(2, "exposure", exposure)
    return DesignResult(estimates, counts, curves, summary, notes)


def sccs_windows(windows) -> list[tuple[int, int]]:
    """The risk windows of the case series: open-ended windows (``>n``) cannot be risk windows
    (their time stays in the baseline); at least one window with an end is needed."""
    post = [(int(a), int(b)) for a, b in windows if not math.isinf(b)]
    if not post:
        open_ = ", ".join(window_label(w) for w in windows)
        raise InputError(
            f"the self-controlled case series needs risk windows with an end, but window "
            f"{open_} is open-ended (its time counts as baseline, so nothing is left to "
            "compare); give windows a-b, e.g. 0-30,31-90,91-180,181-365"
        )
    return post


def _sccs_window_table(series, post) -> pd.DataFrame:
    """Events and person-time per window among the cases (window 0 = no window, baseline)."""
    iv = series.intervals
    by = iv.groupby("window").agg(events=("events", "sum"), days=("length", "sum"))
    names = ["none", *[window_label(w) for w in post]]
    return pd.DataFrame(
        {
            "window": names,
            "events": [int(by["events"].get(k, 0)) for k in range(len(names))],
            "person_years": [float(by["days"].get(k, 0)) / 365.25 for k in range(len(names))],
        }
    )


def _run_sccs(persons, infections, windows, summary, notes):
    from reawaken.epi.sccs import fit_case_series, split_case_series

    frame = designs.sccs_data(persons, infections)
    post = sccs_windows(windows)
    for w in windows:
        if math.isinf(w[1]):
            notes.append(
                f"window {window_label(w)} is open-ended: the case series counts its time as "
                "baseline"
            )
    groups = [g for g in designs.SCCS_GROUPS_DAYS if g < frame["end"].max()]

    def split(risk_windows):
        return split_case_series(
            frame,
            case="case",
            start="start",
            end="end",
            event="event",
            exposures=["exposure"],
            windows=risk_windows,
            age_groups=groups,
        )

    cases = int(frame["case"].nunique())
    series = split(post)
    table = _sccs_window_table(series, post).iloc[1:]
    empty = table["person_years"] <= 0
    if empty.all() or table["events"].sum() == 0:
        held = "; ".join(
            f"{w}: {e} events in {py:.2f} person-years"
            for w, e, py in table[["window", "events", "person_years"]].itertuples(index=False)
        )
        raise InputError(
            f"no {summary['exposure']} risk window holds both person-time and events among the "
            f"{cases} cases ({held}), so no relative incidence can be estimated; choose windows "
            "that follow recorded infections of the cases"
        )
    if empty.any():
        for label in table.loc[empty, "window"]:
            notes.append(f"no person-time in window {label} days among the cases: left out")
        post = [w for w, e in zip(post, empty.to_numpy(), strict=True) if not e]
        series = split(post)
    fit = fit_case_series(series)
    est = fit.estimates()
    labels = {f"exposure[{a},{b}]": window_label((a, b)) for a, b in post}
    est["kind"] = np.where(est["term"].isin(labels), "exposure", "adjustment")
    est["window"] = est["term"].map(labels).fillna("")
    est["term"] = est["term"].str.replace("exposure[", "window[", regex=False)
    counts = _sccs_window_table(series, post)
    c = counts.set_index("window")
    est["events"] = est["window"].map(c["events"]).astype("Int64")
    est["person_years"] = est["window"].map(c["person_years"])
    est["event"] = "outcome"
    summary["fit"] = fit.summary()
    return add_evalues(est, measure="RR", rows=est["kind"] == "exposure"), counts


def _run_emulation(persons, infections, controls, horizon, bootstrap, seed, summary, notes):
    from reawaken.epi.emulation import RISK_DAYS, emulate

    data = designs.emulation_data(persons, infections)
    res = emulate(
        data,
        entry="start",
        exit="exit",
        event="status",
        match_on=["stage", "age_band"],
        controls_per_case=controls,
        horizon=horizon,
        at=[d for d in RISK_DAYS if d <= horizon] or [horizon],
        bootstrap=bootstrap,
        seed=seed,
    )
    notes += res.notes
    r = res.risks
    z = stats.norm.ppf(0.975)
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.log(r["risk_ratio"].to_numpy(dtype=float))
        se = (np.log(r["rr_upper"]) - np.log(r["rr_lower"])).to_numpy(dtype=float) / (2 * z)
        p = 2 * stats.norm.sf(np.abs(coef / se))
    est = pd.DataFrame(
        {
            "term": [f"risk_ratio_{d}d" for d in r["day"]],
            "coef": coef,
            "se": se,
            "ratio": r["risk_ratio"],
            "ci_lower": r["rr_lower"],
            "ci_upper": r["rr_upper"],
            "p_value": p,
            "kind": "exposure",
            "window": [f"0-{d}" for d in r["day"]],
            "events": r["events_exposed"].astype("Int64"),
            "person_years": np.nan,
            "event": "outcome",
        }
    )
    for col in ("risk_exposed", "risk_unexposed", "risk_difference", "rd_lower", "rd_upper"):
        est[col] = r[col].to_numpy()
    est["events_unexposed"] = r["events_unexposed"].astype("Int64")
    m = res.matched
    counts = pd.DataFrame(
        {
            "window": ["infected", "not infected"],
            "events": [int(((m["arm"] == a) & (m["status"] == 1)).sum()) for a in (1, 0)],
            "person_years": [m.loc[m["arm"] == a, "time"].sum() / 365.25 for a in (1, 0)],
        }
    )
    summary.update(
        trials=int(m["trial"].nunique()),
        matched_cases=int((m["arm"] == 1).sum()),
        matched_controls=int((m["arm"] == 0).sum()),
        censoring_weights=res.weights,
        bootstrap=bootstrap,
        seed=seed,
    )
    return add_evalues(est, measure="RR"), counts, res.curves
