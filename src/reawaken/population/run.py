"""A population run: the kernels once, the chunks in-process or on Dask, the counts combined in
chunk order, the scenario table.

The counts of each chunk (by scenario, group, measure and year) are added in chunk order
whatever ran them, so the results are the same float for float in-process, on a
``dask.distributed.LocalCluster`` or on a cluster the run connects to. Dask is imported only
when a cluster is asked for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from reawaken.errors import InputError
from reawaken.population.kernels import KernelSet, build_kernels
from reawaken.population.limits import DEFAULT_CHUNK as DEFAULT_CHUNK
from reawaken.population.limits import MAX_DRAWS as MAX_DRAWS
from reawaken.population.limits import MAX_SURVIVORS as MAX_SURVIVORS
from reawaken.population.limits import MAX_YEARS as MAX_YEARS
from reawaken.population.scenarios import Scenario, scenario_list
from reawaken.population.simulation import MEASURES, Plan, simulate_chunk

LEVEL = 0.95

SCENARIO_MEASURES = (
    "person_years",
    "infections",
    "treated",
    "lung_metastases",
    "excess_lung_metastases",
    "prevented_lung_metastases",
    "prevented_fraction",
    "number_needed_to_treat",
    "cancer_deaths",
    "excess_cancer_deaths",
    "prevented_cancer_deaths",
)
"""The measures of scenarios.csv, in order."""
YEAR_MEASURES = (
    "person_years",
    "infections",
    "lung_metastases",
    "excess_lung_metastases",
    "prevented_lung_metastases",
    "cancer_deaths",
    "excess_cancer_deaths",
)
"""The measures of per_year.csv, in order."""


@dataclass(frozen=True)
class PopulationSettings:
    """The settings of a population run.

    Parameters
    ----------
    survivors : int
        Survivors in the population (1 to 10^9).
    years : int
        Years of follow-up (1 to 10).
    draws : int
        Parameter draws of the within-host model (1 to 1000); survivors are split into as
        many groups, group ``d`` using draw ``d`` (the intervals come from the groups).
    seed : int
        The run's seed (chunks: ``default_rng([seed, chunk])``; kernels: see
        :func:`reawaken.population.kernels.kernel_seed`).
    chunk_size : int, default 100_000
        Survivors per chunk (the results depend on it, as on the seed; memory grows with it).

    Raises
    ------
    InputError
        If a setting is out of range (the message names it).

    Examples
    --------
    >>> from reawaken.population import PopulationSettings
    >>> PopulationSettings(1000, 5, 10, 1).chunks
    1
    >>> PopulationSettings(0, 5, 10, 1)
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: survivors 0: out of range (accepted: a whole number from 1 to ...)
    """

    survivors: int
    years: int
    draws: int
    seed: int
    chunk_size: int = DEFAULT_CHUNK

    def __post_init__(self) -> None:
        from reawaken.accepts import SEED, whole

        for name, accepts in (
            ("survivors", whole(1, MAX_SURVIVORS)),
            ("years", whole(1, MAX_YEARS)),
            ("draws", whole(1, MAX_DRAWS)),
            ("seed", SEED),
            ("chunk_size", whole(1, 10_000_000)),
        ):
            object.__setattr__(self, name, accepts.check(name, getattr(self, name)))

    @property
    def chunks(self) -> int:
        return -(-self.survivors // self.chunk_size)


@dataclass
class PopulationResult:
    """What a population run gives.

    Parameters
    ----------
    settings : PopulationSettings
        The settings.
    scenarios : list of Scenario
        The scenarios run (baseline and no-infection first).
    counts : numpy.ndarray
        ``(scenarios, draws, measures, years)``: the combined counts of every chunk
        (:data:`reawaken.population.simulation.MEASURES`).
    kernels : KernelSet
        The kernels used.
    engine : dict
        What ran the chunks (in-process, a LocalCluster, a scheduler's address).
    seconds : float
        Wall time of the run.

    Examples
    --------
    >>> from reawaken.population import PopulationSettings, run_population
    >>> result = run_population(PopulationSettings(2000, 1, 2, 1), [])
    >>> list(result.table()["scenario"].unique())
    ['baseline', 'no-infection']
    """

    settings: PopulationSettings
    scenarios: list[Scenario]
    counts: np.ndarray
    kernels: KernelSet
    engine: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def table(self, level: float = LEVEL) -> pd.DataFrame:
        """scenarios.csv: ``scenario, measure, value, lower, upper`` (see :func:`measures`)."""
        return measures(self.counts.sum(axis=3), self.scenarios, self.settings, level)

    def per_year(self, level: float = LEVEL) -> pd.DataFrame:
        """per_year.csv: ``scenario, year, measure, value, lower, upper``."""
        frames = []
        for y in range(self.settings.years):
            t = measures(self.counts[..., y], self.scenarios, self.settings, level)
            t = t[t["measure"].isin(YEAR_MEASURES)].copy()
            t.insert(1, "year", y + 1)
            frames.append(t)
        out = pd.concat(frames, ignore_index=True)
        order = {m: i for i, m in enumerate(YEAR_MEASURES)}
        scen = {s.label: i for i, s in enumerate(self.scenarios)}
        keys = out["scenario"].map(scen) * 10_000 + out["year"] * 100 + out["measure"].map(order)
        return out.iloc[np.argsort(keys.to_numpy(), kind="stable")].reset_index(drop=True)


def group_sizes(survivors: int, draws: int) -> np.ndarray:
    """Survivors in each group (survivor ``i`` is in group ``i mod draws``)."""
    return survivors // draws + (np.arange(draws) < survivors % draws)


def _derived(c: np.ndarray, scenarios: Sequence[Scenario]) -> dict[str, np.ndarray]:
    """Every measure from counts ``c[scenario, ..., measure]`` (``...``: groups or none)."""
    m = {name: c[:, ..., i] for i, name in enumerate(MEASURES)}
    base, none = 0, 1  # scenario_list puts baseline and no-infection first
    out = {"person_years": m["person_years"], "infections": m["infections"]}
    out["treated"] = m["treated"]
    for what in ("lung_metastases", "cancer_deaths"):
        x = m[what]
        out[what] = x
        out[f"excess_{what}"] = x - x[none]
        out[f"prevented_{what}"] = x[base] - x
    excess_base = out["excess_lung_metastases"][base]
    prevented = out["prevented_lung_metastases"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["prevented_fraction"] = np.where(excess_base != 0, prevented / excess_base, np.nan)
        nnt = np.where(prevented > 0, m["treated"] / prevented, np.inf)
    treats = np.array([s.kind in ("vaccine", "anti-il6", "antiviral") for s in scenarios])
    shape = (len(scenarios),) + (1,) * (nnt.ndim - 1)
    out["number_needed_to_treat"] = np.where(treats.reshape(shape), nnt, np.nan)
    return out


def measures(
    counts: np.ndarray,
    scenarios: Sequence[Scenario],
    settings: PopulationSettings,
    level: float = LEVEL,
) -> pd.DataFrame:
    """The scenario table from counts by scenario, group and measure.

    ``value`` is the whole population's measure. ``lower`` and ``upper``: each group's counts
    scaled to the population (times ``survivors / group size``), the measure computed per group,
    and the ``(1 - level) / 2`` and ``(1 + level) / 2`` empirical quantiles across groups (groups
    where a ratio is undefined left out; none with fewer than two groups).

    Parameters
    ----------
    counts : numpy.ndarray
        ``(scenarios, draws, len(MEASURES))``.
    scenarios : sequence of Scenario
        The scenarios (baseline and no-infection first).
    settings : PopulationSettings
        The run's settings.
    level : float, default 0.95
        Level of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``scenario, measure, value, lower, upper`` (:data:`SCENARIO_MEASURES` per scenario).

    Raises
    ------
    IndexError
        If ``counts`` does not match the scenarios.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population import PopulationSettings
    >>> from reawaken.population.run import measures
    >>> from reawaken.population.scenarios import scenario_list
    >>> c = np.zeros((2, 2, 5)); c[0, :, 2] = 3; c[1, :, 2] = 1  # lung metastases
    >>> t = measures(c, scenario_list([]), PopulationSettings(10, 1, 2, 0))
    >>> table = t.set_index(["scenario", "measure"])
    >>> float(table.loc[("no-infection", "prevented_fraction"), "value"])
    1.0
    """
    total = _derived(counts.sum(axis=1), scenarios)
    scale = settings.survivors / group_sizes(settings.survivors, settings.draws)
    per_group = _derived(counts * scale[None, :, None], scenarios)
    q = ((1.0 - level) / 2.0, (1.0 + level) / 2.0)
    rows = []
    for s, scenario in enumerate(scenarios):
        for name in SCENARIO_MEASURES:
            values = per_group[name][s]
            lo, hi = _quantiles(values, q)
            rows.append((scenario.label, name, float(total[name][s]), lo, hi))
    return pd.DataFrame(rows, columns=["scenario", "measure", "value", "lower", "upper"])


def _quantiles(values: np.ndarray, q: tuple[float, float]) -> tuple[float, float]:
    values = values[~np.isnan(values)]
    if values.size < 2:
        return math.nan, math.nan
    lo, hi = np.quantile(values, q, method="inverted_cdf")
    return float(lo), float(hi)


def run_chunks(
    plan: Plan,
    kernels: KernelSet,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Every chunk's counts, added in chunk order: in-process, or as tasks of a Dask
    ``client`` (the kernels scattered to every worker once).

    Parameters
    ----------
    plan : Plan
        The run.
    kernels : KernelSet
        The kernels.
    client : dask.distributed.Client, optional
        Runs the chunks on its cluster; in-process when None.
    progress : callable, optional
        Called with the number of survivors of each chunk done.

    Returns
    -------
    numpy.ndarray
        ``(scenarios, draws, len(MEASURES), years)``.

    Raises
    ------
    reawaken.errors.ReawakenError
        As a chunk raises it.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.kernels import KernelSet
    >>> from reawaken.population.scenarios import scenario_list
    >>> from reawaken.population.run import run_chunks
    >>> from reawaken.population.simulation import Plan
    >>> plan = Plan(3000, 1, 2, 5, 1000, tuple(scenario_list([])))
    >>> k = KernelSet.from_ratios(("none",), np.zeros((2, 1, 2, 367)), {})
    >>> run_chunks(plan, k).shape
    (2, 2, 5, 1)
    """
    total = np.zeros((len(plan.scenarios), plan.draws, len(MEASURES), plan.years))
    if client is None:
        for chunk in range(plan.chunks):
            total += simulate_chunk(chunk, plan, kernels)
            if progress is not None:
                progress(plan.chunk_bounds(chunk)[1])
        return total
    import uuid

    from dask.distributed import as_completed

    run = uuid.uuid4().hex
    shared = client.scatter(kernels, broadcast=True, hash=False)
    futures = [
        client.submit(simulate_chunk, chunk, plan, shared, key=f"population-{run}-{chunk}")
        for chunk in range(plan.chunks)
    ]
    done: dict[int, np.ndarray] = {}
    index = {f.key: i for i, f in enumerate(futures)}
    try:
        for future in as_completed(futures):
            done[index[future.key]] = future.result()
            future.release()
            if progress is not None:
                progress(plan.chunk_bounds(index[future.key])[1])
    finally:
        client.cancel(futures)
        client.cancel(shared)
    for chunk in range(plan.chunks):  # chunk order: the same floats as in-process
        total += done[chunk]
    return total


def run_population(
    settings: PopulationSettings,
    scenarios: Sequence[Scenario | str],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    progress: Callable[[int], None] | None = None,
) -> PopulationResult:
    """Simulate the survivors under ``scenarios`` (baseline and no-infection always).

    Parameters
    ----------
    settings : PopulationSettings
        Survivors, years, draws, seed, chunk size.
    scenarios : sequence of Scenario or str
        The prevention scenarios (specs are parsed, :func:`parse_scenario`).
    workers : int, optional
        Run the chunks on a new ``dask.distributed.LocalCluster`` of this many worker
        processes (one thread each), closed at the end.
    scheduler : str, optional
        Run the chunks on the Dask cluster at this address (``tcp://host:port``); its workers
        need reawaken installed.
    client : dask.distributed.Client, optional
        Run the chunks with this client (left open).
    progress : callable, optional
        Called with the number of survivors of each chunk done.

    Returns
    -------
    PopulationResult
        The combined counts, the kernels, the engine and the time taken.

    Raises
    ------
    InputError
        For a bad scenario, more than one of ``workers``, ``scheduler`` and ``client``, or a
        scheduler that cannot be reached.

    Examples
    --------
    >>> from reawaken.population import PopulationSettings, run_population
    >>> r = run_population(PopulationSettings(3000, 1, 2, 4), ["anti-il6:coverage=0.5"])
    >>> t = r.table().set_index(["scenario", "measure"])["value"]
    >>> float(t[("no-infection", "excess_lung_metastases")])
    0.0
    """
    started = time.perf_counter()
    chosen = [x is not None for x in (workers, scheduler, client)]
    if sum(chosen) > 1:
        raise InputError("give at most one of workers, scheduler and client")
    scenario_objects = scenario_list(list(scenarios))
    plan = Plan(
        settings.survivors,
        settings.years,
        settings.draws,
        settings.seed,
        settings.chunk_size,
        tuple(scenario_objects),
    )
    if client is not None:
        engine = {"kind": "dask client", "scheduler": str(client.scheduler.address)}
        kernels = build_kernels(scenario_objects, settings.draws, settings.seed, settings.years)
        counts = run_chunks(plan, kernels, client, progress)
    elif workers is not None or scheduler is not None:
        with _dask_client(workers, scheduler) as (own, engine):  # reached before the work
            kernels = build_kernels(scenario_objects, settings.draws, settings.seed, settings.years)
            counts = run_chunks(plan, kernels, own, progress)
            engine["worker_peak_memory_mib"] = _worker_peaks(own)
    else:
        engine = {"kind": "in-process"}
        kernels = build_kernels(scenario_objects, settings.draws, settings.seed, settings.years)
        counts = run_chunks(plan, kernels, None, progress)
    return PopulationResult(
        settings, scenario_objects, counts, kernels, engine, time.perf_counter() - started
    )


class _dask_client:
    """A Dask client on a new LocalCluster (``workers``) or on ``scheduler``; closed on exit."""

    def __init__(self, workers: int | None, scheduler: str | None) -> None:
        self.workers, self.scheduler = workers, scheduler
        self.cluster: Any = None
        self.client: Any = None

    def __enter__(self) -> tuple[Any, dict[str, Any]]:
        from dask.distributed import Client, LocalCluster

        if self.workers is not None:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)
            return self.client, {"kind": "dask LocalCluster", "workers": self.workers}
        try:
            self.client = Client(self.scheduler, timeout="5s")
        except (OSError, TimeoutError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler at {self.scheduler} ({exc})"
            ) from None
        workers = len(self.client.scheduler_info().get("workers", {}))
        return self.client, {
            "kind": "dask scheduler",
            "scheduler": self.scheduler,
            "workers": workers,
        }

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _peak_rss_mib() -> float:
    """Peak resident memory of this process (MiB; Linux reports KiB, macOS bytes)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _worker_peaks(client: Any) -> dict[str, float]:
    """Peak resident memory of each worker process (MiB)."""
    try:
        peaks = client.run(_peak_rss_mib)
    except Exception:  # a worker that left: the peak is only informative  # noqa: BLE001
        return {}
    return {str(k): round(float(v), 1) for k, v in sorted(peaks.items())}
