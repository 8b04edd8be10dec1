"""``reawaken study``: every step of the study (cached), then the report."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reawaken.study.cache import StepOutput, run_steps
from reawaken.study.progress import Progress
from reawaken.study.report import write_report
from reawaken.study.steps import study_steps


def run_study(
    config: Mapping, out: str | Path, *, force: bool = False, quiet: bool = False
) -> tuple[dict[str, StepOutput], list[Path]]:
    """Run the study the (checked) configuration describes into ``out``: each step cached
    under ``out/steps``, then ``index.html``, ``figures/`` and ``results.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(quiet=quiet)
    steps = study_steps(config)
    outputs = run_steps(steps, config, out, force=force, progress=progress)
    paths = write_report(out, config, outputs, {s.name: s.title for s in steps})
    progress.note(f"report: {out / 'index.html'}")
    return outputs, paths
