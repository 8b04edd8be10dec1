"""reawaken.cohort: cohort data of breast cancer survivors, imported from UK Biobank, Flatiron
Health or an OMOP CDM into one DuckDB store, and synthetic cohorts with a planted effect.

Import a source extract into a store (:class:`CohortStore`, :meth:`CohortStore.import_source`)
and read its canonical tables (:data:`TABLES`) as pandas DataFrames; describe it with small
counts suppressed (:meth:`CohortStore.summary`, :func:`format_summary`). The source kinds are a
registry (:mod:`reawaken.cohort.sources`: ``sources.kinds()``, ``sources.get``,
``sources.register``). The generator simulates a cohort (:func:`simulate`) and writes it in a
source's layout with the truth an import must reproduce (:func:`write_cohort`, or both in one
step: :func:`generate`); its parameters are :func:`default_params`::

    from reawaken.cohort import CohortStore, generate

    truth = generate("flatiron", 2000, 1, "synthetic")
    store = CohortStore("cohort.duckdb")
    store.import_source("flatiron", "synthetic")
    store.infection()                  # source, person_id, infection_date, pathogen, ...
    store.summary(min_cell=10)

The names below are the public ones; the modules hold the rest (importable, not promised).
They are imported when first used (PEP 562), so that ``import reawaken.cohort`` loads neither
DuckDB nor pandas until a name is used; the cohort modules never load JAX, numba or
matplotlib. Bad input raises :class:`reawaken.errors.InputError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reawaken._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)


if TYPE_CHECKING:  # the public names (for type checkers, editors and lazy_names)
    from reawaken.cohort import sources as sources
    from reawaken.cohort.schema import TABLES as TABLES
    from reawaken.cohort.sources import Source as Source
    from reawaken.cohort.sources.synthetic import Cohort as Cohort
    from reawaken.cohort.store import DEFAULT_PATH as DEFAULT_PATH
    from reawaken.cohort.store import AlreadyStored as AlreadyStored
    from reawaken.cohort.store import CohortStore as CohortStore
    from reawaken.cohort.store import ImportResult as ImportResult
    from reawaken.cohort.store import read_source as read_source
    from reawaken.cohort.summary import format_summary as format_summary
    from reawaken.cohort.synth import simulate as simulate
    from reawaken.cohort.synth_layouts import generate as generate
    from reawaken.cohort.synth_layouts import write_cohort as write_cohort
    from reawaken.cohort.synth_params import check_params as check_params
    from reawaken.cohort.synth_params import default_params as default_params
    from reawaken.cohort.synth_params import load_params as load_params
