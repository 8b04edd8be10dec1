"""The excess-hazard kernels a population run needs, computed once and shared with every chunk.

Each pathogen has its kernel without treatment (``"none"``) and one per treatment the scenarios
give (a vaccinated survivor's breakthrough infection, IL-6 blockade or an antiviral from a given
day): :func:`reawaken.bridge.kernel.compute_kernel` solves the ``draws`` parameter draws of the
pathogen's human parameter set at once with the ensemble engine. Every kernel of a pathogen uses
the same draws (the same kernel seed), so that draw ``d`` is the same person's infection
whatever is done about it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reawaken.population.infections import PATHOGENS
from reawaken.population.scenarios import Scenario
from reawaken.population.survivors import DAYS_PER_YEAR

KERNEL_STREAM = 0x6B65726E  # "kern": keeps the kernels' seeds apart from the chunks' streams


def horizon_days(years: int) -> int:
    """Days a kernel must cover for ``years`` of follow-up (``years * 365.25`` and one more)."""
    return int(math.ceil(years * DAYS_PER_YEAR)) + 1


def kernel_seed(seed: int, pathogen: str) -> int:
    """The seed of the kernels of ``pathogen`` in a run seeded ``seed``: drawn from
    ``SeedSequence([seed, KERNEL_STREAM, index of the pathogen])``.

    Parameters
    ----------
    seed : int
        The run's seed.
    pathogen : str
        One of :data:`reawaken.population.infections.PATHOGENS`.

    Returns
    -------
    int
        A seed for :func:`reawaken.bridge.kernel.compute_kernel`.

    Raises
    ------
    ValueError
        For a pathogen the population does not simulate.

    Examples
    --------
    >>> from reawaken.population.kernels import kernel_seed
    >>> kernel_seed(1, "influenza") == kernel_seed(1, "influenza") != kernel_seed(1, "sars-cov-2")
    True
    """
    index = PATHOGENS.index(pathogen)
    state = np.random.SeedSequence([int(seed), KERNEL_STREAM, index]).generate_state(1)
    return int(state[0])


@dataclass(frozen=True)
class KernelSet:
    """The kernels of a run, stacked for lookups by pathogen, treatment and draw.

    Parameters
    ----------
    labels : tuple of str
        The treatments by index (``"none"`` first).
    ratio : numpy.ndarray
        ``(pathogens, treatments, draws, horizon)``: the excess hazard of a diagnosed lung
        metastasis over the baseline lung hazard, by day since infection (Kernel.ratio).
    bound : numpy.ndarray
        ``(pathogens, treatments, draws, horizon + 1)``: the running sum over days of the
        positive part of ``ratio`` (an upper bound of its integral, to find the survivors who
        may have an event).
    seeds : dict
        The kernel seed of each pathogen.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.population.kernels import KernelSet
    >>> k = KernelSet.from_ratios(("none",), np.zeros((2, 1, 3, 10)), {})
    >>> k.bound.shape
    (2, 1, 3, 11)
    """

    labels: tuple[str, ...]
    ratio: np.ndarray
    bound: np.ndarray
    seeds: dict[str, int]

    @classmethod
    def from_ratios(
        cls, labels: Sequence[str], ratio: np.ndarray, seeds: dict[str, int]
    ) -> KernelSet:
        """The set from stacked ratios (the bound is computed here)."""
        ratio = np.ascontiguousarray(ratio, dtype=float)
        bound = np.zeros((*ratio.shape[:-1], ratio.shape[-1] + 1))
        np.cumsum(np.maximum(ratio, 0.0), axis=-1, out=bound[..., 1:])
        return cls(tuple(labels), ratio, bound, dict(seeds))

    @property
    def draws(self) -> int:
        return int(self.ratio.shape[2])

    @property
    def horizon(self) -> int:
        return int(self.ratio.shape[3])

    def index(self, label: str) -> int:
        """The index of the treatment ``label``."""
        return self.labels.index(label)


def build_kernels(scenarios: Sequence[Scenario], draws: int, seed: int, years: int) -> KernelSet:
    """Every kernel the ``scenarios`` need, for ``draws`` parameter draws, covering ``years``.

    Parameters
    ----------
    scenarios : sequence of Scenario
        The scenarios of the run.
    draws : int
        Parameter draws per kernel (the ensemble engine solves them at once).
    seed : int
        The run's seed (each pathogen's kernel seed comes from it, :func:`kernel_seed`).
    years : int
        Years of follow-up (the kernels' horizon, :func:`horizon_days`).

    Returns
    -------
    KernelSet
        The stacked kernels.

    Raises
    ------
    reawaken.errors.InputError
        If a within-host solve fails.

    Examples
    --------
    >>> from reawaken.population.kernels import build_kernels
    >>> from reawaken.population.scenarios import scenario_list
    >>> k = build_kernels(scenario_list(["anti-il6:coverage=0.5"]), 4, 1, 1)
    >>> k.labels, k.ratio.shape
    (('none', 'anti-il6 day 2'), (2, 2, 4, 367))
    """
    from reawaken.bridge.kernel import LesionBiology, compute_kernel

    treatments: dict[str, list[object]] = {"none": []}
    for scenario in scenarios:
        if scenario.kind in ("baseline", "no-infection"):
            continue
        treatments.setdefault(scenario.kernel_label(), scenario.interventions())
    horizon = horizon_days(years)
    biology = LesionBiology()
    seeds = {p: kernel_seed(seed, p) for p in PATHOGENS}
    ratio = np.empty((len(PATHOGENS), len(treatments), draws, horizon))
    for i, pathogen in enumerate(PATHOGENS):
        for j, (label, interventions) in enumerate(treatments.items()):
            kernel = compute_kernel(
                pathogen,
                draws,
                seeds[pathogen],
                biology=biology,
                interventions=interventions,
                label=label,
                horizon=horizon,
            )
            ratio[i, j] = kernel.ratio
    return KernelSet.from_ratios(tuple(treatments), ratio, seeds)
