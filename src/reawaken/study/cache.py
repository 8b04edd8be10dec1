"""Steps of a study, each cached under the output folder by a hash of what it depends on.

A step's key is the SHA-256 of its name, its settings (the part of the configuration it reads),
the keys of the steps it depends on and the checksums of the input files it reads. The step
runs in a new folder beside its place (``DIR/steps/.name.new-*``), writes ``step.json`` (the
key, its results, the seconds it took) last, and then takes its place: an interrupted run leaves
no half-written step (the unfinished folder is removed on the next run, which runs the step
again). A rerun finds ``step.json`` with the same key and does no work; a changed setting changes
the key of that step and of every step that depends on it, and only those run again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STEP_FILE = "step.json"


@dataclass(frozen=True)
class StepOutput:
    """A finished step: its folder, its results (JSON-ready) and how it was obtained."""

    name: str
    folder: Path
    results: dict
    key: str
    seconds: float
    cached: bool


@dataclass
class StepContext:
    """What a step's function is given: the folder to write into, the configuration, the
    outputs of the steps it depends on, and the study's output folder."""

    folder: Path
    config: dict
    upstream: dict[str, StepOutput]
    out: Path
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """One step of a study.

    Parameters
    ----------
    name : str
        Its name (a folder under ``DIR/steps``).
    title : str
        What it does, for the progress display and the report.
    run : callable
        ``run(context) -> dict``: writes its files into ``context.folder`` and returns its
        results (JSON-ready).
    settings : callable
        ``settings(config) -> dict``: the part of the configuration the step reads.
    depends : tuple of str
        The steps whose outputs it reads.
    inputs : callable, optional
        ``inputs(config) -> list of paths``: input files whose content the step reads.
    """

    name: str
    title: str
    run: Callable[[StepContext], dict]
    settings: Callable[[Mapping], Any]
    depends: tuple[str, ...] = ()
    inputs: Callable[[Mapping], Sequence[Path]] = lambda config: ()


def file_digest(path: Path) -> str:
    """SHA-256 of a file, or of every file under a folder (names and contents, sorted)."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        digest.update(str(p.relative_to(path) if path.is_dir() else p.name).encode() + b"\0")
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@functools.cache
def code_digest() -> str:
    """SHA-256 of the reawaken package's code and data files: a step's output depends on the
    code that made it, so a cached step from another version of reawaken is run again."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".json", ".csv", ".toml") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def step_key(step: Step, config: Mapping, upstream: Mapping[str, StepOutput]) -> str:
    """The hash of everything the step's output depends on: its settings, its upstream steps'
    keys, its input files' checksums and the code (:func:`code_digest`)."""
    payload = {
        "code": code_digest(),
        "step": step.name,
        "settings": step.settings(config),
        "upstream": {name: upstream[name].key for name in step.depends},
        "inputs": {str(p): file_digest(Path(p)) for p in step.inputs(config)},
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _cached(folder: Path, key: str) -> dict | None:
    record = folder / STEP_FILE
    if not record.is_file():
        return None
    try:
        payload = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    return payload if payload.get("key") == key else None


def run_steps(
    steps: Sequence[Step],
    config: Mapping,
    out: Path,
    *,
    force: bool = False,
    progress: Any = None,
) -> dict[str, StepOutput]:
    """Run ``steps`` in order (each after the steps it depends on), reusing every cached step
    whose key is unchanged (none with ``force``); returns each step's output by name."""
    root = out / "steps"
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".*.new-*"):  # an interrupted run's unfinished steps
        shutil.rmtree(stale, ignore_errors=True)
    done: dict[str, StepOutput] = {}
    for k, step in enumerate(steps, 1):
        key = step_key(step, config, done)
        folder = root / step.name
        payload = None if force else _cached(folder, key)
        if progress is not None:
            progress.start(k, len(steps), step)
        if payload is not None:
            done[step.name] = StepOutput(
                step.name, folder, payload["results"], key, payload["seconds"], True
            )
            if progress is not None:
                progress.finish(k, len(steps), step, 0.0, cached=True)
            continue
        new = Path(tempfile.mkdtemp(prefix=f".{step.name}.new-", dir=root))
        started = time.perf_counter()
        try:
            context = StepContext(new, dict(config), {d: done[d] for d in step.depends}, out)
            results = step.run(context)
            seconds = time.perf_counter() - started
            record = {
                "key": key,
                "step": step.name,
                "title": step.title,
                "seconds": seconds,
                "settings": step.settings(config),
                "results": results,
            }
            (new / STEP_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n")
            if folder.exists():
                shutil.rmtree(folder)
            new.rename(folder)
        except BaseException:
            shutil.rmtree(new, ignore_errors=True)
            raise
        done[step.name] = StepOutput(step.name, folder, results, key, seconds, False)
        if progress is not None:
            progress.finish(k, len(steps), step, seconds, cached=False)
    return done
