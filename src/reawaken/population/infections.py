"""Respiratory infections of the survivors: seasonal influenza and SARS-CoV-2.

Follow-up starts on 1 October (assumed: the start of the northern hemisphere's influenza
season), so follow-up year ``s`` is influenza season ``s``.

- Influenza: in each season a survivor is infected with the probability
  ``influenza_attack_rate_under_65`` or ``influenza_attack_rate_65_plus``
  (:mod:`reawaken.bridge.assumptions`, Tokars et al. 2018) by her age at the season's start, at
  most once a season, on a day drawn around the season's peak (:data:`SEASON`).
- SARS-CoV-2: infections arrive as a Poisson process on any day, at the rate
  ``-log(1 - sars_cov_2_attack_rate)`` a year, so that the probability of at least one infection
  in a year is the bridge's attack rate (ONS COVID-19 Infection Survey, 2022).

Each infection carries the uniforms the scenarios read (common random numbers): whether a
vaccination prevents it and whether it is treated; each survivor and season carries the uniform
that says whether she is vaccinated that autumn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reawaken.bridge.assumptions import value
from reawaken.population.survivors import DAYS_PER_YEAR, Survivors

PATHOGENS = ("influenza", "sars-cov-2")
"""The pathogens of the population, by index (each has a human parameter set)."""

SEASON: dict[str, object] = {
    "follow_up_starts": "1 October",
    "peak_day": 135.0,
    "spread_days": 28.0,
    "source": "assumed: follow-up starts on 1 October; influenza peaks in mid-February (day 135 "
    "of the season; CDC: most seasons peak in February) with a normal spread of sd 28 days, "
    "clipped to the season",
}
"""When influenza infections fall within a season (days from 1 October)."""

SARS_COV_2_SOURCE = (
    "Poisson process at -log(1 - sars_cov_2_attack_rate) a year, any day (the probability of at "
    "least one infection a year is the attack rate); assumed constant over follow-up"
)


def influenza_attack_rate(age: np.ndarray) -> np.ndarray:
    """Probability of influenza in a season at ``age`` (years): the bridge's rate under 65 or
    at 65 and over (Tokars et al., Clin Infect Dis 2018;66:1511).

    Parameters
    ----------
    age : numpy.ndarray
        Ages at the season's start (years).

    Returns
    -------
    numpy.ndarray
        The attack rate of each.

    Raises
    ------
    ValueError
        If ``age`` is not numeric (numpy's check).

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.infections import influenza_attack_rate
    >>> influenza_attack_rate(np.array([50.0, 70.0])).tolist()
    [0.089, 0.039]
    """
    age = np.asarray(age, dtype=float)
    return np.where(
        age < 65.0,
        value("influenza_attack_rate_under_65"),
        value("influenza_attack_rate_65_plus"),
    )


def sars_cov_2_rate() -> float:
    """SARS-CoV-2 infections per person and year (the Poisson rate behind the attack rate)."""
    return -math.log1p(-value("sars_cov_2_attack_rate"))


@dataclass(frozen=True)
class Infections:
    """The infections of a block of survivors, sorted by survivor and day.

    Parameters
    ----------
    person : numpy.ndarray
        Index of the survivor in her block (int64).
    day : numpy.ndarray
        Whole day of the infection from the start of follow-up (int64).
    pathogen : numpy.ndarray
        Index into :data:`PATHOGENS` (int8).
    season : numpy.ndarray
        Follow-up year (influenza season) of the infection (int64).
    protect_u : numpy.ndarray
        Uniform: a vaccinated survivor's infection is prevented when it is below the efficacy.
    treat_u : numpy.ndarray
        Uniform: the infection is treated when it is below the treatment's coverage.
    vaccinated_u : numpy.ndarray
        ``(survivors, years)`` uniforms: the survivor is vaccinated that autumn (against both
        pathogens) when it is below the vaccine's coverage.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.infections import draw_infections
    >>> from reawaken.population.survivors import draw_survivors
    >>> rng = np.random.default_rng(2)
    >>> inf = draw_infections(draw_survivors(1000, rng), 5, rng)
    >>> bool(np.all(np.diff(inf.person) >= 0)), bool(inf.day.max() < 5 * 365.25)
    (True, True)
    """

    person: np.ndarray
    day: np.ndarray
    pathogen: np.ndarray
    season: np.ndarray
    protect_u: np.ndarray
    treat_u: np.ndarray
    vaccinated_u: np.ndarray

    def __len__(self) -> int:
        return len(self.person)


def draw_infections(survivors: Survivors, years: int, rng: np.random.Generator) -> Infections:
    """The infections of ``survivors`` over ``years`` of follow-up, with their uniforms (drawn
    in a fixed order from ``rng``).

    Parameters
    ----------
    survivors : Survivors
        The block of survivors.
    years : int
        Years of follow-up.
    rng : numpy.random.Generator
        The generator (its state advances).

    Returns
    -------
    Infections
        Every infection, whether or not the survivor is still alive then (the simulation drops
        those after her death).

    Raises
    ------
    ValueError
        If ``years`` is not positive (numpy's check).

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.infections import draw_infections
    >>> from reawaken.population.survivors import draw_survivors
    >>> rng = np.random.default_rng(3)
    >>> inf = draw_infections(draw_survivors(100_000, rng), 1, rng)
    >>> round(len(inf) / 100_000, 2)  # about 0.06 influenza and 0.17 SARS-CoV-2 a year
    0.23
    """
    n = len(survivors)
    seasons = np.arange(years)
    age = survivors.age[:, None] + seasons[None, :]
    flu = rng.random((n, years)) < influenza_attack_rate(age)
    flu_person, flu_season = np.nonzero(flu)
    peak, spread = float(SEASON["peak_day"]), float(SEASON["spread_days"])  # type: ignore[arg-type]
    offset = np.clip(rng.normal(peak, spread, len(flu_person)), 0.0, 365.0)
    flu_day = np.floor(flu_season * DAYS_PER_YEAR + offset).astype(np.int64)

    counts = rng.poisson(sars_cov_2_rate() * years, n)
    cov_person = np.repeat(np.arange(n), counts)
    cov_day = np.floor(rng.uniform(0.0, years * DAYS_PER_YEAR, len(cov_person))).astype(np.int64)

    person = np.concatenate([flu_person.astype(np.int64), cov_person.astype(np.int64)])
    day = np.concatenate([flu_day, cov_day])
    pathogen = np.concatenate(
        [np.zeros(len(flu_person), np.int8), np.ones(len(cov_person), np.int8)]
    )
    order = np.lexsort((pathogen, day, person))
    person, day, pathogen = person[order], day[order], pathogen[order]
    season = np.minimum((day / DAYS_PER_YEAR).astype(np.int64), years - 1)
    protect_u = rng.random(len(person))
    treat_u = rng.random(len(person))
    vaccinated_u = rng.random((n, years))
    return Infections(person, day, pathogen, season, protect_u, treat_u, vaccinated_u)
