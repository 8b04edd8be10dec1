"""Every module src/ imports is declared in pyproject.toml, and nothing declared goes unused.

deptry reads the imports of src/ and the declared dependencies; it fails on a missing one, an
unused one, or one that is only present because another package brought it (as click came
with older typer releases).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _deptry(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deptry", "src"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_declared_dependencies_match_the_imports():
    done = _deptry(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("edit", "codes", "name"),
    [
        # typer not declared (installed here, so deptry calls it transitive: DEP003)
        (lambda s: s.replace('    "typer>=', '    "rich>='), ("DEP001", "DEP003"), "typer"),
        (lambda s: s.replace('    "tqdm>=', '    "six>=1",\n    "tqdm>='), ("DEP002",), "six"),
    ],
)
def test_the_check_catches_a_missing_or_unused_dependency(tmp_path, edit, codes, name):
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    (tmp_path / "pyproject.toml").write_text(edit((ROOT / "pyproject.toml").read_text()))
    done = _deptry(tmp_path)
    assert done.returncode != 0
    report = done.stdout + done.stderr
    assert any(code in report for code in codes) and f"'{name}'" in report
