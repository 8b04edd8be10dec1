"""reawaken: respiratory viral infections and the awakening of dormant breast cancer cells.

Within-host model (:mod:`reawaken.model`), its simulation (:mod:`reawaken.simulate`), the
cohort store (:mod:`reawaken.cohort`) and the epidemiological estimators (:mod:`reawaken.epi`),
after Chia et al., Nature 645 (2025).
"""

from __future__ import annotations

__version__ = "0.1.0"

from reawaken.errors import InputError as InputError
from reawaken.errors import ReawakenError as ReawakenError
