"""The command line starts without the heavy libraries: importing ``reawaken.cli``, building the
whole command line (``reawaken --help``) and a command's help load neither SciPy, matplotlib,
JAX, numba, pandas nor DuckDB, nor the estimators, the simulation or the figures; those are
imported by the command that uses them. Asserted on the modules loaded, in a fresh interpreter
(wall time is too noisy to test)."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: Loaded only by the commands that use them.
HEAVY = (
    "scipy",
    "matplotlib",
    "pandas",
    "duckdb",
    "jax",
    "numba",
    "diffrax",
    "reawaken.epi.cox",
    "reawaken.epi.competing",
    "reawaken.epi.estimate",
    "reawaken.epi.designs",
    "reawaken.simulate",
    "reawaken.plots",
)


def _loaded_after(code: str) -> list[str]:
    """The heavy modules (and their submodules) loaded after ``code`` in a fresh interpreter."""
    script = (
        "import sys\n"
        f"{code}\n"
        f"heavy = {HEAVY!r}\n"
        "print(','.join(sorted(m for m in sys.modules "
        "if any(m == h or m.startswith(h + '.') for h in heavy))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    return [m for m in done.stdout.splitlines()[-1].split(",") if m]


def test_importing_the_command_line_loads_nothing_heavy():
    assert _loaded_after("import reawaken.cli") == []


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["cohort", "import", "--help"], ["cohort", "summary", "--help"]],
)
def test_help_of_the_command_line_loads_nothing_heavy(argv):
    code = (
        "import contextlib, io\n"
        "from reawaken.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    assert main({argv!r}) == 0\n"
        "assert 'Usage: reawaken' in out.getvalue()"
    )
    assert _loaded_after(code) == []


def test_estimate_is_listed_without_being_built(capsys):
    """``reawaken --help`` lists ``estimate`` with its summary line; its options, which come
    from the registered designs, are there once it is asked for."""
    from reawaken.cli import main

    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert "estimate    Estimate the effect of infection on an outcome with one" in listed
    assert main(["estimate", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "--design" in shown and "--outcome" in shown and "--controls" in shown


def test_epi_names_are_imported_when_first_used():
    """``import reawaken.epi`` loads no estimator; a name that is also its module's name
    (``evalue`` of ``reawaken.epi.evalue``) is the function however the module was imported."""
    assert _loaded_after("import reawaken.epi") == []
    code = (
        "import math\n"
        "import reawaken.epi.design  # imports the module reawaken.epi.evalue on the way\n"
        "from reawaken.epi import evalue\n"
        "assert math.isclose(evalue(0.5, 0.3, 0.8).point, 2 + math.sqrt(2), rel_tol=1e-12)\n"
        "import reawaken.epi\n"
        "assert reawaken.epi.evalue is evalue"
    )
    assert "reawaken.epi.cox" not in _loaded_after(code)


def test_light_constants_are_those_of_the_modules_that_use_them():
    """The command line reads its choices and defaults from light modules; the store, the
    linking, the bridge and the population run take the same values (the defaults shown in
    ``--help`` are those the library applies)."""
    from reawaken.bridge import baseline, limits, risk
    from reawaken.cohort import defaults, linking, sources, store
    from reawaken.population import limits as population_limits
    from reawaken.population import run

    assert store.DEFAULT_PATH == defaults.DEFAULT_PATH
    assert linking.LINKS == ("same-person", "distinct") == defaults.LINKS
    assert sources.kinds()[:3] == ("ukb", "flatiron", "omop")
    assert (baseline.STAGES, baseline.SUBTYPES, baseline.MIN_AGE, baseline.MAX_AGE) == (
        limits.STAGES,
        limits.SUBTYPES,
        limits.MIN_AGE,
        limits.MAX_AGE,
    )
    assert risk.DRAWS is limits.DRAWS and risk.INFECTION is limits.INFECTION
    assert (run.MAX_SURVIVORS, run.MAX_YEARS, run.MAX_DRAWS, run.DEFAULT_CHUNK) == (
        population_limits.MAX_SURVIVORS,
        population_limits.MAX_YEARS,
        population_limits.MAX_DRAWS,
        population_limits.DEFAULT_CHUNK,
    )
