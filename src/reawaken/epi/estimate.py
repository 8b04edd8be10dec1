"""The designs by name, and one design run end to end on the cohort store.

:data:`DESIGNS` holds every :class:`~reawaken.epi.design.Design` by name: ``cox``,
``competing``, ``sccs`` and ``emulation``; :func:`register_design` adds one. :func:`run_design`
checks the settings, prepares the design's data from the store, fits it, and returns a
:class:`~reawaken.epi.design.DesignResult` whose ``write(out, min_cell=10)`` writes the files
``reawaken estimate`` writes (small counts suppressed).

Example::

    from reawaken.cohort.store import CohortStore
    from reawaken.epi.estimate import run_design

    result = run_design(CohortStore("cohort.duckdb"), "cox",
                        outcome="lung_metastasis", exposure="any", windows="0-30,31-90,>90")
    result.estimates            # term, coef, se, ratio, ci_lower, ci_upper, p_value, ...
    result.write("est/")        # estimates.csv, counts.csv, forest.png, fit.json
"""

from __future__ import annotations

import warnings
from dataclasses import MISSING, fields
from typing import Any

from reawaken.epi.design import Design, DesignResult
from reawaken.epi.designs.competing import COMPETING
from reawaken.epi.designs.cox import COX
from reawaken.epi.designs.emulation import EMULATION
from reawaken.epi.designs.sccs import SCCS
from reawaken.epi.settings import StudySettings
from reawaken.errors import ConvergenceWarning, InputError

DESIGNS: dict[str, Design] = {d.name: d for d in (COX, SCCS, EMULATION, COMPETING)}


def register_design(design: Design) -> None:
    """Add ``design`` to :data:`DESIGNS` (replacing one of the same name)."""
    DESIGNS[design.name] = design


def design_named(name: str) -> Design:
    """The registered design called ``name``."""
    if name not in DESIGNS:
        raise InputError(f"unknown design {name!r} (expected one of {', '.join(DESIGNS)})")
    return DESIGNS[name]


def design_settings(design: str | Design, **options: Any) -> StudySettings:
    """The settings of ``design`` made from keyword ``options`` (checked)."""
    chosen = design_named(design) if isinstance(design, str) else design
    names = [f.name for f in fields(chosen.settings)]
    unknown = [key for key in options if key not in names]
    if unknown:
        raise InputError(
            f"{', '.join(unknown)}: not a setting of the {chosen.name} design (its settings: "
            f"{', '.join(names)})"
        )
    missing = [
        f.name
        for f in fields(chosen.settings)
        if f.name not in options and f.default is MISSING and f.default_factory is MISSING
    ]
    if missing:
        raise InputError(f"the {chosen.name} design needs {' and '.join(missing)}")
    return chosen.settings(**options)


def run_design(
    store: Any,
    design: str | Design,
    settings: StudySettings | None = None,
    **options: Any,
) -> DesignResult:
    """Run ``design`` (a name or a Design) on a cohort store with ``settings``, or with the
    settings made from keyword ``options``; counts are not suppressed (``write`` does that).

    Warnings raised while fitting (non-convergence, say) are recorded in the summary's
    ``warnings`` and issued again when the run ends.
    """
    chosen = design_named(design) if isinstance(design, str) else design
    if settings is None:
        settings = design_settings(chosen, **options)
    elif options:
        raise InputError("give the settings or keyword options, not both")
    elif not isinstance(settings, chosen.settings):
        raise InputError(
            f"the {chosen.name} design takes {chosen.settings.__name__}, "
            f"not {type(settings).__name__}"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = chosen.fit(chosen.prepare(store, settings), settings)
    result.summary["warnings"] = [str(w.message) for w in caught]
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result
