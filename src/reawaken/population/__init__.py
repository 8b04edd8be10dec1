"""reawaken.population: virtual breast cancer survivors through years of respiratory
infections, under prevention scenarios.

Survivors (:mod:`~reawaken.population.survivors`) catch influenza and SARS-CoV-2
(:mod:`~reawaken.population.infections`); each infection raises the survivor's lung-metastasis
hazard by the bridge's kernel (:mod:`reawaken.bridge.kernel`, computed once per parameter draw
and shared); scenarios (:mod:`~reawaken.population.scenarios`) prevent or treat infections. The
population runs in chunks of survivors, each seeded from the run seed and its index, in-process
or on a Dask cluster, with the same results (:func:`run_population`). docs/population.md gives
the model with every distribution and rate.

The names below are the public ones; they are imported when first used (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reawaken._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)


if TYPE_CHECKING:  # the public names (for type checkers, editors and lazy_names)
    from reawaken.population.run import PopulationResult as PopulationResult
    from reawaken.population.run import PopulationSettings as PopulationSettings
    from reawaken.population.run import run_population as run_population
    from reawaken.population.scenarios import Scenario as Scenario
    from reawaken.population.scenarios import parse_scenario as parse_scenario
    from reawaken.population.survivors import draw_survivors as draw_survivors
    from reawaken.population.survivors import survivor_distributions as survivor_distributions
