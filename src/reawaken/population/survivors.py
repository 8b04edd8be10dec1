"""Virtual breast cancer survivors: who they are, drawn from documented distributions.

Every distribution is stated once here, with its source or marked assumed
(:func:`survivor_distributions` lists them; ``population.json`` records them):

- subtype: Howlader et al., J Natl Cancer Inst 2014;106(5):dju055 (HR+/HER2- 72.7%, HR+/HER2+
  10.3%, HR-/HER2+ 4.6%, triple-negative 12.2%; the 0.2% of unknown status dropped and the shares
  scaled to 1);
- stage I/II/III: ``stage_mix`` of :func:`reawaken.cohort.synth_params.default_params` (assumed
  there, after NCRAS);
- age at diagnosis: ``age_at_diagnosis`` of the same parameters (a normal of mean 61 and sd 12
  years clipped to 25-89, as the synthetic cohort generator draws it; assumed there, after CRUK);
- years since diagnosis at the start of follow-up: uniform on 0-20 years (assumed: survivors
  alive and free of distant metastasis, followed from a common date);
- age at the start of follow-up: age at diagnosis plus years since diagnosis.

The baseline hazards come from :mod:`reawaken.bridge.baseline` (one table per stage, subtype and
period before or after year 5 since diagnosis, :func:`hazard_table`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reawaken.bridge.baseline import STAGES, SUBTYPES, distant_hazard, lung_hazard

SUBTYPE_MIX: dict[str, float] = {
    "hr+her2-": 0.727,
    "hr+her2+": 0.103,
    "hr-her2+": 0.046,
    "triple-negative": 0.122,
}
SUBTYPE_SOURCE = (
    "Howlader N et al., US incidence of breast cancer subtypes defined by joint hormone receptor "
    "and HER2 status, J Natl Cancer Inst 2014;106(5):dju055 (72.7%, 10.3%, 4.6%, 12.2%; unknown "
    "status dropped, shares scaled to 1)"
)
YEARS_SINCE_DIAGNOSIS = (0.0, 20.0)
YEARS_SINCE_DIAGNOSIS_SOURCE = (
    "assumed: uniform on 0-20 years (survivors alive and free of distant metastasis at the start "
    "of follow-up)"
)
EARLY_YEARS = 5.0
"""Years since diagnosis before which the early-years multipliers of the bridge apply."""
DAYS_PER_YEAR = 365.25


def _synth_params() -> dict:
    from reawaken.cohort.synth_params import default_params

    return default_params()


def stage_mix() -> dict[str, float]:
    """The stage shares (I, II, III) of the synthetic cohort generator, scaled to 1."""
    mix = _synth_params()["stage_mix"]
    total = sum(float(mix[s]) for s in STAGES)
    return {s: float(mix[s]) / total for s in STAGES}


def age_at_diagnosis() -> dict[str, float]:
    """Mean, sd, min and max (years) of the age at diagnosis of the synthetic cohort
    generator."""
    a = _synth_params()["age_at_diagnosis"]
    return {k: float(a[k]) for k in ("mean", "sd", "min", "max")}


def survivor_distributions() -> list[dict[str, object]]:
    """Every distribution a survivor is drawn from: ``name, values, unit, basis, source``.

    Returns
    -------
    list of dict
        One entry per distribution (subtype, stage, age at diagnosis, years since diagnosis).

    Raises
    ------
    reawaken.errors.InputError
        If the synthetic cohort parameters cannot be read.

    Examples
    --------
    >>> from reawaken.population.survivors import survivor_distributions
    >>> [d["name"] for d in survivor_distributions()]
    ['subtype', 'stage', 'age_at_diagnosis', 'years_since_diagnosis']
    """
    params = _synth_params()
    total = sum(SUBTYPE_MIX.values())
    return [
        {
            "name": "subtype",
            "values": {k: v / total for k, v in SUBTYPE_MIX.items()},
            "unit": "share",
            "basis": "sourced",
            "source": SUBTYPE_SOURCE,
        },
        {
            "name": "stage",
            "values": stage_mix(),
            "unit": "share",
            "basis": "assumed",
            "source": str(params["stage_mix"]["source"])
            + " (reawaken.cohort.synth_params.default_params: stage_mix)",
        },
        {
            "name": "age_at_diagnosis",
            "values": {"distribution": "normal, clipped", **age_at_diagnosis()},
            "unit": "years",
            "basis": "assumed",
            "source": str(params["age_at_diagnosis"]["source"])
            + " (reawaken.cohort.synth_params.default_params: age_at_diagnosis)",
        },
        {
            "name": "years_since_diagnosis",
            "values": {
                "distribution": "uniform",
                "min": YEARS_SINCE_DIAGNOSIS[0],
                "max": YEARS_SINCE_DIAGNOSIS[1],
            },
            "unit": "years",
            "basis": "assumed",
            "source": YEARS_SINCE_DIAGNOSIS_SOURCE,
        },
    ]


@dataclass(frozen=True)
class Survivors:
    """A block of survivors at the start of follow-up (arrays of one length).

    Parameters
    ----------
    age : numpy.ndarray
        Age at the start of follow-up (years).
    stage : numpy.ndarray
        Index into :data:`reawaken.bridge.baseline.STAGES` (int8).
    subtype : numpy.ndarray
        Index into :data:`reawaken.bridge.baseline.SUBTYPES` (int8).
    years_since_diagnosis : numpy.ndarray
        Years since diagnosis at the start of follow-up.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.survivors import draw_survivors
    >>> s = draw_survivors(1000, np.random.default_rng(1))
    >>> len(s), bool((s.age >= 25).all())
    (1000, True)
    """

    age: np.ndarray
    stage: np.ndarray
    subtype: np.ndarray
    years_since_diagnosis: np.ndarray

    def __len__(self) -> int:
        return len(self.age)

    def early_days(self) -> np.ndarray:
        """Whole days from the start of follow-up during which the survivor is in the first
        five years since diagnosis (0 if past them): the days ``j < early_days`` take the
        early-years hazards."""
        left = (EARLY_YEARS - self.years_since_diagnosis) * DAYS_PER_YEAR
        return np.ceil(np.maximum(left, 0.0))


def draw_survivors(n: int, rng: np.random.Generator) -> Survivors:
    """``n`` survivors drawn from :func:`survivor_distributions` with ``rng`` (the draws are
    taken in a fixed order, so the same generator state gives the same survivors).

    Parameters
    ----------
    n : int
        How many survivors.
    rng : numpy.random.Generator
        The generator (its state advances).

    Returns
    -------
    Survivors
        Their ages, stages, subtypes and years since diagnosis.

    Raises
    ------
    ValueError
        If ``n`` is negative (numpy's check).

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.survivors import draw_survivors
    >>> s = draw_survivors(100_000, np.random.default_rng(0))
    >>> round(float((s.subtype == 0).mean()), 2)  # HR+/HER2-, 72.7% of 99.8%
    0.73
    """
    a = age_at_diagnosis()
    age_dx = np.clip(rng.normal(a["mean"], a["sd"], n), a["min"], a["max"])
    stages = stage_mix()
    stage = _categorical(rng.random(n), [stages[s] for s in STAGES])
    subtype = _categorical(rng.random(n), [SUBTYPE_MIX[s] for s in SUBTYPES])
    lo, hi = YEARS_SINCE_DIAGNOSIS
    ysd = rng.uniform(lo, hi, n)
    return Survivors(age_dx + ysd, stage, subtype, ysd)


def _categorical(u: np.ndarray, shares: list[float]) -> np.ndarray:
    cum = np.cumsum(np.asarray(shares, dtype=float))
    cum /= cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(shares) - 1).astype(np.int8)


def hazard_table(kind: str = "lung") -> np.ndarray:
    """Annual baseline hazard by ``[stage, subtype, period]`` (period 0: within five years of
    diagnosis, 1: after), from :func:`reawaken.bridge.baseline.lung_hazard` (``kind="lung"``)
    or :func:`~reawaken.bridge.baseline.distant_hazard` (``kind="distant"``).

    Parameters
    ----------
    kind : {"lung", "distant"}
        First distant metastasis in the lung, or at any site.

    Returns
    -------
    numpy.ndarray
        Shape ``(3, 4, 2)``, per year.

    Raises
    ------
    KeyError
        For another ``kind``.

    Examples
    --------
    >>> from reawaken.population.survivors import hazard_table
    >>> bool((hazard_table("lung") < hazard_table("distant")).all())
    True
    """
    function = {"lung": lung_hazard, "distant": distant_hazard}[kind]
    stage, subtype, period = np.meshgrid(
        np.arange(len(STAGES)), np.arange(len(SUBTYPES)), np.arange(2), indexing="ij"
    )
    ysd = np.where(period.ravel() == 0, 0.0, EARLY_YEARS + 1.0)
    values = function(np.asarray(STAGES)[stage.ravel()], np.asarray(SUBTYPES)[subtype.ravel()], ysd)
    return np.asarray(values, dtype=float).reshape(stage.shape)
