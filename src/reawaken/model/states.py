"""State variables of the within-host model, in their fixed order.

The ids are used everywhere a state is named: trajectories' columns, SBML species ids,
parameter names for initial values.
"""

from __future__ import annotations

from typing import NamedTuple


class State(NamedTuple):
    id: str
    unit: str
    description: str


STATES: tuple[State, ...] = (
    State("target", "cells", "uninfected target epithelial cells of the lung"),
    State("eclipse", "cells", "infected epithelial cells in the eclipse phase (not yet producing)"),
    State("infected", "cells", "virus-producing infected epithelial cells"),
    State("damaged", "cells", "epithelial sites lost to infection, awaiting repair"),
    State("virus", "TCID50/mL", "free infectious virus"),
    State("il6", "pg/mL", "interleukin-6 in lung fluid"),
    State("dcc_dormant", "cells", "dormant disseminated cancer cells in the lung"),
    State("dcc_awake", "cells", "awakened (proliferating) disseminated cancer cells"),
    State("cd8", "cells", "effector CD8+ T cells in the lung"),
    State("cd4", "cells", "CD4+ T cells in the lung"),
    State("antibody_depot", "mg/kg", "anti-IL-6 antibody at the injection site (i.p. depot)"),
    State("antibody", "ug/mL", "anti-IL-6 antibody in plasma / lung interstitium"),
)

STATE_IDS: tuple[str, ...] = tuple(s.id for s in STATES)
N_STATES = len(STATES)
INDEX: dict[str, int] = {s: i for i, s in enumerate(STATE_IDS)}
