"""reawaken: respiratory viral infections and the awakening of dormant breast cancer cells.

Within-host model (:mod:`reawaken.model`), its simulation (:mod:`reawaken.simulate`), the
study's experiments (:mod:`reawaken.experiments`), the cohort store and synthetic cohorts
(:mod:`reawaken.cohort`), the pathogen table (:mod:`reawaken.pathogens`), the epidemiological
designs and estimators (:mod:`reawaken.epi`) and their figures (:mod:`reawaken.plots`), after
Chia et al., Nature 645 (2025).

This package lists the version and the errors and warnings every part raises (``__all__``).
The subpackages are imported when first used (PEP 562), so ``import reawaken`` stays light
(no NumPy, pandas, DuckDB or JAX) and ``reawaken.epi.fit_cox`` works after it alone::

    import reawaken

    store = reawaken.cohort.CohortStore("cohort.duckdb")
    result = reawaken.epi.run_design(store, "cox", outcome="distant_metastasis", exposure="any")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from reawaken.errors import ConvergenceWarning as ConvergenceWarning
from reawaken.errors import InputError as InputError
from reawaken.errors import ReawakenError as ReawakenError

__all__ = ["__version__", "ReawakenError", "InputError", "ConvergenceWarning"]

#: The subpackages a notebook reaches as attributes (``reawaken.epi``), imported when first used.
_SUBPACKAGES = ("cohort", "epi", "experiments", "model", "pathogens", "plots", "simulate")


def __getattr__(name: str) -> Any:
    if name not in _SUBPACKAGES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module(f"{__name__}.{name}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBPACKAGES})


if TYPE_CHECKING:  # the subpackages for type checkers and editors
    from reawaken import cohort as cohort
    from reawaken import epi as epi
    from reawaken import experiments as experiments
    from reawaken import model as model
    from reawaken import pathogens as pathogens
    from reawaken import plots as plots
    from reawaken import simulate as simulate
