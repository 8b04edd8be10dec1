"""The Python API a notebook user sees: ``reawaken`` and each subpackage list their public names
in ``__all__``; each name imports, and each public function and class documents itself in
numpydoc form (Parameters, Returns, Raises for functions; Parameters or Attributes for
classes) with an example."""

from __future__ import annotations

import doctest
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGES = [
    "reawaken",
    "reawaken.cohort",
    "reawaken.cohort.sources",
    "reawaken.pathogens",
    "reawaken.epi",
    "reawaken.plots",
    "reawaken.model",
    "reawaken.simulate",
    "reawaken.experiments",
    "reawaken.bridge",
    "reawaken.population",
]


def _public():
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in getattr(module, "__all__", []):
            yield package, name


def _takes_arguments(cls: type) -> bool:
    try:
        return bool(inspect.signature(cls).parameters)
    except ValueError:  # an exception class without an __init__ of its own takes a message
        return True


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_lists_its_public_names(package):
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    assert names, f"{package} has no __all__"
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(module, name), f"{package}.{name} is listed but missing"


@pytest.mark.parametrize(("package", "name"), list(_public()))
def test_public_names_are_documented(package, name):
    obj = getattr(importlib.import_module(package), name)
    if inspect.ismodule(obj) or not callable(obj) or isinstance(obj, dict):
        return  # constants and subpackages: documented where they are defined
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------" in doc, f"{package}.{name}: no Examples section"
    if inspect.isclass(obj):
        if _takes_arguments(obj):
            sections = ("Parameters\n----------", "Attributes\n----------")
            assert any(s in doc for s in sections), f"{package}.{name}: no Parameters section"
        return
    if inspect.signature(obj).parameters:
        assert "Parameters\n----------" in doc, f"{package}.{name}: no Parameters section"
    assert "Returns\n-------" in doc or "Yields\n------" in doc, f"{package}.{name}: no Returns"
    assert "Raises\n------" in doc, f"{package}.{name}: no Raises section"


def _examples() -> list[tuple[str, str]]:
    """The listed functions and classes (constants have no examples of their own)."""
    return [
        (package, name)
        for package, name in _public()
        if inspect.isfunction(getattr(importlib.import_module(package), name))
        or inspect.isclass(getattr(importlib.import_module(package), name))
    ]


@pytest.mark.parametrize(("package", "name"), _examples())
def test_examples_run(package, name, tmp_path, monkeypatch):
    # each example runs in a fresh folder, as a notebook user would run it in theirs
    monkeypatch.chdir(tmp_path)
    obj = getattr(importlib.import_module(package), name)
    tests = doctest.DocTestFinder(recurse=False).find(obj, f"{package}.{name}", globs={})
    assert sum(len(t.examples) for t in tests) > 0, f"{package}.{name}: no examples"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_importing_epi_stays_light():
    # a notebook's `import reawaken.epi` loads numpy, pandas and scipy, not the model's JAX and
    # numba, the store's DuckDB or matplotlib
    heavy = ["jax", "diffrax", "numba", "duckdb", "matplotlib"]
    code = (
        "import sys, reawaken.epi, reawaken.plots; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert done.stdout.strip() == ""


def _loaded(code: str, heavy: list[str], cwd: Path | None = None) -> list[str]:
    """The ``heavy`` modules loaded after running ``code`` in a fresh interpreter."""
    script = f"import sys\n{code}\nprint(','.join(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=cwd,
    )
    return [m for m in done.stdout.strip().split(",") if m]


def test_importing_reawaken_stays_light():
    # `import reawaken` loads the errors only; the subpackages load when first used
    heavy = ["numpy", "pandas", "pyarrow", "duckdb", "scipy", "jax", "numba", "matplotlib"]
    assert _loaded("import reawaken, reawaken.cohort, reawaken.pathogens", heavy) == []


def test_using_the_cohort_api_loads_no_model_or_figures(tmp_path):
    # a notebook that writes, imports and summarises a synthetic cohort loads DuckDB and
    # pandas, not the model's JAX and numba or matplotlib
    heavy = ["pandas", "duckdb", "jax", "diffrax", "numba", "matplotlib"]
    code = (
        "import reawaken\n"
        "truth = reawaken.cohort.generate('omop', 50, 1, 'synthetic')\n"
        "store = reawaken.cohort.CohortStore('cohort.duckdb')\n"
        "store.import_source('omop', 'synthetic')\n"
        "assert store.summary(min_cell=0)['persons'] == 50\n"
        "reawaken.cohort.format_summary(store.summary())"
    )
    assert _loaded(code, heavy, cwd=tmp_path) == ["pandas", "duckdb"]


def test_lazy_names_are_the_reexports_of_the_type_checking_block():
    from reawaken._lazy import exported_names

    source = (
        "from typing import TYPE_CHECKING\n"
        "import os\n"
        "if TYPE_CHECKING:\n"
        "    from matplotlib.axes import Axes\n"  # for annotations only
        "    from pkg import sub as sub\n"
        "    from pkg.mod import a as a, b\n"  # b is imported, not re-exported
        "    from pkg.deep.mod import C as C\n"
        "from pkg.mod import d as d\n"  # at run time: not lazy
    )
    assert exported_names("pkg", source) == {
        "sub": ("pkg.sub", None),
        "a": ("pkg.mod", "a"),
        "C": ("pkg.deep.mod", "C"),
    }
    import reawaken.cohort
    import reawaken.plots

    assert "Axes" not in reawaken.plots.__all__
    assert inspect.ismodule(reawaken.cohort.sources)
