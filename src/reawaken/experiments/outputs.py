"""Run a protocol and write its outputs: summary.csv, trajectories.csv, the fold-change figure
(or, for the stochastic mode, lesions.csv), and run.json.

Every file is written atomically; the summary holds the protocol's sampling days, trajectories a
finer grid (every half day to day 60, every 5 days after) plus the sampling days. ``run.json``
records what produced the tables: the protocol, arms and settings, the reawaken version and the
calibration file the parameter sets read (path, whether it is the shipped default, SHA-256).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import reawaken
from reawaken.experiments.protocols import Protocol
from reawaken.experiments.run import run_clones, run_protocol
from reawaken.io import write_atomic, write_csv_atomic, write_text_atomic
from reawaken.model.calibrated import calibration_source
from reawaken.run_folder import check_out_folder, write_run
from reawaken.simulate.ensemble import ArmResult, check_cv, check_ensemble_size
from reawaken.simulate.ode import Solution, SolverSettings
from reawaken.simulate.stochastic import DEFAULT_THRESHOLD, lesion_summary
from reawaken.simulate.summary import summarise, trajectories

FIGURE_NAME = "dcc_fold_change.png"
RUN_RECORD_NAME = "run.json"


def run_record(protocol: Protocol, **settings: object) -> dict[str, object]:
    """What produced a run's outputs: the protocol, ``settings``, the reawaken version and the
    calibration file in use (:func:`~reawaken.model.calibrated.calibration_source`)."""
    return {
        "reawaken_version": reawaken.__version__,
        "protocol": protocol.name,
        **settings,
        "calibration": calibration_source().record(),
    }


def write_run_record(record: Mapping[str, object], out_dir: str | Path) -> Path:
    """Write ``record`` as ``run.json`` in ``out_dir`` (atomically)."""
    text = json.dumps(record, indent=2, default=str) + "\n"
    return write_text_atomic(text, Path(out_dir) / RUN_RECORD_NAME)


@dataclass(frozen=True)
class ProtocolOutputs:
    """What :func:`simulate_protocol` wrote: its two tables, and the files.

    Parameters
    ----------
    summary : pandas.DataFrame
        DCC counts and fold changes at the protocol's sampling days
        (:func:`reawaken.simulate.summarise`; with ``n`` and ``seed`` columns for ensembles),
        as in ``summary.csv``.
    trajectories : pandas.DataFrame
        Every state on a fine grid of days (:func:`reawaken.simulate.trajectories`), as in
        ``trajectories.csv``.
    files : tuple of pathlib.Path
        The files written: ``summary.csv``, ``trajectories.csv``, the figure
        ``dcc_fold_change.png`` (when the reference arm was solved) and ``run.json``.

    Examples
    --------
    >>> from reawaken.experiments import MOUSE_LUNG, simulate_protocol
    >>> out = simulate_protocol(MOUSE_LUNG, "results", arms=["mock"])
    >>> [f.name for f in out.files]
    ['summary.csv', 'trajectories.csv', 'dcc_fold_change.png', 'run.json']
    >>> out.summary[["arm", "day", "fold_vs_mock"]].head(2)
        arm  day  fold_vs_mock
    0  mock  0.0           1.0
    1  mock  3.0           1.0
    """

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
    overwrite: bool = False,
) -> ProtocolOutputs:
    """Solve a protocol and write its tables, its figure and a record of the run.

    Writes, atomically, in ``out_dir``: ``summary.csv`` (the protocol's sampling days),
    ``trajectories.csv`` (every half day to day 60, every 5 days after, plus the sampling
    days), ``dcc_fold_change.png`` and ``run.json`` (the protocol, arms and settings, the
    reawaken version and the calibration file in use); the same as ``reawaken simulate``.
    The reference arm (``mock``) is always solved, also when ``arms`` leaves it out.

    Parameters
    ----------
    protocol : Protocol
        The experiment.
    out_dir : str or pathlib.Path
        Folder for the files (created if needed), written as a whole
        (:func:`reawaken.run_folder.write_run`).
    arms : sequence of str, optional
        The arms to solve besides the reference arm (default: all).
    overrides : mapping of str to float, optional
        Parameter values to use instead of each arm's parameter set's.
    n, cv, seed, settings, progress
        The ensemble (0 solves each arm once), the solver and its progress report, as for
        :func:`run_protocol`.
    overwrite : bool, default False
        Replace the files of an earlier run in ``out_dir`` instead of refusing the folder.

    Returns
    -------
    ProtocolOutputs
        The summary and trajectories tables, and the paths of the files written.

    Raises
    ------
    InputError
        If ``n`` or ``cv`` is not accepted (checked before anything is solved or written), an
        arm, override or intervention is not accepted (see :func:`arm_inputs`), or
        ``out_dir`` holds an earlier run's files and ``overwrite`` is False (checked first).
    OSError
        If a file cannot be written.

    Examples
    --------
    >>> from reawaken.experiments import MOUSE_LUNG, simulate_protocol
    >>> out = simulate_protocol(MOUSE_LUNG, "results", arms=["influenza"])
    >>> sorted(f.name for f in out.files)
    ['dcc_fold_change.png', 'run.json', 'summary.csv', 'trajectories.csv']
    >>> out.summary["arm"].unique().tolist()  # the reference arm is always solved
    ['mock', 'influenza']
    """
    from reawaken.plots import file_axes
    from reawaken.plots.dcc import plot_fold_change, plot_fold_change_panels, save_figure

    n = check_ensemble_size(n)
    cv = check_cv(cv)  # before anything is solved or written
    check_out_folder(out_dir, overwrite=overwrite)

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
    record = run_record(
        protocol,
        arms=[r.arm for r in results],
        overrides=dict(overrides or {}),
        n=n,
        cv=cv,
        seed=seed,
        solver=asdict(settings),
    )

    def write(out: Path) -> list[Path]:
        files = [
            write_csv_atomic(summary, out / "summary.csv"),
            write_csv_atomic(traj, out / "trajectories.csv"),
        ]
        if reference in {r.arm for r in results}:
            figure = dict(
                title=f"{protocol.name}: DCC fold change vs {reference}",
                colours=protocol.colours,
                days=protocol.days,
                reference_arm=reference,
                band=protocol.fold_band,
                band_label=protocol.fold_band_label,
            )
            if n > 0 and len(results) > 2:  # ensemble bands: one panel per arm
                panels = len(results) - 1
                size = (3.6 * min(panels, 3) + 0.6, 2.8 * -(-panels // 3) + 1.6)
                ax = plot_fold_change_panels(
                    curves, summary, figure=file_axes(*size).figure, n=n, **figure
                )[0]
            else:
                ax = plot_fold_change(curves, summary, ax=file_axes(8, 5), n=n or None, **figure)
            files.append(write_atomic(out / FIGURE_NAME, lambda tmp: save_figure(ax, str(tmp))))
        files.append(write_run_record(record, out))
        return files

    files = write_run(out_dir, write, overwrite=overwrite)
    return ProtocolOutputs(summary, traj, tuple(files))


@dataclass(frozen=True)
class LesionOutputs:
    table: pd.DataFrame
    files: tuple[Path, ...]


def write_lesions(
    protocol: Protocol,
    arm: str,
    days: Sequence[float],
    out_dir: str | Path,
    *,
    replicates: int = 500,
    seed: int = 0,
    threshold: int = DEFAULT_THRESHOLD,
    overwrite: bool = False,
) -> LesionOutputs:
    """Stochastic DCC clones of one arm (:func:`~reawaken.experiments.run.run_clones`):
    writes ``lesions.csv`` (:func:`~reawaken.simulate.stochastic.lesion_summary`) and
    ``run.json`` in ``out_dir`` as a whole (:func:`reawaken.run_folder.write_run`; a folder
    holding an earlier run's files is refused unless ``overwrite``)."""
    check_out_folder(out_dir, overwrite=overwrite)
    result = run_clones(protocol, arm, days, replicates=replicates, seed=seed)
    table = lesion_summary(result, threshold=threshold)
    record = run_record(
        protocol,
        arm=arm,
        days=[float(d) for d in result.days],
        replicates=replicates,
        seed=seed,
        dt=result.dt,
        threshold=threshold,
    )

    def write(out: Path) -> list[Path]:
        return [write_csv_atomic(table, out / "lesions.csv"), write_run_record(record, out)]

    return LesionOutputs(table, tuple(write_run(out_dir, write, overwrite=overwrite)))
