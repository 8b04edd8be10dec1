"""reawaken.simulate: solving the within-host model of :mod:`reawaken.model`.

Deterministic solves of one individual or of ensembles (:func:`solve`, a compiled Rosenbrock
engine by default, diffrax's solvers on request), lognormal ensembles of individuals
(:func:`lognormal_factors`), stochastic DCC clones driven by the solved host
(:func:`simulate_clones`, :func:`lesion_summary`) and tables of the results
(:func:`summarise`, :func:`trajectories`). Whole experiments are run by
:mod:`reawaken.experiments`::

    from reawaken.model import as_state, no_forcing, parameter_set
    from reawaken.simulate import solve

    sol = solve(parameter_set("mouse-influenza").vector(), no_forcing(), [0, 3, 15])
    as_state(sol.ys[0].T).dcc_awake

The names below are the public ones; the modules hold the rest (importable, not promised).
They are imported when first used (PEP 562): importing this package loads nothing; the
solvers (JAX, diffrax, numba) load with the first of these names asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reawaken._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)


if TYPE_CHECKING:  # the public names (for type checkers, editors and lazy_names)
    from reawaken.simulate.ensemble import VARIABLE_PARAMETERS as VARIABLE_PARAMETERS
    from reawaken.simulate.ensemble import ArmResult as ArmResult
    from reawaken.simulate.ensemble import lognormal_factors as lognormal_factors
    from reawaken.simulate.ode import METHODS as METHODS
    from reawaken.simulate.ode import Solution as Solution
    from reawaken.simulate.ode import SolverSettings as SolverSettings
    from reawaken.simulate.ode import solve as solve
    from reawaken.simulate.stochastic import CloneResult as CloneResult
    from reawaken.simulate.stochastic import lesion_summary as lesion_summary
    from reawaken.simulate.stochastic import simulate_clones as simulate_clones
    from reawaken.simulate.summary import summarise as summarise
    from reawaken.simulate.summary import trajectories as trajectories
