"""What a design is: settings, preparation from the cohort store, a fit, figures.

A :class:`Design` has a ``name``, a frozen settings dataclass (``settings``, deriving from
:class:`~reawaken.epi.settings.StudySettings`), ``prepare(store, settings)`` (the cohort store's
tables turned into the design's input), ``fit(prepared, settings)`` (a :class:`DesignResult`)
and ``figures(result)`` (the figures it draws). :func:`reawaken.epi.estimate.run_design` runs one
by name; :func:`reawaken.epi.outputs.write_design` (``DesignResult.write``) writes its files.

Shared by the designs here: the cohort they study (:func:`read_cohort`), the summary every
design starts from, the columns every estimates table carries, and the forest and cumulative
incidence figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from reawaken.epi import cohort_designs
from reawaken.epi.outputs import DEFAULT_MIN_CELL, write_design
from reawaken.epi.settings import StudySettings
from reawaken.epi.tables import RatioResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True)
class Figure:
    """One figure file: ``name`` (``forest.png``), size in inches, and ``draw(ax)``."""

    name: str
    width: float
    height: float
    draw: Callable[[Axes], Any]


@dataclass
class DesignResult:
    """What one design produced on the cohort store, as :func:`run_design` returns it.

    The counts held here are not suppressed: :meth:`write` suppresses them (every count from 1
    to ``min_cell - 1``) and writes the files ``reawaken estimate`` writes, byte for byte.
    :meth:`figures` gives the design's figures (each draws on an ``ax``).

    Parameters
    ----------
    design : Design
        The design that made it.
    estimates : pandas.DataFrame
        The standard columns (``term, coef, se, ratio, ci_lower, ci_upper, p_value``) with
        ``design, outcome, exposure, event`` (``outcome`` or ``competing``), ``kind``
        (``exposure`` or ``adjustment``), ``window, events, person_years, evalue, evalue_ci``.
    counts : pandas.DataFrame
        Events and person-years per window: ``window, events, person_years``.
    curves : pandas.DataFrame or None
        Cumulative incidence where the design has it.
    summary : dict
        What ``fit.json`` holds: the design, outcome, exposure, persons, event counts, the
        fits' summaries and the warnings raised while fitting.
    notes : list of str
        What was left out and why.
    fits : dict of str to RatioResult
        The fitted models by event (``outcome``, ``competing``).

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
    >>> result.counts["window"].tolist()
    ['none', '0-180', '>180']
    >>> sorted(path.name for path in result.write("estimates", min_cell=10))
    ['counts.csv', 'estimates.csv', 'fit.json', 'forest.png']
    >>> from pathlib import Path
    >>> print(Path("estimates/counts.csv").read_text())
    window,events,person_years
    none,184,8993.2...
    0-180,,181.5...
    >180,11,480.8...
    """

    design: Design
    estimates: pd.DataFrame
    counts: pd.DataFrame
    curves: pd.DataFrame | None
    summary: dict
    notes: list[str] = field(default_factory=list)
    fits: dict[str, RatioResult] = field(default_factory=dict)

    def figures(self) -> list[Figure]:
        """The figures of this result, as its design draws them."""
        return self.design.figures(self)

    def write(self, out: str | Path, *, min_cell: int = DEFAULT_MIN_CELL) -> list[Path]:
        """Suppress counts under ``min_cell`` and write the tables, figures and ``fit.json``
        into the folder ``out`` (the files ``reawaken estimate`` writes); returns the paths."""
        return write_design(self, out, min_cell=min_cell)


class Design(Protocol):
    """A study design run on the cohort store: what :func:`register_design` accepts.

    Any object with these attributes and methods is a Design (a protocol: nothing to derive
    from). :func:`run_design` checks the settings, calls ``prepare`` then ``fit``;
    ``DesignResult.write`` calls ``figures`` and writes the files. For ``write``, ``fit``
    returns a :class:`DesignResult` whose ``estimates`` have the columns ``design, outcome,
    exposure, event, kind`` and the standard ones (plus ``events`` to be suppressed), whose
    ``counts`` have ``events``, and whose ``summary`` has ``outcome_events`` and
    ``competing_events`` (:func:`reawaken.epi.design.base_summary` gives them).

    Parameters
    ----------
    *args, **kwargs
        None of its own: a Design is never made from this class, which only says what a design
        has.

    Attributes
    ----------
    name : str
        The name :func:`run_design` and ``reawaken estimate --design`` know it by.
    settings : type of StudySettings
        Its settings dataclass (``reawaken estimate`` derives its options from the fields).

    Examples
    --------
    >>> from reawaken.epi import DESIGNS
    >>> sorted(DESIGNS)
    ['competing', 'cox', 'emulation', 'sccs']
    >>> DESIGNS["sccs"].name, DESIGNS["sccs"].settings.__name__
    ('sccs', 'SCCSSettings')
    """

    name: str
    settings: type[StudySettings]

    def prepare(self, store: Any, settings: Any) -> Any:
        """The design's input from the cohort store (refuses what cannot be estimated)."""
        ...

    def fit(self, prepared: Any, settings: Any) -> DesignResult:
        """Fit the design to its prepared input."""
        ...

    def figures(self, result: DesignResult) -> list[Figure]:
        """The figures the design draws of its result."""
        ...


