"""Target-trial emulation design: risk ratios and differences of the outcome after infection
against matched persons not (yet) infected (:func:`reawaken.epi.emulation.emulate`), matched on
stage and age band, at 91, 183 and 365 days (those within the horizon), with bootstrap
percentile intervals; and the subdistribution hazard ratio of the outcome over the horizon
(Fine-Gray, the competing event death or a metastasis elsewhere) on the matched trials, with the
matching weights, the censoring distribution estimated per arm (controls are censored when they
are infected) and a robust variance clustered by person (a person can be in several trials:
:func:`reawaken.epi.finegray_weighted.fit_fine_gray_weighted`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reawaken.accepts import SEED, whole
from reawaken.epi import cohort_designs
from reawaken.epi.design import (
    Cohort,
    CohortDesign,
    DesignResult,
    Figure,
    base_summary,
    incidence_figure,
)
from reawaken.epi.emulation import RISK_DAYS, emulate
from reawaken.epi.finegray_weighted import fit_fine_gray_weighted
from reawaken.epi.settings import StudySettings, documented, setting
from reawaken.errors import InputError

FINE_GRAY_TERM = "subdistribution hazard ratio (Fine-Gray)"

MATCH_ON = ("stage", "age_band")
BALANCE_ON = ("age",)
"""Covariates whose balance is reported beside the matched ones: age in years (matched only by
band, so some imbalance can remain within bands)."""


@documented
@dataclass(frozen=True)
class EmulationSettings(StudySettings):
    """Settings of the target-trial emulation design: controls, follow-up, bootstrap, seed.

    The design matches each infected person to persons not (yet) infected on stage and age
    band and compares the risks at 91, 183 and 365 days (those within the horizon).


    Examples
    --------
    >>> from reawaken.epi import EmulationSettings
    >>> EmulationSettings(outcome="cancer_death", exposure="sars-cov-2", bootstrap="50")
    EmulationSettings(outcome='cancer_death', exposure='sars-cov-2', source=None, controls=5,
                      horizon=365, bootstrap=50, seed=1)
    """

    controls: int = setting(
        5,
        "Controls per case.",
        whole(1, 20, "beyond ~5 controls per case precision barely improves"),
    )
    horizon: int = setting(365, "Follow-up in days.", whole(1, 3650))
    bootstrap: int = setting(
        200,
        "Bootstrap replicates (0: no intervals).",
        whole(0, 10_000, "each replicate refits the emulation"),
    )
    seed: int = setting(
        1,
        "Seed of matching and bootstrap.",
        SEED,
        doc="Seed of the matching and the bootstrap.",
    )


@dataclass
class EmulationPrepared:
    """The cohort and one row per person with the first infection."""

    cohort: Cohort
    persons: pd.DataFrame


class EmulationDesign(CohortDesign):
    """Sequential matched trials of infection, with censoring weights."""

    name = "emulation"
    settings: type[EmulationSettings] = EmulationSettings
    xlabel = "Risk ratio (95% CI)"
    forest_label = "term"

    def from_cohort(self, cohort: Cohort, settings: EmulationSettings) -> EmulationPrepared:
        """One row per person with the first infection."""
        return EmulationPrepared(
            cohort, cohort_designs.emulation_data(cohort.persons, cohort.infections)
        )

    def fit(self, prepared: EmulationPrepared, settings: EmulationSettings) -> DesignResult:
        summary = base_summary(self.name, settings, prepared.cohort)
        horizon = settings.horizon
        res = emulate(
            prepared.persons,
            entry="start",
            exit="exit",
            event="status",
            match_on=list(MATCH_ON),
            balance_on=list(BALANCE_ON),
            controls_per_case=settings.controls,
            horizon=horizon,
            at=[d for d in RISK_DAYS if d <= horizon] or [horizon],
            bootstrap=settings.bootstrap,
            seed=settings.seed,
        )
        notes = prepared.cohort.notes + res.notes
        r = res.risks
        est = res.estimates()
        est["kind"] = "exposure"
        est["window"] = [f"0-{d}" for d in r["day"]]
        est["events"] = r["events_exposed"].astype("Int64")
        est["person_years"] = np.nan
        est["event"] = "outcome"
        for col in ("risk_exposed", "risk_unexposed", "risk_difference", "rd_lower", "rd_upper"):
            est[col] = r[col].to_numpy()
        est["events_unexposed"] = r["events_unexposed"].astype("Int64")
        m = res.matched
        fine_gray, note = _fine_gray(m, horizon, res.level)
        if fine_gray is not None:
            est = pd.concat([est, fine_gray], ignore_index=True)
        if note:
            notes = [*notes, note]
        counts = pd.DataFrame(
            {
                "window": ["infected", "not infected"],
                "events": [int(((m["arm"] == a) & (m["status"] == 1)).sum()) for a in (1, 0)],
                "person_years": [m.loc[m["arm"] == a, "time"].sum() / 365.25 for a in (1, 0)],
            }
        )
        summary.update(res.summary())
        fits = {"outcome": res}
        return self.result(
            settings, est, counts, summary, notes, fits, curves=res.curves, measure="RR"
        )

    def figures(self, result: DesignResult) -> list[Figure]:
        return [
            *super().figures(result),
            incidence_figure(result, xlabel="Days since infection (time zero)"),
        ]


def _fine_gray(
    matched: pd.DataFrame, horizon: int, level: float
) -> tuple[pd.DataFrame | None, str | None]:
    """The Fine-Gray row of the estimates (infected against matched controls over the
    horizon), or a note saying why there is none."""
    try:
        fit = fit_fine_gray_weighted(
            matched,
            time="time",
            event="status",
            covariates=["arm"],
            weights="mweight",
            cluster="id",
            censoring_strata="arm",
            level=level,
        )
    except InputError as exc:
        return None, f"Fine-Gray model not estimated: {exc.reason}"
    row = fit.estimates().iloc[[0]].copy()
    row["term"] = FINE_GRAY_TERM
    row["kind"] = "exposure"
    row["window"] = f"0-{horizon}"
    row["events"] = pd.array(
        [int(((matched["arm"] == 1) & (matched["status"] == 1)).sum())], dtype="Int64"
    )
    row["events_unexposed"] = pd.array(
        [int(((matched["arm"] == 0) & (matched["status"] == 1)).sum())], dtype="Int64"
    )
    row["person_years"] = np.nan
    row["event"] = "outcome"
    return row, None


EMULATION = EmulationDesign()
