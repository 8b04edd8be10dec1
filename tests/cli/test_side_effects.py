"""Importing reawaken changes nothing in the user's session; its JAX work is float64 anyway.

Each check runs in a fresh interpreter, as a notebook user's session would be.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from reawaken.experiments.protocols import MOUSE_LUNG
from reawaken.experiments.run import run_protocol
from reawaken.model.parameters import parameter_set
from reawaken.simulate.ode import SolverSettings

IMPORT_ALL = r"""
import importlib, json, pkgutil, warnings
import matplotlib
matplotlib.use("svg")  # a user's own choice of backend
import jax
import numpy as np
import scipy.linalg, scipy.optimize, scipy.stats  # these add warning filters of their own
before = {"backend": matplotlib.get_backend(), "x64": bool(jax.config.read("jax_enable_x64")),
          "errstate": np.geterr(), "filters": len(warnings.filters)}
import reawaken
names = [m.name for m in pkgutil.walk_packages(reawaken.__path__, "reawaken.")
         if not m.name.endswith("__main__")]  # running the command line is not importing it
for name in names:
    importlib.import_module(name)
after = {"backend": matplotlib.get_backend(), "x64": bool(jax.config.read("jax_enable_x64")),
         "errstate": np.geterr(), "filters": len(warnings.filters)}
print(json.dumps({"before": before, "after": after, "modules": len(names)}))
"""

SOLVE_IN_FLOAT32 = r"""
import json
import jax
from reawaken.experiments.protocols import MOUSE_LUNG
from reawaken.experiments.run import run_protocol
from reawaken.simulate.ode import SolverSettings
out = {}
for method in ("rodas4", "tsit5"):
    arms = run_protocol(MOUSE_LUNG, arms=["influenza"], settings=SolverSettings(method=method))
    sol = [a for a in arms if a.arm == "influenza"][0].solution
    out[method] = {"dtype": str(sol.ys.dtype), "ys": sol.ys.ravel().tolist()}
out["x64_after"] = bool(jax.config.read("jax_enable_x64"))
out["float32_default"] = str(jax.numpy.ones(1).dtype)
print(json.dumps(out))
"""


def _run(code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_every_module_keeps_the_users_settings():
    result = _run(IMPORT_ALL)
    assert result["modules"] >= 40
    assert result["after"] == result["before"]
    assert result["after"]["backend"] == "svg" and result["after"]["x64"] is False


def test_solves_are_float64_in_a_float32_session():
    result = _run(SOLVE_IN_FLOAT32)
    assert result["x64_after"] is False and result["float32_default"] == "float32"
    for method in ("rodas4", "tsit5"):
        here = run_protocol(MOUSE_LUNG, arms=["influenza"], settings=SolverSettings(method=method))
        expected = [a for a in here if a.arm == "influenza"][0].solution.ys
        assert result[method]["dtype"] == "float64"
        np.testing.assert_allclose(
            np.array(result[method]["ys"]).reshape(expected.shape), expected, rtol=1e-12
        )
    assert parameter_set("mouse-influenza").vector().dtype == np.float64
