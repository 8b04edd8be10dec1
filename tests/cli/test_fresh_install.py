"""README.md's two commands, as written, in a new virtual environment on a copy of the project.

The main job must install and write the study's report; the test command must install and
collect every test (running them all again here would run the suite inside itself). CI runs
both commands in full (.ci/run).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> dict[str, str]:
    path = ROOT / ".ci" / "readme_commands.py"
    spec = importlib.util.spec_from_file_location("readme_commands", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.commands((ROOT / "README.md").read_text())


def _shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=1500, check=False,
    )  # fmt: skip


def test_readme_gives_both_commands():
    commands = _readme_commands()
    assert commands["main"].startswith("python3 -m pip install -e . && reawaken ")
    assert commands["test"].startswith('python3 -m pip install -e ".[test]" && python3 -m pytest')


@pytest.mark.slow
def test_readme_commands_work_in_a_new_environment(tmp_path):
    project = tmp_path / "reawaken"
    patterns = shutil.ignore_patterns(
        ".git", "*.egg-info", "__pycache__", ".ruff_cache", ".pytest_cache", ".hypothesis",
        "*.duckdb",
    )  # fmt: skip

    def ignore(folder: str, names: list[str]) -> set[str]:
        # the main jobs' output folders at the top only (src/reawaken/study is code)
        top = {"results", "study"} & set(names) if Path(folder) == ROOT else set()
        return set(patterns(folder, names)) | top

    shutil.copytree(ROOT, project, ignore=ignore)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["REAWAKEN_CACHE"] = str(tmp_path / "cache")  # compile the engine as a new machine does
    env["PYTHONNOUSERSITE"] = "1"
    commands = _readme_commands()

    main = _shell(commands["main"], project, env)
    assert main.returncode == 0, main.stdout[-3000:] + main.stderr[-3000:]
    for name in ("index.html", "results.json"):
        assert (project / "study" / name).stat().st_size > 0
    results = json.loads((project / "study" / "results.json").read_text())
    assert results["steps"]["mouse"]["claims_met"] == results["steps"]["mouse"]["claims_total"]

    tests = _shell(commands["test"] + " --collect-only", project, env)
    assert tests.returncode == 0, tests.stdout[-5000:]
    collected = re.search(r"(\d+) tests? collected", tests.stdout)
    assert collected is not None and int(collected.group(1)) > 400, tests.stdout[-5000:]
