"""Every option of ``reawaken population`` refuses its bad values at the door, as the option
walk of tests/cli/test_option_walk.py asks of every command (exit 2, one line naming the option
or the value, nothing written); and the package's documented examples run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest
import typer.main

from reawaken.cli import app, main
from reawaken.cli.checks import A_FILE, A_FOLDER, checks_of

COMMAND = typer.main.get_command(app).commands["population"]
VALID = {"survivors": "200", "years": "1", "draws": "2", "out": "{out}"}
"""The valid invocation the option walk needs for this command."""


def _cases():
    checks = checks_of(COMMAND.callback)
    for param in COMMAND.params:
        if param.name == "help":
            continue
        check = checks.get(param.name)
        if check is None:
            yield pytest.param(param.name, None, id=f"{param.name}:unchecked")
            continue
        for k, bad in enumerate(["=yes"] if check.is_flag else check.bad):
            yield pytest.param(param.name, bad, id=f"{param.name}:{k}")


@pytest.mark.parametrize(("name", "bad"), list(_cases()))
def test_bad_value_is_refused_at_the_door(name, bad, tmp_path, monkeypatch, capsys):
    assert bad is not None, f"option {name} has no check"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("a file\n")
    (tmp_path / "empty").mkdir()
    fill = {A_FILE: str(tmp_path / "notes.txt"), A_FOLDER: str(tmp_path / "empty")}

    def filled(value: str) -> str:
        for k, v in fill.items():
            value = value.replace(k, v)
        return value.replace("{out}", str(tmp_path / "out"))

    param = next(p for p in COMMAND.params if p.name == name)
    option = param.opts[0]
    argv = ["population"]
    for p in COMMAND.params:
        if p.name in VALID and p.name != name:
            argv += [p.opts[0], filled(VALID[p.name])]
    argv += [f"{option}=yes"] if bad == "=yes" else [option, filled(bad)]
    status = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2, argv
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert "Traceback" not in err[0]
    shown = filled(bad).lstrip("=")
    assert option in err[0] or shown in err[0] or name.upper() in err[0], err[0]
    assert not (tmp_path / "out").exists()


def test_the_valid_invocation_runs(tmp_path):
    argv = ["population"]
    for p in COMMAND.params:
        if p.name in VALID:
            argv += [p.opts[0], VALID[p.name].replace("{out}", str(tmp_path / "out"))]
    assert main(argv) == 0
    assert (tmp_path / "out" / "scenarios.csv").exists()


MODULES = sorted(
    m.name for m in pkgutil.iter_modules(importlib.import_module("reawaken.population").__path__)
)


@pytest.mark.parametrize("module", MODULES)
def test_documented_examples_run(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mod = importlib.import_module(f"reawaken.population.{module}")
    tests = doctest.DocTestFinder().find(mod, mod.__name__, globs={})
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report: list[str] = []
    for test in tests:
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_public_names_have_examples():
    import reawaken.population as pkg

    assert set(pkg.__all__) >= {"run_population", "PopulationSettings", "parse_scenario"}
    for name in pkg.__all__:
        doc = getattr(pkg, name).__doc__ or ""
        assert "Examples\n    --------" in doc, name