@dataclass
class Cohort:
    """The persons at risk of the outcome and their infections, as every design starts."""

    persons: pd.DataFrame
    infections: pd.DataFrame
    notes: list[str]


def read_cohort(store: Any, settings: StudySettings) -> Cohort:
    """Persons at risk of ``settings.outcome`` and their ``settings.exposure`` infections."""
    people = cohort_designs.person_table(store, settings.outcome, source=settings.source)
    infections = cohort_designs.infection_table(store, settings.exposure, source=settings.source)
    return Cohort(people.frame, infections, list(people.notes))


def base_summary(design: str, settings: StudySettings, cohort: Cohort) -> dict:
    """The summary every design starts from: design, outcome, exposure and the persons."""
    persons = cohort.persons
    return {
        "design": design,
        "outcome": settings.outcome,
        "exposure": settings.exposure,
        "persons": len(persons),
        "outcome_events": int((persons["status"] == 1).sum()),
        "competing_events": int((persons["status"] == 2).sum()),
    }


def label_estimates(estimates: pd.DataFrame, design: str, settings: StudySettings) -> None:
    """Put ``design, outcome, exposure`` in front of an estimates table (in place)."""
    estimates.insert(0, "design", design)
    estimates.insert(1, "outcome", settings.outcome)
    estimates.insert(2, "exposure", settings.exposure)


def forest_figure(result: DesignResult, *, xlabel: str, label: str = "window") -> Figure:
    """Forest plot of the exposure terms of the outcome (``forest.png``)."""
    from reawaken.plots.forest import plot_forest

    est = result.estimates
    main = est[(est["kind"] == "exposure") & (est["event"] == "outcome")]
    summary = result.summary
    title = f"{summary['outcome']} after {summary['exposure']} ({summary['design']})"

    def draw(ax: Axes) -> Axes:
        return plot_forest(
            main.assign(window=main["window"] + " days"),
            ax=ax,
            label=label,
            xlabel=xlabel,
            title=title,
        )

    return Figure("forest.png", 6, 1.2 + 0.45 * max(len(main), 1), draw)


def incidence_figure(result: DesignResult, *, xlabel: str) -> Figure:
    """Cumulative incidence curves (``cif.png``)."""
    from reawaken.plots.incidence import plot_cumulative_incidence

    def draw(ax: Axes) -> Axes:
        return plot_cumulative_incidence(
            result.curves,
            ax=ax,
            xlabel=xlabel,
            title=f"Cumulative incidence of {result.summary['outcome']}",
        )

    return Figure("cif.png", 6, 4, draw)
