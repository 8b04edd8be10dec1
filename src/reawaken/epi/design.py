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
    """What one design produced on the cohort store (counts not suppressed: :meth:`write`
    suppresses them).

    ``estimates``: the standard columns (``term, coef, se, ratio, ci_lower, ci_upper,
    p_value``) with ``design, outcome, exposure, event, kind, window, events, person_years,
    evalue, evalue_ci``; ``counts``: events and person-years per window; ``curves``: cumulative
    incidence where the design has them; ``summary``: what ``fit.json`` holds; ``notes``: what
    was left out and why; ``fits``: the fitted models by event (``outcome``, ``competing``),
    each a :class:`~reawaken.epi.tables.RatioResult`.
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
    """A study design run on the cohort store (see the module docstring)."""

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
