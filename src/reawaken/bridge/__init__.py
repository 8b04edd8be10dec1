"""reawaken.bridge: from awakened cells to relapse in people.

The within-host model's human parameter sets give, per infection, the growth of the lung's DCC
pool; the bridge turns it into the excess hazard of a diagnosed lung metastasis (and of cancer
death) by days since infection (:func:`compute_kernel`), on baseline hazards from published
recurrence rates (:mod:`reawaken.bridge.baseline`), with every human-only magnitude sourced or
marked assumed (:mod:`reawaken.bridge.assumptions`). The chain is in docs/bridge.md.

The names below are the public ones; they are imported when first used (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reawaken._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)


if TYPE_CHECKING:  # the public names (for type checkers, editors and lazy_names)
    from reawaken.bridge.assumptions import HUMAN as HUMAN
    from reawaken.bridge.assumptions import assumption_table as assumption_table
    from reawaken.bridge.baseline import Profile as Profile
    from reawaken.bridge.baseline import distant_hazard as distant_hazard
    from reawaken.bridge.baseline import lung_hazard as lung_hazard
    from reawaken.bridge.kernel import Kernel as Kernel
    from reawaken.bridge.kernel import LesionBiology as LesionBiology
    from reawaken.bridge.kernel import compute_kernel as compute_kernel
    from reawaken.bridge.kernel import hr_by_window as hr_by_window
    from reawaken.bridge.kernel import kernel_table as kernel_table
    from reawaken.bridge.risk import Risk as Risk
    from reawaken.bridge.risk import lung_metastasis_risk as lung_metastasis_risk
