"""Public names a package imports when first used (PEP 562), so that importing the package
stays light (no JAX, numba or matplotlib until a name that needs them is asked for).

A package lists its public names once, as the imports of its ``if TYPE_CHECKING:`` block, each
re-exported in the form type checkers read as such (``from pkg.module import name as name``;
``from pkg import sub as sub`` for a subpackage). Type checkers and editors read that block;
at run time :func:`lazy_names` reads the same block from the package's source and imports each
name from its module when it is first asked for::

    from typing import TYPE_CHECKING

    from reawaken._lazy import lazy_names

    __getattr__, __dir__, __all__ = lazy_names(__name__, __file__)

    if TYPE_CHECKING:
        from reawaken.model.states import ModelState as ModelState
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def exported_names(package: str, source: str) -> dict[str, tuple[str, str | None]]:
    """The names a package's ``if TYPE_CHECKING:`` block re-exports (``import x as x``), each
    mapped to ``(module, attribute)``: the attribute of that module, or ``None`` when the name
    is the module itself (a subpackage)."""
    where: dict[str, tuple[str, str | None]] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom) or statement.module is None:
                continue
            if statement.module != package and not statement.module.startswith(f"{package}."):
                continue  # an import for annotations only (matplotlib's Axes, say)
            for alias in statement.names:
                if alias.asname != alias.name:
                    continue  # not re-exported
                if statement.module == package:
                    where[alias.name] = (f"{package}.{alias.name}", None)
                else:
                    where[alias.name] = (statement.module, alias.name)
    return where


def lazy_names(
    package: str, init_file: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``, whose public names are the
    re-exports of the ``if TYPE_CHECKING:`` block in its ``__init__.py`` (``init_file``)."""
    where = exported_names(package, Path(init_file).read_text(encoding="utf-8"))

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = where[name]
        value = importlib.import_module(module)
        if attribute is not None:
            value = getattr(value, attribute)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    shadowed = {
        name: attribute
        for name, (module, attribute) in where.items()
        if attribute is not None and module == f"{package}.{name}"
    }
    if shadowed:  # e.g. reawaken.epi.evalue, the function of the module reawaken.epi.evalue
        _keep_names_over_submodules(sys.modules[package], shadowed)
    return __getattr__, __dir__, sorted(where)


def _keep_names_over_submodules(package: ModuleType, shadowed: dict[str, str]) -> None:
    """Keep each public name of ``package`` that has the name of its own submodule (``name``:
    the function ``name`` of the submodule ``name``) as the package's attribute when the
    submodule is imported: the import system sets the attribute to the submodule then, which a
    name imported when first used would not override."""

    class _Package(type(package)):  # type: ignore[misc]
        def __setattr__(self, name: str, value: Any) -> None:
            if name in shadowed and isinstance(value, ModuleType):
                value = getattr(value, shadowed[name])
            super().__setattr__(name, value)

    package.__class__ = _Package
