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
    """One value (a number, an array or a symbol) per state of the model."""

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
    """A :class:`ModelState` from values in the order of ``STATE_IDS`` (an array's rows, a
    list of scalars)."""
    return ModelState._make(values)


def as_array(state: ModelState, xp: ModuleType = np) -> Any:
    """The states stacked in the order of ``STATE_IDS`` (first axis), with array module
    ``xp``."""
    return xp.stack(list(state))
