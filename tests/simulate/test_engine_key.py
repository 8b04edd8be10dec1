"""The engine's cache key: the compiled engine is named by its own generated source (and the
JAX and numba versions); the fingerprint that finds it depends on code as syntax and on
values, so editing a comment or a docstring anywhere in the model compiles nothing anew."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import reawaken
from reawaken.simulate import engine

FINGERPRINT = "from reawaken.simulate import engine; print(engine.fingerprint())"


def test_code_digest_ignores_comments_docstrings_and_layout():
    code = 'def f(x):\n    """Double."""\n    return 2 * x\n'
    same = (
        '# a comment\n\ndef f(x):  # why\n    """Twice x,\n    now said better."""\n\n'
        "    return 2*x\n"
    )
    other = 'def f(x):\n    """Double."""\n    return 3 * x\n'
    assert engine.code_digest(code) == engine.code_digest(same)
    assert engine.code_digest(code) != engine.code_digest(other)
    assert engine.code_digest('X = "text"\n') != engine.code_digest('X = "other"\n')


def test_engine_key_is_the_source_and_the_compilers():
    key = engine.engine_key("print(1)\n")
    assert key != engine.engine_key("print(2)\n")
    assert "numba" in key and "jax" in key


def _fingerprint_of(package: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", FINGERPRINT],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={"PYTHONPATH": str(package.parent), "PATH": "/usr/bin:/bin", "HOME": str(package)},
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_comments_in_the_model_do_not_change_the_fingerprint_but_code_does(tmp_path):
    source = Path(reawaken.__file__).parent
    copies = {}
    for name in ("as_is", "comments", "code"):
        copies[name] = tmp_path / name / "reawaken"
        shutil.copytree(source, copies[name], ignore=shutil.ignore_patterns("__pycache__"))
    model = copies["comments"] / "model"
    for path in (model / "parameters.py", model / "equations.py", model / "states.py"):
        text = path.read_text().replace('"""', '"""Edited. ', 1)  # the module docstring
        path.write_text("# a comment added on top\n" + text + "\n# and one at the end\n")
    equations = copies["code"] / "model" / "equations.py"
    text = equations.read_text()
    assert "INFECTION_FLOOR = 1e-2" in text
    equations.write_text(text.replace("INFECTION_FLOOR = 1e-2", "INFECTION_FLOOR = 2e-2"))

    as_is = _fingerprint_of(copies["as_is"])
    assert _fingerprint_of(copies["comments"]) == as_is
    assert _fingerprint_of(copies["code"]) != as_is


def test_an_engine_is_generated_once_per_fingerprint_and_stored_by_its_source(tmp_path):
    made: list[str] = []

    def source(method: str) -> str:
        made.append(method)
        return "import numba\n\nVALUE = 7\n"

    first = engine.load("rodas4", tmp_path, source, stamp=lambda m: "a" * 64)
    again = engine.load("rodas4", tmp_path, source, stamp=lambda m: "a" * 64)
    assert first.VALUE == again.VALUE == 7 and made == ["rodas4"]
    # another fingerprint with the same source: generated again, but the same file is used
    engine.load("rodas4", tmp_path, source, stamp=lambda m: "b" * 64)
    assert made == ["rodas4", "rodas4"]
    assert len(list(tmp_path.glob("rosenbrock_*.py"))) == 1
    assert len(list(tmp_path.glob("engine_*.key"))) == 2


def test_the_model_engine_is_found_by_its_fingerprint():
    from reawaken.simulate.precision import x64

    key_file = engine.cache_directory() / f"engine_{engine.fingerprint()[:32]}.key"
    engine.engine()
    assert key_file.is_file()
    with x64():
        assert key_file.read_text().strip() == engine.engine_key(engine.model_source())
