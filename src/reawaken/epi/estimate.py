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

from reawaken import __version__
from reawaken.epi.design import Design, DesignResult
from reawaken.epi.designs.competing import COMPETING
from reawaken.epi.designs.cox import COX
from reawaken.epi.designs.emulation import EMULATION
from reawaken.epi.designs.sccs import SCCS
from reawaken.epi.settings import StudySettings
from reawaken.errors import ConvergenceWarning, InputError

DESIGNS: dict[str, Design] = {d.name: d for d in (COX, SCCS, EMULATION, COMPETING)}
"""Every registered design by name: ``cox``, ``sccs``, ``emulation``, ``competing`` and those
added with :func:`register_design`."""


def register_design(design: Design) -> None:
    """Register a design, so that :func:`run_design` finds it by name.

    It replaces a design of the same name. (``reawaken estimate`` builds its options from the
    designs registered when its module is imported.)

    Parameters
    ----------
    design : Design
        An object with ``name``, ``settings``, ``prepare``, ``fit`` and ``figures`` (see
        :class:`~reawaken.epi.design.Design`).

    Returns
    -------
    None

    Raises
    ------
    AttributeError
        If ``design`` has no ``name`` (nothing else is checked here).

    Examples
    --------
    >>> from reawaken.epi import DESIGNS, register_design
    >>> from reawaken.epi.designs.cox import CoxDesign
    >>> class CalendarCox(CoxDesign):
    ...     name = "cox-calendar"
    >>> register_design(CalendarCox())
    >>> sorted(DESIGNS)
    ['competing', 'cox', 'cox-calendar', 'emulation', 'sccs']
    >>> del DESIGNS["cox-calendar"]  # and it is gone again
    """
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


INPUTS = ("memory", "engine")
"""Where a design's inputs are built: in memory (pandas) or in the store's engine (SQL)."""


def in_engine_designs() -> list[str]:
    """The registered designs that can build their inputs in the store's engine."""
    return [name for name, d in DESIGNS.items() if hasattr(d, "prepare_in_engine")]


def _preparation(design: Design, inputs: str) -> Any:
    """The design's ``prepare`` (inputs ``memory``) or ``prepare_in_engine`` (``engine``)."""
    if inputs not in INPUTS:
        raise InputError(f"inputs {inputs!r}: unknown (accepted: one of {', '.join(INPUTS)})")
    if inputs == "memory":
        return design.prepare
    prepare = getattr(design, "prepare_in_engine", None)
    if prepare is None:
        raise InputError(
            f"inputs engine: the {design.name} design builds its inputs in memory only "
            f"(inputs built in the engine: {', '.join(in_engine_designs())})"
        )
    return prepare


def run_design(
    store: Any,
    design: str | Design,
    settings: StudySettings | None = None,
    *,
    inputs: str = "memory",
    **options: Any,
) -> DesignResult:
    """Run a study design on a cohort store: check the settings, prepare the data, fit.

    The counts in the result are not suppressed: its ``write(out, min_cell=10)`` suppresses
    them and writes the files ``reawaken estimate`` writes. Warnings raised while fitting
    (non-convergence, say) are recorded in the summary's ``warnings`` and issued again when
    the run ends.

    Parameters
    ----------
    store : CohortStore
        The cohort store (:class:`reawaken.cohort.store.CohortStore`).
    design : str or Design
        A registered design's name (``cox``, ``sccs``, ``emulation``, ``competing``; see
        :data:`DESIGNS`) or a design.
    settings : StudySettings, optional
        The design's settings (e.g. :class:`CoxSettings`); or give them as keyword options.
    inputs : {"memory", "engine"}, default "memory"
        Where the design's inputs are built: ``memory`` reads the store's tables into pandas;
        ``engine`` builds them by SQL in the store's DuckDB engine and streams only what the
        fit needs (:mod:`reawaken.epi.engine_inputs`; designs with ``prepare_in_engine``:
        ``sccs``, ``cox``, ``competing``), for a store too big for memory; ``fit.json`` then records
        ``"inputs": "engine"``. The estimates are the same.
    **options
        The settings' fields (``outcome``, ``exposure``, ``windows``, ...), as Python values
        or their text.

    Returns
    -------
    DesignResult
        Estimates, counts, curves, summary, notes and the fitted models.

    Raises
    ------
    InputError
        If the design is unknown; ``inputs`` is not ``memory`` or ``engine``, or ``engine``
        for a design that builds its inputs in memory only; an option is not a setting of
        the design, a required one is missing, or both ``settings`` and options are given;
        ``settings`` are another design's; a setting is not accepted
        (:class:`~reawaken.epi.settings.SettingError` when settings do not go together); the
        store holds no person at risk of the outcome or the source is unknown; or the design
        cannot estimate anything from the data (the message says why).

    Warns
    -----
    ConvergenceWarning
        If a fit did not converge or a coefficient may be infinite.

    Examples
    --------
    >>> from reawaken.cohort.store import CohortStore
    >>> from reawaken.cohort.synth_layouts import generate
    >>> from reawaken.epi import run_design
    >>> truth = generate("flatiron", 2000, 1, "synthetic")  # a synthetic Flatiron extract
    >>> store = CohortStore("cohort.duckdb")
    >>> store.import_source("flatiron", "synthetic").rows["person"]
    2000
    >>> result = run_design(store, "cox", outcome="distant_metastasis", exposure="any",
    ...                     windows="0-180,>180")
    >>> result.estimates.query("kind == 'exposure'")[["term", "window", "events"]]
            term window  events
    0  any_0_180  0-180       2
    1  any_gt180   >180      11
    >>> result.summary["persons"], result.summary["outcome_events"]
    (2000, 197)
    """
    chosen = design_named(design) if isinstance(design, str) else design
    prepare = _preparation(chosen, inputs)
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
        result = chosen.fit(prepare(store, settings), settings)
    result.summary = {
        "design": chosen.name,
        "settings": settings.record(),
        "reawaken_version": __version__,
        "store": store.record(),
        **result.summary,
    }
    if inputs == "engine":
        result.summary["inputs"] = "engine"
    result.summary["warnings"] = [str(w.message) for w in caught]
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result
