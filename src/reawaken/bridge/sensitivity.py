"""One-at-a-time sensitivity of the predicted hazard ratio per window to the human-only
magnitudes: each at 0.5x and 2x its value, the others as they are (the lesion response kept at
its calibrated value, not calibrated again)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace

import pandas as pd

from reawaken.bridge.kernel import LesionBiology, compute_kernel, hr_by_window, infection_fold

NAMES: tuple[str, ...] = (
    "lesion_response",
    "doubling_time",
    "doubling_time_cv",
    "detection_cells",
    "detection_delay",
    "infection_cv",
)
"""The magnitudes varied (``infection_cv`` changes the within-host draws; the others the lesion
biology)."""


def one_at_a_time(
    pathogen: str = "sars-cov-2",
    draws: int = 200,
    seed: int = 1,
    names: Sequence[str] = NAMES,
    factors: Sequence[float] = (0.5, 2.0),
) -> pd.DataFrame:
    """``name, factor, window, hr`` (mean over draws) for each magnitude at each factor, with
    the reference (``factor`` 1) first; ``detection_cells`` is scaled as a count (0.5x is one
    doubling fewer to detection)."""
    from reawaken.bridge.assumptions import value

    base = LesionBiology()
    fold = infection_fold(pathogen, draws, seed)
    rows = [_rows("reference", 1.0, compute_kernel(pathogen, draws, seed, base, fold=fold))]
    biology_names = {f.name for f in fields(LesionBiology)}
    for name in names:
        for factor in factors:
            if name in biology_names:
                biology = replace(base, **{name: getattr(base, name) * factor})
                kernel = compute_kernel(pathogen, draws, seed, biology, fold=fold)
            else:
                cv = value(name) * factor
                other = infection_fold(pathogen, draws, seed, cv=cv)
                kernel = compute_kernel(pathogen, draws, seed, base, fold=other)
            rows.append(_rows(name, factor, kernel))
    return pd.concat(rows, ignore_index=True)


def _rows(name: str, factor: float, kernel) -> pd.DataFrame:
    table = hr_by_window([kernel])[["window", "hr"]]
    return table.assign(name=name, factor=factor)[["name", "factor", "window", "hr"]]
