"""reawaken.epi: the designs and estimators of the human studies, for notebooks and scripts.

Fit a model on a DataFrame (counting-process Cox, self-controlled case series, cumulative
incidence and Fine-Gray, target-trial emulation), build counting-process intervals with
time-since-infection windows, compute E-values, or run a whole design on a cohort store and
write its files with small counts suppressed. Every ratio fit reports the same columns,
``term, coef, se, ratio, ci_lower, ci_upper, p_value``; bad input raises
:class:`reawaken.errors.InputError`.

The names below are the public ones; the modules hold the rest (importable, not promised)::

    from reawaken.epi import example_data, fit_cox

    df = example_data("cox")  # or your own DataFrame
    fit = fit_cox(df, start="start", stop="stop", event="event", covariates=["age"])
    fit.estimates()

The names are imported when first used (PEP 562): importing this package loads nothing heavy;
asking for a name loads its module (numpy, pandas, scipy), never matplotlib (figures import it
when drawn), JAX, numba or DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reawaken._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)


if TYPE_CHECKING:  # the public names (for type checkers, editors and lazy_names)
    from reawaken.epi.competing import cause_specific_cox as cause_specific_cox
    from reawaken.epi.competing import cumulative_incidence as cumulative_incidence
    from reawaken.epi.cox import CoxResult as CoxResult
    from reawaken.epi.cox import fit_cox as fit_cox
    from reawaken.epi.design import Design as Design
    from reawaken.epi.design import DesignResult as DesignResult
    from reawaken.epi.designs.competing import CompetingSettings as CompetingSettings
    from reawaken.epi.designs.cox import CoxSettings as CoxSettings
    from reawaken.epi.designs.emulation import EmulationSettings as EmulationSettings
    from reawaken.epi.designs.sccs import SCCSSettings as SCCSSettings
    from reawaken.epi.emulation import EmulationResult as EmulationResult
    from reawaken.epi.emulation import emulate as emulate
    from reawaken.epi.estimate import DESIGNS as DESIGNS
    from reawaken.epi.estimate import register_design as register_design
    from reawaken.epi.estimate import run_design as run_design
    from reawaken.epi.evalue import EValue as EValue
    from reawaken.epi.evalue import add_evalues as add_evalues
    from reawaken.epi.evalue import evalue as evalue
    from reawaken.epi.examples import example_data as example_data
    from reawaken.epi.finegray import FineGrayFit as FineGrayFit
    from reawaken.epi.finegray import fit_fine_gray as fit_fine_gray
    from reawaken.epi.intervals import DEFAULT_WINDOWS as DEFAULT_WINDOWS
    from reawaken.epi.intervals import TimeDependent as TimeDependent
    from reawaken.epi.intervals import build_intervals as build_intervals
    from reawaken.epi.outputs import suppress_small_counts as suppress_small_counts
    from reawaken.epi.sccs import CaseSeries as CaseSeries
    from reawaken.epi.sccs import SCCSFit as SCCSFit
    from reawaken.epi.sccs import fit_case_series as fit_case_series
    from reawaken.epi.sccs import split_case_series as split_case_series
    from reawaken.epi.settings import StudySettings as StudySettings
    from reawaken.epi.tables import RatioResult as RatioResult
