"""State variables of the within-host model, by name.

:class:`ModelState` is the one definition: a NamedTuple with one field per state, each
annotated with its unit and meaning. The equations read states by name and build their result
by name, so nothing depends on the order of the fields; that order only fixes the layout of
arrays (solver vectors, the columns of ``ys[..., state]``), read through :data:`INDEX` or
converted with :func:`as_state` and :func:`as_array`. A NamedTuple is a JAX pytree.

The ids are used everywhere a state is named: trajectories' columns, SBML species ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Annotated, Any, NamedTuple, get_type_hints

import numpy as np


@dataclass(frozen=True)
class Info:
    """Unit and meaning of a state (in the annotation of its :class:`ModelState` field)."""

    unit: str
    description: str


class ModelState(NamedTuple):
    """One value (a number, an array or a symbol) per state of the model, by name.

    What :func:`~reawaken.model.equations.vector_field` takes and returns, and what
    :func:`as_state` makes of a solution's columns. A NamedTuple, so a JAX pytree; its field
    order fixes only the layout of arrays (``STATE_IDS``).

    Parameters
    ----------
    target, eclipse, infected, damaged : float or array
        Epithelial cells of the lung (cells): uninfected target cells, infected cells in the
        eclipse phase, virus-producing infected cells, and sites lost to infection awaiting
        repair.
    virus : float or array
        Free infectious virus (TCID50/mL).
    il6 : float or array
        Interleukin-6 in lung fluid (pg/mL).
    dcc_dormant, dcc_awake : float or array
        Dormant and awakened (proliferating) disseminated cancer cells in the lung (cells).
    cd8, cd4 : float or array
        Effector CD8+ and CD4+ T cells in the lung (cells).
    antibody_depot : float or array
        Anti-IL-6 antibody at the injection site (mg/kg).
    antibody : float or array
        Anti-IL-6 antibody in plasma and lung interstitium (ug/mL).

    Examples
    --------
    >>> from reawaken.model import ModelState, STATES
    >>> ModelState._fields[:3]
    ('target', 'eclipse', 'infected')
    >>> [(s.id, s.unit) for s in STATES if s.id.startswith("dcc")]
    [('dcc_dormant', 'cells'), ('dcc_awake', 'cells')]
    >>> y = ModelState(*range(12))
    >>> y.il6, y._replace(il6=0).il6
    (5, 0)
    """

    target: Annotated[Any, Info("cells", "uninfected target epithelial cells of the lung")]
    eclipse: Annotated[
        Any, Info("cells", "infected epithelial cells in the eclipse phase (not yet producing)")
    ]
    infected: Annotated[Any, Info("cells", "virus-producing infected epithelial cells")]
    damaged: Annotated[Any, Info("cells", "epithelial sites lost to infection, awaiting repair")]
    virus: Annotated[Any, Info("TCID50/mL", "free infectious virus")]
    il6: Annotated[Any, Info("pg/mL", "interleukin-6 in lung fluid")]
    dcc_dormant: Annotated[Any, Info("cells", "dormant disseminated cancer cells in the lung")]
    dcc_awake: Annotated[Any, Info("cells", "awakened (proliferating) disseminated cancer cells")]
    cd8: Annotated[Any, Info("cells", "effector CD8+ T cells in the lung")]
    cd4: Annotated[Any, Info("cells", "CD4+ T cells in the lung")]
    antibody_depot: Annotated[
        Any, Info("mg/kg", "anti-IL-6 antibody at the injection site (i.p. depot)")
    ]
    antibody: Annotated[Any, Info("ug/mL", "anti-IL-6 antibody in plasma / lung interstitium")]


class State(NamedTuple):
    """A state's id, unit and meaning."""

    id: str
    unit: str
    description: str


STATES: tuple[State, ...] = tuple(
    State(name, hint.__metadata__[0].unit, hint.__metadata__[0].description)
    for name, hint in get_type_hints(ModelState, include_extras=True).items()
)
STATE_IDS: tuple[str, ...] = ModelState._fields
N_STATES = len(STATE_IDS)
INDEX: dict[str, int] = {s: i for i, s in enumerate(STATE_IDS)}
"""Position of each state in arrays of states."""


def as_state(values: Iterable[Any]) -> ModelState:
    """Name the states of values laid out in the order of ``STATE_IDS``.

    Parameters
    ----------
    values : iterable
        One value per state in the order of ``STATE_IDS``: a list of numbers, or an array
        whose first axis is the state (for a solution of :func:`reawaken.simulate.solve`,
        ``sol.ys[k].T`` gives each state's trajectory of individual ``k``).

    Returns
    -------
    ModelState
        The same values, by name.

    Raises
    ------
    TypeError
        If there are not exactly as many values as states.

    Examples
    --------
    >>> import numpy as np
    >>> from reawaken.model import STATE_IDS, as_state
    >>> y = as_state(np.arange(len(STATE_IDS)) * 10.0)
    >>> float(y.virus), float(y.dcc_awake)
    (40.0, 70.0)
    """
    return ModelState._make(values)


def as_array(state: ModelState, xp: ModuleType = np) -> Any:
    """Stack named states into one array in the order of ``STATE_IDS``, as array solvers and
    :func:`reawaken.simulate.solve`'s ``y0`` take them.

    Parameters
    ----------
    state : ModelState
        The states; each a number, or arrays of one shape.
    xp : module, default numpy
        The array module (``numpy`` or ``jax.numpy``).

    Returns
    -------
    array
        Shape ``(len(STATE_IDS), ...)``: the state along the first axis.

    Raises
    ------
    ValueError
        If the states' values do not all have the same shape.

    Examples
    --------
    >>> from reawaken.model import ModelState, as_array
    >>> as_array(ModelState(*range(12))).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    """
    return xp.stack(list(state))
