"""Competing-risks design: cause-specific Cox models of the outcome and of the competing event
(death, or a first metastasis elsewhere), and Aalen-Johansen cumulative incidence of both
(:func:`reawaken.epi.competing.cumulative_incidence`) every 30 days."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reawaken.epi import cohort_designs
from reawaken.epi.design import Cohort, DesignResult, Figure, incidence_figure
from reawaken.epi.designs.cox import CoxDesign, CoxSettings
from reawaken.epi.settings import documented


@documented
@dataclass(frozen=True)
class CompetingSettings(CoxSettings):
    """Settings of the competing-risks design (those of the Cox design).

    The design fits cause-specific Cox models of the outcome and of the competing event, and
    the cumulative incidence of both every 30 days.


    Examples
    --------
    >>> from reawaken.epi import CompetingSettings
    >>> CompetingSettings(outcome="lung_metastasis", exposure="sars-cov-2").time_scale
    'diagnosis'
    """


class CompetingDesign(CoxDesign):
    """Cause-specific Cox models of both events, and their cumulative incidence."""

    name = "competing"
    settings: type[CompetingSettings] = CompetingSettings
    events = ((1, "outcome"), (2, "competing"))

    def curves(self, cohort: Cohort, settings: CoxSettings) -> pd.DataFrame:
        """Cumulative incidence of the outcome and of the competing event (named for what it
        is: :func:`reawaken.epi.cohort_designs.competing_event_name`) every 30 days, with the
        events accrued by each day (the writer keeps steps of fewer than ``min_cell`` events
        from being read)."""
        from reawaken.epi.competing import cumulative_incidence

        cr = cohort_designs.competing_data(cohort.persons)
        grid = np.arange(30, int(cr["time"].max()) + 1, 30)
        cif = cumulative_incidence(cr["time"], cr["event"], grid, causes=[1, 2])
        cif["events"] = cohort_designs.events_by_time(
            cr["time"], cr["event"], cif["time"], cif["cause"]
        )
        competing = cohort_designs.competing_event_name(settings.outcome)
        cif["arm"] = np.where(cif["cause"] == 1, settings.outcome, competing)
        return cif.rename(columns={"time": "day"})

    def figures(self, result: DesignResult) -> list[Figure]:
        return [*super().figures(result), incidence_figure(result, xlabel="Days")]


COMPETING = CompetingDesign()
