"""The human-only magnitudes of the bridge: each with its value, unit and source, or marked as
an assumption (or as calibrated, with the command that calibrates it).

The within-host model's own parameters live in :mod:`reawaken.model.parameters`; the values here
are what the mouse cannot tell: how fast a human lung metastasis grows, at what size it is found,
how long from a lung metastasis to death, how often survivors relapse and where, how often they
catch influenza and SARS-CoV-2, and what vaccines and drugs do. :func:`assumption_table` lists
them all (``reawaken bridge`` writes it as ``assumptions.csv``; docs/bridge.md prints it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reawaken.errors import InputError

if TYPE_CHECKING:  # imported by assumption_table: value() and the table's rows stay light
    import pandas as pd

BASES = ("sourced", "assumed", "calibrated")


@dataclass(frozen=True)
class HumanValue:
    """One human-only magnitude of the bridge.

    Parameters
    ----------
    name : str
        Its name (a key of :data:`HUMAN`).
    value : float
        Its value, in ``unit``.
    unit : str
        Its unit.
    basis : str
        ``"sourced"`` (taken from the cited source), ``"assumed"`` or ``"calibrated"``.
    source : str
        The citation, the reasoning behind an assumption, or the calibration's target and command.
    description : str
        What it is, in a few words.

    Examples
    --------
    >>> from reawaken.bridge import HUMAN
    >>> HUMAN["anti_il6_dose"].value, HUMAN["anti_il6_dose"].unit, HUMAN["anti_il6_dose"].basis
    (8.0, 'mg/kg', 'sourced')
    """

    name: str
    value: float
    unit: str
    basis: str
    source: str
    description: str

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"{self.name}: basis {self.basis!r} not one of {BASES}")


def _v(name: str, value: float, unit: str, basis: str, source: str, description: str) -> HumanValue:
    return HumanValue(name, float(value), unit, basis, source, description)


PAN_2017 = (
    "Pan H et al., 20-year risks of breast-cancer recurrence after stopping endocrine therapy "
    "at 5 years, N Engl J Med 2017;377:1836-46"
)
HUMAN: dict[str, HumanValue] = {
    v.name: v
    for v in (
        _v(
            "doubling_time",
            78.0,
            "days",
            "sourced",
            "volume doubling time of lung metastases, mean 118 +- 134 days (range 22-930; Am J "
            "Clin Oncol 2003;26(4)); the median of a lognormal with that mean and sd",
            "median doubling time of a growing lung lesion",
        ),
        _v(
            "doubling_time_cv",
            1.14,
            "1",
            "sourced",
            "134 / 118 days, the sd over the mean of the same series (Am J Clin Oncol "
            "2003;26(4)); lognormal shape assumed",
            "coefficient of variation of the lesions' doubling times (lognormal)",
        ),
        _v(
            "detection_cells",
            1e9,
            "cells",
            "assumed",
            "a lesion found clinically is about 1 cm across; 1e9 cells per cm^3 is the convention "
            "(Del Monte, Cell Cycle 2009;8:505-6 argues for nearer 1e8); assumed",
            "cells in a lung lesion when it reaches clinical detection",
        ),
        _v(
            "detection_delay",
            60.0,
            "days",
            "assumed",
            "survivors are not scanned routinely (follow-up is clinical), so a detectable lesion "
            "is found when it gives symptoms or on imaging for another reason; exponential delay "
            "of this mean, assumed",
            "mean time from a lesion reaching detectable size to its diagnosis",
        ),
        _v(
            "lesion_response",
            1.0,
            "1",
            "calibrated",
            "calibrated so that the Flatiron-like analysis of a mechanism-generated cohort gives "
            "HR 1.44 (Chia et al., Nature 2025); the UK Biobank OR is left out of sample",
            "exponent on the model's DCC fold change felt by a growing subclinical lesion",
        ),
        _v(
            "infection_cv",
            0.3,
            "1",
            "assumed",
            "between-person variability of the infection and awakening parameters, the "
            "ensemble's lognormal coefficient of variation (as for the mouse ensembles)",
            "coefficient of variation of the within-host parameter draws",
        ),
        _v(
            "survival_after_lung_metastasis",
            1.6,
            "years",
            "assumed",
            "median survival with distant metastasis 0.5-2.2 years by subtype (Kennecke et al., "
            "J Clin Oncol 2010;28:3271: luminal A 2.2, luminal B 1.6, basal 0.5) and 13 months "
            "after a lung metastasis at diagnosis (Chen et al., PeerJ 2019;7:e8298); one "
            "exponential lag of this median, assumed",
            "median time from a diagnosed lung metastasis to cancer death",
        ),
        _v(
            "early_years_multiplier",
            1.5,
            "1",
            "assumed",
            "distant recurrence is more frequent in the first years after diagnosis than the "
            "steady rate after 5 years that " + PAN_2017 + " report",
            "multiplier on the distant-recurrence hazard in years 0-5 since diagnosis (HR+)",
        ),
        _v(
            "hr_negative_early",
            2.5,
            "1",
            "assumed",
            "HER2-positive and triple-negative cancers recur mostly in the first 3-5 years (Dent "
            "et al., Clin Cancer Res 2007;13:4429)",
            "multiplier on the distant-recurrence hazard in years 0-5 for HR-negative subtypes",
        ),
        _v(
            "hr_negative_late",
            0.4,
            "1",
            "assumed",
            "late recurrence after 5 years is rarer without hormone receptors (Dent et al. 2007)",
            "multiplier on the distant-recurrence hazard after year 5 for HR-negative subtypes",
        ),
        _v(
            "influenza_attack_rate_under_65",
            0.089,
            "per season",
            "sourced",
            "symptomatic influenza in adults 18-64, 8.9% a season (Tokars et al., Clin Infect Dis "
            "2018;66:1511)",
            "influenza infections per person and season, under 65",
        ),
        _v(
            "influenza_attack_rate_65_plus",
            0.039,
            "per season",
            "sourced",
            "symptomatic influenza at 65 and over, 3.9% a season (Tokars et al. 2018, as CDC "
            "reports it)",
            "influenza infections per person and season, 65 and over",
        ),
        _v(
            "sars_cov_2_attack_rate",
            0.16,
            "per year",
            "sourced",
            "reinfections at 44.4 per 100,000 person-days in the ONS COVID-19 Infection Survey "
            "(September 2022), 1 - exp(-0.000444 * 365.25) a year; taken for all infections in "
            "the endemic period, an assumption",
            "SARS-CoV-2 infections per person and year",
        ),
        _v(
            "influenza_vaccine_efficacy",
            0.4,
            "1",
            "assumed",
            "seasonal influenza vaccine effectiveness of 40-60% against infection (CDC estimates); "
            "the scenario's `efficacy` overrides it",
            "reduction of infection by the vaccine (default of the vaccine scenario)",
        ),
        _v(
            "symptom_onset",
            2.0,
            "days",
            "assumed",
            "incubation of 1-4 days for influenza and 2-5 for SARS-CoV-2 (Omicron); a treatment "
            "can start at onset plus the scenario's delay",
            "days from infection to symptoms and diagnosis",
        ),
        _v(
            "anti_il6_dose",
            8.0,
            "mg/kg",
            "sourced",
            "tocilizumab 8 mg/kg intravenously, the dose in COVID-19 (RECOVERY, Lancet "
            "2021;397:1637-45: 28-day mortality rate ratio 0.85)",
            "IL-6 blockade: one intravenous dose",
        ),
        _v(
            "antiviral_efficacy",
            0.9,
            "1",
            "assumed",
            "fraction of virus production blocked by an antiviral (nirmatrelvir, oseltamivir) "
            "started early; the scenario's `efficacy` overrides it",
            "antiviral: blocked fraction of virus production",
        ),
    )
}
"""Every human-only magnitude by name."""


def current() -> dict[str, HumanValue]:
    """The table with the calibrated values read from the calibration in use (the user's
    ``reawaken bridge --write`` file, else the shipped one: :mod:`reawaken.bridge.calibrated`)."""
    from reawaken.bridge.calibrated import calibrated, path_in_use

    values = calibrated()
    where = f"calibrated by `reawaken bridge` ({path_in_use().name})"
    out = dict(HUMAN)
    for name, v in HUMAN.items():
        if v.basis == "calibrated" and name in values:
            out[name] = replace(v, value=values[name], source=v.source.split(";")[0] + "; " + where)
    return out


def value(name: str, overrides: dict[str, float] | None = None) -> float:
    """The value of ``name`` (or of its override); calibrated values from the calibration in
    use; an unknown name is an InputError."""
    if overrides and name in overrides:
        return float(overrides[name])
    if name not in HUMAN:
        raise InputError(f"unknown bridge assumption {name!r} (known: {', '.join(HUMAN)})")
    if HUMAN[name].basis == "calibrated":
        return current()[name].value
    return HUMAN[name].value


def with_values(overrides: dict[str, float], source: str) -> dict[str, HumanValue]:
    """The table with some values replaced (e.g. the calibrated ones), each checked to be a
    finite number > 0 and its source set to ``source``."""
    out = current()
    for name, v in overrides.items():
        if name not in HUMAN:
            raise InputError(f"unknown bridge assumption {name!r} (known: {', '.join(HUMAN)})")
        number = float(v)
        if not (math.isfinite(number) and number > 0):
            raise InputError(f"{name} must be a finite number > 0, got {v!r}")
        basis = "calibrated" if HUMAN[name].basis == "calibrated" else "assumed"
        out[name] = replace(HUMAN[name], value=number, source=source, basis=basis)
    return out


def assumption_table(values: dict[str, HumanValue] | None = None) -> pd.DataFrame:
    """Every human-only magnitude: name, value, unit, basis, source, description.

    Parameters
    ----------
    values : dict of str to HumanValue, optional
        The magnitudes to list (default: :data:`HUMAN` with the calibrated values in use).

    Returns
    -------
    pandas.DataFrame
        One row per magnitude; ``basis`` is ``sourced``, ``assumed`` or ``calibrated``.

    Raises
    ------
    InputError
        If the calibration file in use cannot be read.

    Examples
    --------
    >>> from reawaken.bridge import assumption_table
    >>> table = assumption_table().set_index("name")
    >>> float(table.loc["doubling_time", "value"]), table.loc["doubling_time", "basis"]
    (78.0, 'sourced')
    >>> sorted(set(table["basis"]))
    ['assumed', 'calibrated', 'sourced']
    """
    rows = (values or current()).values()
    import pandas as pd

    return pd.DataFrame([vars(v) for v in rows])
