"""One chunk of survivors through the years of follow-up, under every scenario.

A chunk's survivors, their infections and every uniform come from
``numpy.random.default_rng([seed, chunk])``, so a chunk gives the same counts wherever it runs.
All scenarios of a chunk share the survivors, the infections and the uniforms (common random
numbers): a difference between scenarios comes from what the scenario changes, not from noise.

For each survivor:

- death from other causes at the time where the Gompertz cumulative hazard of
  :func:`reawaken.bridge.baseline.other_death_hazard` reaches a unit exponential (inverted
  exactly);
- a first distant metastasis outside the lung (hazard ``distant_hazard - lung_hazard``, piecewise
  constant with the step at year 5 since diagnosis) likewise; it ends follow-up for a first lung
  metastasis;
- a first lung metastasis where the cumulative lung hazard reaches a unit exponential, the
  hazard on day ``j`` being ``lung_hazard * max(0, 1 + sum of ratio[draw, j - day of infection]
  over her earlier infections)`` (daily grid, found for the survivors whose upper bound reaches
  it; no loop over survivors);
- cancer death after a lung metastasis at an exponential lag of median
  ``survival_after_lung_metastasis``, counted if it comes before death from other causes and
  before the end of follow-up.

Survivor ``i`` (index in the whole population) belongs to group ``i mod draws`` and all her
infections use parameter draw ``i mod draws``. The chunk returns its counts by scenario, group,
measure and follow-up year (:data:`MEASURES`), nothing per survivor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reawaken.population.infections import Infections, draw_infections
from reawaken.population.kernels import KernelSet
from reawaken.population.scenarios import Scenario
from reawaken.population.survivors import DAYS_PER_YEAR, Survivors, draw_survivors, hazard_table

MEASURES = ("person_years", "infections", "lung_metastases", "cancer_deaths", "treated")
"""What a chunk counts, by scenario, group and follow-up year. ``treated``: vaccinations given
(survivor-autumns vaccinated while alive) in a vaccine scenario, treated infections in an
anti-il6 or antiviral scenario."""
GRID_CELLS = 1 << 21
"""Survivor-days on the daily grid at once (bounds a chunk's memory: about 16 MiB an array)."""


@dataclass(frozen=True)
class Plan:
    """What every chunk of a run needs besides the kernels.

    Parameters
    ----------
    survivors : int
        Survivors in the whole population.
    years : int
        Years of follow-up.
    draws : int
        Parameter draws (and groups of survivors).
    seed : int
        The run's seed.
    chunk_size : int
        Survivors per chunk (chunk ``c`` holds survivors ``c * chunk_size`` onwards).
    scenarios : tuple of Scenario
        The scenarios, in output order.

    Examples
    --------
    >>> from reawaken.population.scenarios import scenario_list
    >>> from reawaken.population.simulation import Plan
    >>> Plan(250_000, 5, 100, 1, 100_000, tuple(scenario_list([]))).chunks
    3
    """

    survivors: int
    years: int
    draws: int
    seed: int
    chunk_size: int
    scenarios: tuple[Scenario, ...]

    @property
    def chunks(self) -> int:
        return -(-self.survivors // self.chunk_size)

    def chunk_bounds(self, chunk: int) -> tuple[int, int]:
        """First survivor of ``chunk`` and how many it holds."""
        start = chunk * self.chunk_size
        return start, min(self.chunk_size, self.survivors - start)

    @property
    def days(self) -> float:
        """Days of follow-up."""
        return self.years * DAYS_PER_YEAR


@dataclass(frozen=True)
class Draws:
    """A chunk's survivors, infections and event variates (common to every scenario)."""

    survivors: Survivors
    infections: Infections
    lung_e: np.ndarray
    lag_e: np.ndarray
    group: np.ndarray
    lung_early: np.ndarray
    lung_late: np.ndarray
    early_days: np.ndarray
    other_death: np.ndarray
    censor: np.ndarray


def draw_chunk(plan: Plan, chunk: int) -> Draws:
    """The survivors of ``chunk``, their infections and competing events, from
    ``default_rng([seed, chunk])``.

    Parameters
    ----------
    plan : Plan
        The run.
    chunk : int
        The chunk's index.

    Returns
    -------
    Draws
        Survivors, infections, the exponential variates of the lung metastasis and of the lag
        to cancer death, each survivor's group, per-day lung hazards before and after year 5
        since diagnosis, the time (days) of death from other causes and the end of follow-up
        for a first lung metastasis.

    Raises
    ------
    ValueError
        For a chunk outside the run.

    Examples
    --------
    >>> from reawaken.population.scenarios import scenario_list
    >>> from reawaken.population.simulation import Plan, draw_chunk
    >>> plan = Plan(1000, 2, 10, 7, 400, tuple(scenario_list([])))
    >>> d = draw_chunk(plan, 2)
    >>> len(d.survivors), int(d.group[0])  # survivors 800-999, groups 800 mod 10 onwards
    (200, 0)
    """
    start, n = plan.chunk_bounds(chunk)
    if not 0 <= chunk < plan.chunks:
        raise ValueError(f"chunk {chunk} outside 0-{plan.chunks - 1}")
    rng = np.random.default_rng([int(plan.seed), int(chunk)])
    surv = draw_survivors(n, rng)
    lung_e, other_e, distant_e, lag_e = rng.standard_exponential((4, n))
    infections = draw_infections(surv, plan.years, rng)

    lung = hazard_table("lung")[surv.stage, surv.subtype] / DAYS_PER_YEAR  # (n, 2) per day
    distant = hazard_table("distant")[surv.stage, surv.subtype] / DAYS_PER_YEAR
    elsewhere = np.maximum(distant - lung, 0.0)
    early_days = surv.early_days()
    other_death = _gompertz_time(surv.age, other_e)
    distant_time = _piecewise_time(elsewhere[:, 0], elsewhere[:, 1], early_days, distant_e)
    censor = np.minimum(np.minimum(other_death, distant_time), plan.days)
    group = (start + np.arange(n)) % plan.draws
    return Draws(
        surv,
        infections,
        lung_e,
        lag_e,
        group,
        lung[:, 0],
        lung[:, 1],
        early_days,
        other_death,
        censor,
    )


def _gompertz_time(age: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Days until the cumulative other-cause hazard from ``age`` reaches ``e``: the Gompertz
    hazard of :func:`reawaken.bridge.baseline.other_death_hazard`, ``h(a) = b exp(c a)``, read
    off the function at ages 0 and 1."""
    from reawaken.bridge.baseline import other_death_hazard

    b = float(other_death_hazard(0.0))
    c = math.log(float(other_death_hazard(1.0)) / b)
    h_now = b * np.exp(c * age)
    return np.log1p(c * e / h_now) / c * DAYS_PER_YEAR


def _piecewise_time(
    early: np.ndarray, late: np.ndarray, early_days: np.ndarray, e: np.ndarray
) -> np.ndarray:
    """Days until a hazard of ``early`` per day on days ``< early_days`` and ``late`` after
    accumulates to ``e`` (inf if never)."""
    first = early * early_days
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = e / early
        after = early_days + (e - first) / late
    t = np.where(e <= first, inside, after)
    return np.where(np.isfinite(t) & (t >= 0), t, np.inf)


def _baseline_cumulative(d: Draws, t: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
    """Baseline lung cumulative hazard at ``t`` days (the daily grid's integral)."""
    early = d.early_days[rows]
    return d.lung_early[rows] * np.minimum(t, early) + d.lung_late[rows] * np.maximum(
        t - early, 0.0
    )


def first_lung_metastasis(
    d: Draws, active: np.ndarray, treatment: np.ndarray, kernels: KernelSet
) -> np.ndarray:
    """Day of the first lung metastasis of each survivor of the chunk (inf: none in follow-up).

    Parameters
    ----------
    d : Draws
        The chunk.
    active : numpy.ndarray
        Which infections happen in this scenario (bool, per infection).
    treatment : numpy.ndarray
        The treatment (kernel index) of each infection.
    kernels : KernelSet
        The kernels.

    Returns
    -------
    numpy.ndarray
        Days from the start of follow-up.

    Raises
    ------
    IndexError
        If a treatment index is not in ``kernels``.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.kernels import KernelSet
    >>> from reawaken.population.scenarios import scenario_list
    >>> from reawaken.population.simulation import Plan, draw_chunk, first_lung_metastasis
    >>> plan = Plan(5000, 1, 2, 3, 5000, tuple(scenario_list([])))
    >>> d = draw_chunk(plan, 0)
    >>> k = KernelSet.from_ratios(("none",), np.zeros((2, 1, 2, 367)), {})
    >>> none = np.zeros(len(d.infections), bool)
    >>> t = first_lung_metastasis(d, none, np.zeros(len(none), int), k)
    >>> bool(np.all(np.isinf(t) | (t < d.censor)))
    True
    """
    n = len(d.lung_e)
    inf = d.infections
    person = inf.person
    keep = active & (inf.day < d.censor[person])
    p, day, path, kk = person[keep], inf.day[keep], inf.pathogen[keep], treatment[keep]
    draw = d.group[p]
    span = np.minimum(np.ceil(d.censor[p] - day), kernels.horizon).astype(np.int64)
    h_max = np.maximum(d.lung_early, d.lung_late)
    extra = np.bincount(p, weights=h_max[p] * kernels.bound[path, kk, draw, span], minlength=n)
    upper = (_baseline_cumulative(d, d.censor, slice(None)) + extra) * (1 + 1e-9) + 1e-300
    candidates = np.flatnonzero(upper >= d.lung_e)
    times = np.full(n, np.inf)
    if candidates.size == 0:
        return times
    # the survivors' infections, by candidate row
    row_of = np.full(n, -1, np.int64)
    width = int(math.floor(float(d.censor[candidates].max()))) + 1
    batch = max(1, GRID_CELLS // width)
    for lo in range(0, candidates.size, batch):
        rows = candidates[lo : lo + batch]
        row_of[rows] = np.arange(rows.size)
        mine = row_of[p] >= 0
        times[rows] = _grid_times(
            d, rows, row_of[p[mine]], day[mine], path[mine], kk[mine], draw[mine], kernels
        )
        row_of[rows] = -1
    return times


def _grid_times(
    d: Draws,
    rows: np.ndarray,
    row: np.ndarray,
    day: np.ndarray,
    path: np.ndarray,
    kk: np.ndarray,
    draw: np.ndarray,
    kernels: KernelSet,
) -> np.ndarray:
    """Event days of the survivors ``rows`` on the daily grid (inf where none before their end
    of follow-up); ``row`` etc. describe their infections (``row`` indexes ``rows``)."""
    censor = d.censor[rows]
    width = int(math.floor(float(censor.max()))) + 1  # the day of every survivor's censoring
    cols = np.arange(width)
    excess = np.zeros((rows.size, width))
    # infections sorted by survivor: the k-th infection of each survivor in pass k (rows unique)
    first = np.searchsorted(row, row, side="left") if row.size else row
    rank = np.arange(row.size) - first
    for k in range(int(rank.max()) + 1 if row.size else 0):
        sel = rank == k
        shift = cols[None, :] - day[sel, None]
        values = kernels.ratio[
            path[sel, None], kk[sel, None], draw[sel, None], np.maximum(shift, 0)
        ]
        excess[row[sel]] += np.where(shift >= 0, values, 0.0)
    base = np.where(
        cols[None, :] < d.early_days[rows, None], d.lung_early[rows, None], d.lung_late[rows, None]
    )
    hazard = base * np.maximum(1.0 + excess, 0.0)
    del excess, base
    cum = np.cumsum(hazard, axis=1)
    whole = np.minimum(np.floor(censor).astype(np.int64), width - 1)
    before = np.where(whole > 0, cum[np.arange(rows.size), np.maximum(whole - 1, 0)], 0.0)
    at_censor = before + (censor - np.floor(censor)) * hazard[np.arange(rows.size), whole]
    e = d.lung_e[rows]
    event = at_censor >= e
    times = np.full(rows.size, np.inf)
    if event.any():
        r = np.flatnonzero(event)
        j = np.argmax(cum[r] >= e[r, None], axis=1)
        prev = np.where(j > 0, cum[r, np.maximum(j - 1, 0)], 0.0)
        times[r] = j + (e[r] - prev) / hazard[r, j]
        times[r] = np.minimum(times[r], censor[r])
    return times


def scenario_infections(
    scenario: Scenario, d: Draws, kernels: KernelSet
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which infections happen, with which kernel, and which are treated (or, for a vaccine,
    which survivor-autumns are vaccinated) in ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    d : Draws
        The chunk.
    kernels : KernelSet
        The kernels (for the treatment's index).

    Returns
    -------
    tuple of numpy.ndarray
        ``active`` (bool, per infection), ``treatment`` (kernel index, per infection) and
        ``treated`` (bool: per infection, or per survivor and year for a vaccine).

    Raises
    ------
    ValueError
        If the scenario's kernel is not in ``kernels``.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.kernels import KernelSet
    >>> from reawaken.population.scenarios import Scenario, scenario_list
    >>> from reawaken.population.simulation import Plan, draw_chunk, scenario_infections
    >>> plan = Plan(2000, 1, 2, 3, 2000, tuple(scenario_list([])))
    >>> d = draw_chunk(plan, 0)
    >>> k = KernelSet.from_ratios(("none",), np.zeros((2, 1, 2, 367)), {})
    >>> active, _, _ = scenario_infections(Scenario("no-infection"), d, k)
    >>> int(active.sum())
    0
    """
    inf = d.infections
    m = len(inf)
    none = np.zeros(m, np.int64)
    if scenario.kind == "baseline":
        return np.ones(m, bool), none, np.zeros(m, bool)
    if scenario.kind == "no-infection":
        return np.zeros(m, bool), none, np.zeros(m, bool)
    k = kernels.index(scenario.kernel_label())
    if scenario.kind == "vaccine":
        vaccinated = inf.vaccinated_u < scenario.coverage  # (survivors, years)
        covered = vaccinated[inf.person, inf.season]
        prevented = covered & (inf.protect_u < float(scenario.efficacy or 0.0))
        return ~prevented, np.where(covered, k, 0), vaccinated
    treated = inf.treat_u < scenario.coverage
    return np.ones(m, bool), np.where(treated, k, 0), treated


def simulate_chunk(chunk: int, plan: Plan, kernels: KernelSet) -> np.ndarray:
    """Counts of ``chunk`` by scenario, group, measure and follow-up year.

    Parameters
    ----------
    chunk : int
        The chunk's index.
    plan : Plan
        The run.
    kernels : KernelSet
        The kernels (shared by every chunk).

    Returns
    -------
    numpy.ndarray
        ``(scenarios, draws, len(MEASURES), years)``, float64.

    Raises
    ------
    ValueError
        For a chunk outside the run.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.kernels import KernelSet
    >>> from reawaken.population.scenarios import scenario_list
    >>> from reawaken.population.simulation import MEASURES, Plan, simulate_chunk
    >>> plan = Plan(2000, 2, 4, 3, 1000, tuple(scenario_list([])))
    >>> k = KernelSet.from_ratios(("none",), np.zeros((2, 1, 4, 732)), {})
    >>> counts = simulate_chunk(1, plan, k)
    >>> counts.shape
    (2, 4, 5, 2)
    >>> bool(counts[0, :, MEASURES.index("person_years")].sum() <= 1000 * 2)
    True
    """
    d = draw_chunk(plan, chunk)
    years = plan.years
    out = np.zeros((len(plan.scenarios), plan.draws, len(MEASURES), years))
    inf = d.infections
    slots = plan.draws * years

    def count(groups: np.ndarray, year: np.ndarray, weights: np.ndarray | None = None):
        cell = groups * years + np.clip(year, 0, years - 1)
        return np.bincount(cell, weights=weights, minlength=slots).reshape(plan.draws, years)

    lag_days = d.lag_e * (_lag_mean_days())
    for s, scenario in enumerate(plan.scenarios):
        active, treatment, treated = scenario_infections(scenario, d, kernels)
        lung = first_lung_metastasis(d, active, treatment, kernels)
        cancer_death = lung + lag_days
        dies_of_cancer = cancer_death < np.minimum(d.other_death, plan.days)
        end = np.minimum(
            np.minimum(d.other_death, plan.days), np.where(dies_of_cancer, cancer_death, np.inf)
        )
        for y in range(years):
            exposure = np.clip(end / DAYS_PER_YEAR - y, 0.0, 1.0)
            out[s, :, 0, y] = np.bincount(d.group, weights=exposure, minlength=plan.draws)
        alive = active & (inf.day < end[inf.person])
        out[s, :, 1] = count(d.group[inf.person[alive]], inf.season[alive])
        has_lung = np.isfinite(lung)
        out[s, :, 2] = count(d.group[has_lung], _year(lung[has_lung]))
        out[s, :, 3] = count(d.group[dies_of_cancer], _year(cancer_death[dies_of_cancer]))
        if scenario.kind == "vaccine":
            starts = np.arange(years) * DAYS_PER_YEAR
            given = treated & (starts[None, :] < end[:, None])
            who, year = np.nonzero(given)
            out[s, :, 4] = count(d.group[who], year)
        elif scenario.treats:
            got = alive & treated
            out[s, :, 4] = count(d.group[inf.person[got]], inf.season[got])
    return out


def _year(days: np.ndarray) -> np.ndarray:
    return (days / DAYS_PER_YEAR).astype(np.int64)


def _lag_mean_days() -> float:
    """Mean days from a lung metastasis to cancer death (exponential of the bridge's median)."""
    from reawaken.bridge.kernel import LesionBiology

    return LesionBiology().survival_after_lung_metastasis * DAYS_PER_YEAR / math.log(2.0)
