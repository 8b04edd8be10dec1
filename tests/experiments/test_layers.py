"""The model's layers import downwards only: model from nothing above it, simulate from model,
experiments from simulate and model (and figures), none of them from the command line. Every
import is checked, those inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reawaken

PACKAGE = Path(reawaken.__file__).parent
GROUND = {"reawaken", "reawaken.errors", "reawaken.io"}
ALLOWED = {
    "model": GROUND | {"reawaken.model"},
    "simulate": GROUND | {"reawaken.model", "reawaken.simulate"},
    "plots/dcc.py": GROUND | {"reawaken.plots"},
    "experiments": GROUND
    | {"reawaken.model", "reawaken.simulate", "reawaken.plots", "reawaken.experiments"},
}


def _imports(path: Path) -> set[str]:
    """The reawaken modules ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    return _imports_of(path.read_text(), package)


def _imports_of(code: str, package: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names if name == "reawaken"}
    return {name for name in found if name == "reawaken" or name.startswith("reawaken.")}


def _within(name: str, allowed: set[str]) -> bool:
    return name == "reawaken" or any(
        name == a or name.startswith(a + ".") for a in allowed if a != "reawaken"
    )


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_from_below(layer):
    root = PACKAGE / layer
    files = [root] if root.suffix == ".py" else sorted(root.rglob("*.py"))
    assert files
    for path in files:
        for name in _imports(path):
            assert _within(name, ALLOWED[layer]), f"{path.relative_to(PACKAGE)} imports {name}"


def test_the_checker_sees_every_kind_of_upward_import():
    code = (
        "from ..experiments import run\n"
        "import reawaken.simulate.ode\n"
        "def f():\n"
        "    from reawaken.cli import main\n"
    )
    found = _imports_of(code, "reawaken.model")
    assert found == {"reawaken.experiments", "reawaken.simulate.ode", "reawaken.cli"}
    assert not any(_within(name, ALLOWED["model"]) for name in found)
    assert _within("reawaken.model.states", ALLOWED["simulate"])
