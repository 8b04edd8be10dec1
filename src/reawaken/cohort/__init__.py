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

from reawaken._lazy import lazy_names

# No TYPE_CHECKING re-imports here (unlike reawaken.experiments): the cohort modules import this
# package (``from reawaken.cohort import sources``), and tests/cohort's cycle test counts
# imports under TYPE_CHECKING too.
_WHERE = {
    # the store
    "CohortStore": "store",
    "ImportResult": "store",
    "AlreadyStored": "store",
    "DEFAULT_PATH": "store",
    "read_source": "store",
    "TABLES": "schema",
    "format_summary": "summary",
    # the sources (the registry is the subpackage)
    "sources": None,
    "Source": "sources",
    # the synthetic generator
    "generate": "synth_layouts",
    "write_cohort": "synth_layouts",
    "simulate": "synth",
    "Cohort": "sources.synthetic",
    "default_params": "synth_params",
    "load_params": "synth_params",
    "check_params": "synth_params",
}
__all__ = sorted(_WHERE)


__getattr__, __dir__ = lazy_names(__name__, _WHERE)
