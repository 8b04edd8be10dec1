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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from reawaken.epi import cohort_designs
from reawaken.epi.evalue import add_evalues
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
        What ``fit.json`` holds: the design, its settings (every field, from
        :func:`~reawaken.epi.estimate.run_design`), outcome, exposure, persons, event counts,
        the fits' summaries and the warnings raised while fitting.
    notes : list of str
        What was left out and why.
    fits : dict of str to RatioResult
        The fitted models by event (``outcome``, ``competing``).

    Examples
    --------
    A result made by hand (a design's ``fit`` makes one the same way) and written; the design
    here draws no figures. :func:`~reawaken.epi.estimate.run_design` runs a design on a store.

    >>> import pandas as pd
    >>> from reawaken.epi import DesignResult
    >>> from reawaken.epi.tables import estimates_table
    >>> class Tally:
    ...     name = "tally"
    ...     def figures(self, result):
    ...         return []
    >>> estimates = estimates_table(["any_0_30"], [0.9], [0.5]).assign(
    ...     design="tally", outcome="lung_metastasis", exposure="any", event="outcome",
    ...     kind="exposure", window="0-30", events=4)
    >>> counts = pd.DataFrame({"window": ["none", "0-30"], "events": [120, 4],
    ...                        "person_years": [900.0, 12.5]})
    >>> summary = {"design": "tally", "outcome_events": 124, "competing_events": 0}
    >>> result = DesignResult(Tally(), estimates, counts, None, summary)
    >>> [path.name for path in result.write("tally", min_cell=10)]
    ['estimates.csv', 'counts.csv', 'fit.json']
    >>> from pathlib import Path
    >>> print(Path("tally/counts.csv").read_text())  # 124 - 120 would give the 4 back
    window,events,person_years
    none,,900.0
    0-30,,12.5
    <BLANKLINE>
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

    def write(
        self, out: str | Path, *, min_cell: int = DEFAULT_MIN_CELL, overwrite: bool = False
    ) -> list[Path]:
        """Suppress counts under ``min_cell`` and every number they could be read back from,
        and write the tables, figures and ``fit.json`` into the folder ``out`` as a whole (the
        files ``reawaken estimate`` writes); an earlier run's files there are refused unless
        ``overwrite``, which replaces them all. Returns the paths."""
        return write_design(self, out, min_cell=min_cell, overwrite=overwrite)


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


def window_columns(
    estimates: pd.DataFrame, labels: Mapping[str, str], counts: pd.DataFrame, event: str
) -> pd.DataFrame:
    """Add ``kind, window, events, person_years, event`` to a design's estimates (in place).

    Terms in ``labels`` are exposures, in the window it names; other terms are adjustments.
    Events and person-years come from ``counts`` (``window, events, person_years``) by window;
    ``event`` is the event fitted (``outcome`` or ``competing``). Returns ``estimates``."""
    estimates["kind"] = np.where(estimates["term"].isin(list(labels)), "exposure", "adjustment")
    estimates["window"] = estimates["term"].map(labels).fillna("")
    by_window = counts.set_index("window")
    estimates["events"] = estimates["window"].map(by_window["events"]).astype("Int64")
    estimates["person_years"] = estimates["window"].map(by_window["person_years"])
    estimates["event"] = event
    return estimates


class CohortDesign:
    """What the built-in designs share: the cohort read from the store, E-values and labels on
    the estimates, and a forest plot.

    A subclass sets ``name``, ``settings`` and ``xlabel`` (the forest plot's ratio), and writes
    ``from_cohort(cohort, settings)`` (the design's input) and ``fit`` (which ends with
    :meth:`result`); it is then a :class:`Design`.
    """

    name: str
    settings: type[StudySettings]
    xlabel = "Ratio (95% CI)"
    forest_label = "window"  # the forest plot's rows: windows, or the estimates' terms

    def prepare(self, store: Any, settings: Any) -> Any:
        """The design's input: :meth:`from_cohort` of the cohort read from the store."""
        return self.from_cohort(read_cohort(store, settings), settings)

    def from_cohort(self, cohort: Cohort, settings: Any) -> Any:
        """The design's input from its cohort (refuses what cannot be estimated)."""
        raise NotImplementedError

    def result(
        self,
        settings: StudySettings,
        estimates: pd.DataFrame,
        counts: pd.DataFrame,
        summary: dict,
        notes: list[str],
        fits: dict[str, RatioResult],
        *,
        curves: pd.DataFrame | None = None,
        **evalues: Any,
    ) -> DesignResult:
        """The :class:`DesignResult` of ``estimates`` with their E-values (``evalues`` are the
        options of :func:`~reawaken.epi.evalue.add_evalues`), labelled with the design,
        outcome and exposure."""
        estimates = add_evalues(estimates, **evalues)
        label_estimates(estimates, self.name, settings)
        return DesignResult(self, estimates, counts, curves, summary, notes, fits)

    def figures(self, result: DesignResult) -> list[Figure]:
        """The forest plot of the exposure terms."""
        return [forest_figure(result, xlabel=self.xlabel, label=self.forest_label)]


_DESIGN_NAMES = {
    "cox": "Cox regression",
    "emulation": "target trial emulation",
    "competing": "competing risks",
    "sccs": "self-controlled case series",
}
_TIME_ORIGINS = {
    "emulation": "Days since infection (time zero)",
    "competing": "Days since diagnosis (or later start of follow-up)",
}
"""The time axis of each design's cumulative incidence: from when its days are counted."""


def figure_title(summary: Mapping[str, Any], what: str | None = None) -> str:
    """``"Lung metastasis after any infection (Cox regression)"``: the outcome, exposure and
    design of ``summary`` in words, ``what`` (if given) in front of the outcome."""
    from reawaken.plots.forest import readable_label

    outcome = readable_label(summary["outcome"])
    if what:
        outcome = f"{what} {outcome[:1].lower()}{outcome[1:]}"
    exposure = readable_label(summary["exposure"])
    exposure = exposure[:1].lower() + exposure[1:] if exposure[1:2].islower() else exposure
    design = _DESIGN_NAMES.get(summary["design"], readable_label(summary["design"]))
    return f"{outcome} after {exposure} ({design})"


def forest_figure(result: DesignResult, *, xlabel: str, label: str = "window") -> Figure:
    """Forest plot of the exposure terms of the outcome (``forest.png``): readable row labels,
    each row's ratio, interval and events written beside it."""
    from reawaken.plots.forest import forest_height, plot_forest, readable_label

    est = result.estimates
    main = est[(est["kind"] == "exposure") & (est["event"] == "outcome")]
    rows = main.assign(**{label: [readable_label(v) for v in main[label]]})

    def draw(ax: Axes) -> Axes:
        return plot_forest(
            rows,
            ax=ax,
            label=label,
            xlabel=xlabel,
            title=figure_title(result.summary),
            events="events" if "events" in rows else None,
        )

    return Figure("forest.png", 7.5, forest_height(len(main)), draw)


def incidence_figure(
    result: DesignResult, *, xlabel: str = "Days", time_label: str | None = None
) -> Figure:
    """Cumulative incidence curves (``cif.png``), their time axis labelled with its origin:
    ``time_label``, else the design's (:data:`_TIME_ORIGINS`) when ``xlabel`` names none."""
    from reawaken.plots.forest import readable_label
    from reawaken.plots.incidence import plot_cumulative_incidence

    design = result.summary.get("design", "")
    if time_label is None:
        time_label = _TIME_ORIGINS.get(design, xlabel) if xlabel == "Days" else xlabel
    curves = result.curves.assign(arm=[readable_label(v) for v in result.curves["arm"]])

    def draw(ax: Axes) -> Axes:
        return plot_cumulative_incidence(
            curves,
            ax=ax,
            time_label=time_label,
            title=figure_title(result.summary, "Cumulative incidence of"),
        )

    return Figure("cif.png", 6.5, 4.2, draw)
