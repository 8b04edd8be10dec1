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
    """DCC counts and the fold change against the reference arm, per arm and day.

    For ensembles the point columns are medians over the individuals, and quantile columns
    ``<column>_q<pct>`` are added; fold changes are paired (individual ``k`` of an arm against
    individual ``k`` of the reference arm). A failed solve shows in ``status``, never as a
    number.

    Parameters
    ----------
    results : sequence of ArmResult
        The solved arms (:func:`reawaken.experiments.run_protocol`), on the same days.
    reference_arm : str, default "mock"
        The arm fold changes are taken against (``fold_vs_mock`` is NaN when it is absent).
    quantiles : sequence of float, optional
        Quantiles for ensembles (default 5%, 25%, 50%, 75% and 95%).

    Returns
    -------
    pandas.DataFrame
        One row per arm and day: ``arm, day, dcc_total, dcc_dormant, dcc_awake,
        fold_vs_mock, status`` (``ok``, or ``failed: i of n``), then the quantile columns.

    Raises
    ------
    KeyError
        If ``results`` is empty (the table has none of its columns).

    Examples
    --------
    >>> from reawaken.experiments import MOUSE_LUNG, run_protocol
    >>> from reawaken.simulate import summarise
    >>> results = run_protocol(MOUSE_LUNG, arms=["mock", "influenza"], days=[0, 15])
    >>> table = summarise(results, reference_arm="mock")
    >>> table[["arm", "day", "status"]]
             arm   day status
    0       mock   0.0     ok
    1       mock  15.0     ok
    2  influenza   0.0     ok
    3  influenza  15.0     ok
    >>> table["fold_vs_mock"].round(1).tolist()[:3]
    [1.0, 1.0, 1.0]
    """
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
    """Every state of every arm at every solved day, as one long table.

    Parameters
    ----------
    results : sequence of ArmResult
        The solved arms (:func:`reawaken.experiments.run_protocol`).

    Returns
    -------
    pandas.DataFrame
        ``arm, time_d``, then one column per state id (``STATE_IDS``; the median over the
        solved individuals of an ensemble), then ``status`` (``ok`` or ``failed: i of n``).

    Raises
    ------
    ValueError
        If ``results`` is empty (there is nothing to concatenate).

    Examples
    --------
    >>> from reawaken.experiments import MOUSE_LUNG, run_protocol
    >>> from reawaken.simulate import trajectories
    >>> table = trajectories(run_protocol(MOUSE_LUNG, arms=["mock"], days=[0, 1, 2]))
    >>> list(table.columns[:4]), len(table)
    (['arm', 'time_d', 'target', 'eclipse'], 3)
    >>> table["virus"].tolist()  # mock infection: no virus
    [0.0, 0.0, 0.0]
    """
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
