"""docs/python.md is a walk-through that runs: its ```python blocks execute in order, in one
namespace, in an empty folder, and every ``assert`` in them holds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "python.md"


def blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_walkthrough_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = blocks(DOC.read_text())
    assert len(code) >= 5
    namespace: dict = {"__name__": "docs_python"}
    for k, block in enumerate(code, 1):
        try:
            exec(compile(block, f"docs/python.md block {k}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message says which block
            pytest.fail(f"docs/python.md block {k} failed: {type(exc).__name__}: {exc}")


def test_blocks_are_found():
    text = "a\n```python\nx = 1\n```\nb\n```bash\nls\n```\n```python\ny = 2\n```\n"
    assert blocks(text) == ["x = 1\n", "y = 2\n"]
