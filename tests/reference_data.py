"""Where the project's public reference data sets are (shared/reference beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path


def reference_folder() -> Path:
    """``$REAWAKEN_SHARED/reference`` if set, else ``shared/reference`` beside the checkout."""
    if os.environ.get("REAWAKEN_SHARED"):
        return Path(os.environ["REAWAKEN_SHARED"]) / "reference"
    return Path(__file__).resolve().parents[2] / "shared" / "reference"
