"""Helpers shared by the cohort tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "data" / "cohort"


def rows(frame: pd.DataFrame) -> list[tuple]:
    """A table as a list of plain tuples (dates as ISO strings, NA as None), without ``source``."""
    out = frame.drop(columns=["source"], errors="ignore").copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    out = out.astype(object).where(out.notna(), None)
    return [tuple(r) for r in out.itertuples(index=False)]
