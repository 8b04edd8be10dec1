"""Run a protocol and write its outputs: summary.csv, trajectories.csv, the fold-change figure.

Every file is written atomically; the summary holds the protocol's sampling days, trajectories a
finer grid (every half day to day 60, every 5 days after) plus the sampling days.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.experiments.protocols import Protocol
from reawaken.experiments.run import run_protocol
from reawaken.io import write_atomic, write_csv_atomic
from reawaken.simulate.ensemble import ArmResult, check_cv, check_ensemble_size
from reawaken.simulate.ode import Solution, SolverSettings
from reawaken.simulate.summary import summarise, trajectories

FIGURE_NAME = "dcc_fold_change.png"


@dataclass(frozen=True)
class ProtocolOutputs:
    summary: pd.DataFrame
    trajectories: pd.DataFrame
    files: tuple[Path, ...]


def trajectory_grid(days: Sequence[float]) -> np.ndarray:
    """Half-daily to day 60, every 5 days after, always including ``days``."""
    end = float(max(days))
    fine = np.arange(0.0, min(end, 60.0) + 1e-9, 0.5)
    coarse = np.arange(60.0, end + 1e-9, 5.0)
    return np.unique(np.concatenate([fine, coarse, np.asarray(days, dtype=float)]))


def _at_days(results: list[ArmResult], grid: np.ndarray, days: Sequence[float]) -> list[ArmResult]:
    index = np.searchsorted(grid, np.asarray(days, dtype=float))
    return [
        ArmResult(r.arm, Solution(grid[index], r.solution.ys[:, index], r.solution.ok))
        for r in results
    ]


def simulate_protocol(
    protocol: Protocol,
    out_dir: str | Path,
    *,
    arms: Sequence[str] | None = None,
    overrides: Mapping[str, float] | None = None,
    n: int = 0,
    cv: float = 0.3,
    seed: int = 0,
    settings: SolverSettings = SolverSettings(),
    progress: Callable[[int], None] | None = None,
) -> ProtocolOutputs:
    """Solve ``protocol`` and write ``summary.csv``, ``trajectories.csv`` and the figure.

    The reference arm (``mock``) is always solved, also when ``arms`` leaves it out.
    """
    from reawaken.plots import file_axes
    from reawaken.plots.dcc import plot_fold_change, save_figure

    n = check_ensemble_size(n)
    cv = check_cv(cv)  # before anything is solved or written

    grid = trajectory_grid(protocol.days)
    reference = protocol.reference_arm
    if arms is not None and reference not in arms:
        arms = [reference, *arms]  # fold changes need the reference arm
    results = run_protocol(
        protocol,
        arms=arms,
        days=grid,
        overrides=overrides,
        n=n,
        cv=cv,
        seed=seed,
        settings=settings,
        progress=progress,
    )
    summary = summarise(_at_days(results, grid, protocol.days), reference)
    curves = summarise(results, reference)
    traj = trajectories(results)
    if n > 0:
        summary.insert(len(summary.columns), "n", n)
        summary.insert(len(summary.columns), "seed", seed)

    out = Path(out_dir)
    files = [
        write_csv_atomic(summary, out / "summary.csv"),
        write_csv_atomic(traj, out / "trajectories.csv"),
    ]
    if reference in {r.arm for r in results}:
        ax = plot_fold_change(
            curves,
            summary,
            ax=file_axes(8, 5),
            title=f"{protocol.name}: DCC fold change vs {reference}",
            colours=protocol.colours,
            days=protocol.days,
            reference_arm=reference,
            band=protocol.fold_band,
        )
        files.append(write_atomic(out / FIGURE_NAME, lambda tmp: save_figure(ax, str(tmp))))
    return ProtocolOutputs(summary, traj, tuple(files))
