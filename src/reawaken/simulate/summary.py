"""Summaries of solved protocols: DCC counts and fold change against the reference arm.

``summary`` columns: ``arm, day, dcc_total, dcc_dormant, dcc_awake, fold_vs_mock, status``;
for ensembles the point columns are medians and quantile columns ``<column>_q<pct>`` are added
(paired fold change: individual k of an arm against individual k of the reference arm).
A failed solve is reported in ``status`` (``ok`` or ``failed: i of n``), never as a number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from reawaken.model.states import INDEX, STATE_IDS
from reawaken.simulate.ensemble import ArmResult

SUMMARY_COLUMNS = ["arm", "day", "dcc_total", "dcc_dormant", "dcc_awake", "fold_vs_mock"]
DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _dcc(result: ArmResult) -> dict[str, np.ndarray]:
    ys = result.solution.ys
    dormant = ys[:, :, INDEX["dcc_dormant"]]
    awake = ys[:, :, INDEX["dcc_awake"]]
    return {"dcc_total": dormant + awake, "dcc_dormant": dormant, "dcc_awake": awake}


def _status(ok: np.ndarray) -> str:
    return "ok" if ok.all() else f"failed: {int((~ok).sum())} of {ok.size}"


def summarise(
    results: Sequence[ArmResult],
    reference_arm: str = "mock",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
) -> pd.DataFrame:
    """One row per arm and day; quantile columns when the arms hold more than one individual."""
    by_arm = {r.arm: r for r in results}
    ref = by_arm.get(reference_arm)
    reference = _dcc(ref)["dcc_total"] if ref is not None else None
    rows = []
    for result in results:
        values = _dcc(result)
        ok = result.solution.ok
        n = ok.size
        status = _status(ok)
        fold_ok = ok.copy()
        if reference is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                values["fold_vs_mock"] = values["dcc_total"] / reference
            if ref is not result and not ref.solution.ok.all():
                # paired fold changes need both individuals solved
                fold_ok &= ref.solution.ok
                status += f"; reference failed: {int((~ref.solution.ok).sum())} of {n}"
        else:
            values["fold_vs_mock"] = np.full_like(values["dcc_total"], np.nan)
        for j, day in enumerate(result.solution.days):
            row: dict[str, object] = {"arm": result.arm, "day": float(day)}
            for column, array in values.items():
                good = array[fold_ok if column == "fold_vs_mock" else ok, j]
                row[column] = float(np.median(good)) if good.size else np.nan
                if n > 1:
                    for q in quantiles:
                        key = f"{column}_q{round(q * 100):02d}"
                        row[key] = float(np.quantile(good, q)) if good.size else np.nan
            row["status"] = status
            rows.append(row)
    frame = pd.DataFrame(rows)
    first = [*SUMMARY_COLUMNS, "status"]
    return frame[first + [c for c in frame.columns if c not in first]]


def trajectories(results: Sequence[ArmResult]) -> pd.DataFrame:
    """``arm, time_d`` then one column per state id (median over an ensemble), and status."""
    frames = []
    for result in results:
        sol = result.solution
        good = sol.ys[sol.ok]
        values = np.median(good, axis=0) if good.size else np.full(sol.ys.shape[1:], np.nan)
        frame = pd.DataFrame(values, columns=list(STATE_IDS))
        frame.insert(0, "time_d", sol.days)
        frame.insert(0, "arm", result.arm)
        frame["status"] = _status(sol.ok)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
