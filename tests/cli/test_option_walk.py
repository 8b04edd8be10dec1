"""Every option of every command, tried with bad values taken from the commands themselves.

Each option's check (:mod:`reawaken.cli.checks`) lists values it must refuse; this walk runs
each command with valid options plus one bad value, and asserts what a user is promised: exit
status 2, one line on stderr that names the option or the value, no traceback, and nothing
written (the output does not appear, the inputs and the store are unchanged). An option
without a check, or a command without a valid invocation here, fails the walk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer.main

from reawaken.cli import app, main
from reawaken.cli.checks import A_FILE, A_FOLDER, checks_of


def _leaves(command, path=()):
    subs = getattr(command, "commands", None)
    if subs:
        for name, sub in subs.items():
            yield from _leaves(sub, (*path, name))
    else:
        yield path, command


COMMANDS = dict(_leaves(typer.main.get_command(app)))

# A valid invocation of each command ({parameter name: value}); names in braces are files
# made by the `inputs` fixture. Options left out take their defaults.
VALID: dict[tuple[str, ...], dict[str, object]] = {
    ("simulate",): {"protocol": "mouse-lung", "out": "{out}", "arm": ["mock"]},
    ("protocols",): {},
    ("calibrate",): {"max_evaluations": 1},
    ("lesions",): {"out": "{out}", "replicates": 10, "days": "3"},
    ("estimate",): {
        "db": "{store}",
        "design": "cox",
        "outcome": "lung_metastasis",
        "exposure": "any",
        "out": "{out}",
    },
    ("bridge",): {"params": ["human-influenza"], "draws": 10, "cohort_size": 1000, "out": "{out}"},
    ("study",): {"out": "{out}"},
    ("population",): {"survivors": 200, "years": 1, "draws": 2, "out": "{out}"},
    ("risk",): {
        "age": 62,
        "stage": "II",
        "subtype": "hr+her2-",
        "years_since_diagnosis": 6,
        "infection": "sars-cov-2",
        "draws": 2,
        "json_file": "{out}/risk.json",
    },
    ("params", "list"): {},
    ("params", "show"): {"name": "mouse-influenza"},
    ("export", "sbml"): {"params": "mouse-influenza", "out": "{out}/model.xml"},
    ("cohort", "import"): {"path": "{extract}", "source": "flatiron", "db": "{new_store}"},
    ("cohort", "summary"): {"db": "{store}"},
    ("cohort", "synth"): {"like": "flatiron", "n": 50, "seed": 1, "out": "{out}"},
    ("fit", "cox"): {
        "data": "{cox}",
        "start": "start",
        "stop": "stop",
        "event": "event",
        "covariates": "x",
        "out": "{out}",
    },
    ("fit", "sccs"): {
        "data": "{sccs}",
        "case": "case",
        "start": "sta",
        "end": "end",
        "event": "ev",
        "exposure": "exp",
        "windows": "1-20",
        "out": "{out}",
    },
    ("fit", "cif"): {"data": "{cr}", "time": "time", "event": "status", "at": "50", "out": "{out}"},
    ("fit", "finegray"): {
        "data": "{cr}",
        "time": "time",
        "event": "status",
        "covariates": "x",
        "out": "{out}",
    },
}


def _cases():
    for path, command in COMMANDS.items():
        checks = checks_of(command.callback)
        for param in command.params:
            if param.name == "help":
                continue
            check = checks.get(param.name)
            if check is None:
                yield pytest.param(path, param.name, None, id=f"{'-'.join(path)}:{param.name}")
                continue
            bads = ["=yes"] if check.is_flag else list(check.bad)
            for k, bad in enumerate(bads):
                yield pytest.param(path, param.name, bad, id=f"{'-'.join(path)}:{param.name}:{k}")


CASES = list(_cases())


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """Input files for the valid invocations: data files, an extract, a cohort store."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(3)
    n = 60
    stop = rng.integers(5, 100, n)
    pd.DataFrame(
        {"start": 0, "stop": stop, "event": rng.integers(0, 2, n), "x": rng.normal(size=n)}
    ).to_csv(root / "cox.csv", index=False)
    pd.DataFrame(
        {
            "case": np.arange(n),
            "sta": 0,
            "end": 100,
            "ev": rng.integers(1, 100, n),
            "exp": rng.integers(1, 80, n),
        }
    ).to_csv(root / "sccs.csv", index=False)
    pd.DataFrame({"time": stop, "status": rng.integers(0, 3, n), "x": rng.normal(size=n)}).to_csv(
        root / "cr.csv", index=False
    )
    (root / "notes.txt").write_text("not a data file\n")
    (root / "empty").mkdir()
    assert (
        main(
            [
                "cohort",
                "synth",
                "--like",
                "flatiron",
                "--n",
                "300",
                "--seed",
                "2",
                "--out",
                str(root / "extract"),
            ]
        )
        == 0
    )
    store = root / "store.duckdb"
    assert (
        main(
            ["cohort", "import", "--source", "flatiron", str(root / "extract"), "--db", str(store)]
        )
        == 0
    )
    return {
        "cox": root / "cox.csv",
        "sccs": root / "sccs.csv",
        "cr": root / "cr.csv",
        "extract": root / "extract",
        "store": store,
        "file": root / "notes.txt",
        "folder": root / "empty",
    }


def _fill(value: object, names: dict[str, Path]) -> str:
    text = str(value).replace(A_FILE, str(names["file"])).replace(A_FOLDER, str(names["folder"]))
    return text.format(**{k: str(v) for k, v in names.items()})


def _argv(path, values: dict[str, object], names: dict[str, Path]) -> list[str]:
    argv = list(path)
    for param in COMMANDS[path].params:
        if param.name not in values:
            continue
        value = values[param.name]
        if not param.opts[0].startswith("-"):  # an argument
            argv.append(_fill(value, names))
        elif value is True:
            argv.append(param.opts[0])
        elif isinstance(value, list):
            for item in value:
                argv += [param.opts[0], _fill(item, names)]
        else:
            argv += [param.opts[0], _fill(value, names)]
    return argv


def _snapshot(*folders: Path) -> dict[str, str]:
    files = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            files[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return files


def test_every_command_has_a_valid_invocation():
    assert set(COMMANDS) == set(VALID), "add a valid invocation of each new command to VALID"


def test_the_walk_tries_many_bad_values():
    assert len(CASES) >= 150


@pytest.mark.parametrize(("path", "name", "bad"), CASES)
def test_bad_value_is_refused_at_the_door(path, name, bad, inputs, tmp_path, monkeypatch, capsys):
    assert bad is not None, f"option {name} of `reawaken {' '.join(path)}` has no check"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    names = {**inputs, "out": work / "out", "new_store": work / "new.duckdb"}
    param = next(p for p in COMMANDS[path].params if p.name == name)
    option = param.opts[0]
    values = dict(VALID[path])
    values.pop(name, None)
    argv = _argv(path, values, names)
    if bad == "=yes":  # a flag given a value
        argv.append(f"{option}=yes")
    elif option.startswith("-"):
        argv += [option, _fill(bad, names)]
    else:
        argv.insert(len(path), _fill(bad, names))
    before = _snapshot(inputs["extract"].parent, work)

    status = main(argv)

    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert status == 2, f"{argv}: exit {status}\n{out}\n{err}"
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "np." not in err
    shown = _fill(bad, names).lstrip("=")
    assert option in lines[0] or shown in lines[0] or name.upper() in lines[0], lines[0]
    assert _snapshot(inputs["extract"].parent, work) == before
    assert not (work / "out").exists()
