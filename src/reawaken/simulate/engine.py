"""The model's ensemble engine: generated from the JAX model, keyed by its own source, compiled
once per machine.

:func:`engine` returns the compiled module of :mod:`reawaken.simulate.rodas` for the model.
Its source is generated from the traced vector field (:func:`model_source`); the file holding
it is named by the SHA-256 of that source and the versions of JAX and numba
(:func:`engine_key`), which is all the compiled code depends on, and numba caches the compiled
code beside it (:func:`cache_directory`). Generating the source takes seconds, so a cheap
fingerprint of what the source is made from (:func:`fingerprint`: the code of the model and of
the generator as syntax, the parameter values the Jacobian pattern is sampled at, the tableau
and the library versions) finds the file without generating it again. Neither depends on how
any file is written: a comment or a docstring changes nothing, and a code change that leaves
the generated source as it was regenerates it once and compiles nothing anew.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import numba
import numpy as np

from reawaken.io import write_text_atomic
from reawaken.model import equations, forcing, parameters, states
from reawaken.model.equations import vector_field
from reawaken.model.forcing import Forcing, every_input_on, flatten, layout, no_forcing
from reawaken.model.parameters import PARAMETER_NAMES, PARAMETER_SET_NAMES, parameter_set
from reawaken.model.states import N_STATES, as_state
from reawaken.simulate import codegen, rodas
from reawaken.simulate.precision import float64


def model_field(t: jnp.ndarray, y: list[jnp.ndarray], p: jnp.ndarray, f: Forcing) -> list:
    """The model for the generator: states as a list in the order of ``STATE_IDS``."""
    return list(vector_field(t, as_state(y), p, f, jnp))


def jax_forcing(forcing: Forcing) -> Forcing:
    """The forcing with every input a float64 JAX array."""
    return forcing._make(jnp.asarray(np.asarray(x, dtype=np.float64)) for x in forcing)


def _pattern_parameters() -> np.ndarray:
    """The parameter vector of every parameter set, the centres of the pattern's samples."""
    return np.stack([parameter_set(name).vector() for name in PARAMETER_SET_NAMES])


@lru_cache(maxsize=1)
@float64
def model_pattern() -> rodas.Pattern:
    """Structural nonzeros of the model's Jacobian: sampled over wide ranges of states (1e-3 to
    1e7), parameters (every parameter set times lognormal factors, sd 1) and times, with no
    forcing and with every input switched on."""
    rng = np.random.default_rng(0)
    base = _pattern_parameters()
    m = 64
    ps = base[rng.integers(0, len(base), m)] * np.exp(rng.normal(0.0, 1.0, (m, base.shape[1])))
    ys = 10.0 ** rng.uniform(-3.0, 7.0, (m, N_STATES))
    ts = rng.uniform(0.0, 10.0, m)
    args = [jax_forcing(no_forcing()), jax_forcing(every_input_on())]
    return rodas.jacobian_pattern(model_field, ts, ys, ps, args)


def _inputs() -> tuple[list[Any], tuple[Any, ...], Callable[..., list]]:
    """Source names of the field's flattened arguments, example arguments for tracing it, and
    the field over flattened arguments. The forcing travels as one flat vector ``f`` (scalars
    and padded schedules in the order of the forcing's layout)."""
    n_params = len(PARAMETER_NAMES)
    flat: list = []
    offset = 0
    for _, size in layout():
        slots = [f"f[{offset + k}]" for k in range(size or 1)]
        flat.append(slots if size is not None else slots[0])
        offset += size or 1
    names = ["tm", codegen.indexed("y", N_STATES), codegen.indexed("p", n_params), *flat]
    examples = (0.0, jnp.ones(N_STATES), jnp.ones(n_params), *jax_forcing(no_forcing()))

    def field(t: Any, y: Any, p: Any, *f: Any) -> list:
        return model_field(t, y, p, Forcing(*f))

    return names, examples, field


@float64
def model_source(method: str = "rodas4") -> str:
    """Source of the engine module for ``method`` (:func:`rodas.engine_source`)."""
    names, examples, field = _inputs()
    model = rodas.ModelSource(field, examples, names, model_pattern())
    return rodas.engine_source(model, rodas.TABLEAUS[method])


def engine_key(source: str) -> str:
    """What compiled code depends on: the generated source and the numba and JAX versions."""
    digest = hashlib.sha256(source.encode()).hexdigest()
    return f"jax {jax.__version__} numba {numba.__version__} source {digest}"


def code_digest(source: str) -> str:
    """SHA-256 of Python code as syntax: comments, docstrings and layout do not count."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()


SOURCES: tuple[ModuleType, ...] = (equations, forcing, parameters, states, codegen, rodas)
"""Modules whose code makes the engine's source: the model's and the generator's (besides this
module's own functions)."""


def fingerprint(method: str = "rodas4") -> str:
    """A digest of everything the engine's source is made from, cheap to compute (no tracing):
    the code of ``SOURCES`` and of this module's generating functions as syntax
    (:func:`code_digest`), the parameter sets' values and the forcings the Jacobian pattern is
    sampled at, the tableau, and the versions of JAX, numba and numpy."""
    digest = hashlib.sha256()
    functions = (model_field, jax_forcing, _pattern_parameters, model_pattern, _inputs)
    for text in (
        method,
        repr(rodas.TABLEAUS[method]),
        f"jax {jax.__version__} numba {numba.__version__} numpy {np.__version__}",
        *(code_digest(inspect.getsource(m)) for m in SOURCES),
        *(code_digest(inspect.getsource(f)) for f in (*functions, model_source)),
    ):
        digest.update(text.encode() + b"\0")
    for array in (_pattern_parameters(), flatten(no_forcing()), flatten(every_input_on())):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()


def cache_directory() -> Path:
    """Where compiled solver code is kept: ``$REAWAKEN_CACHE``, else ``~/.cache/reawaken``
    (or the temporary directory when the home directory is not writable)."""
    configured = os.environ.get("REAWAKEN_CACHE")
    if configured:
        return Path(configured)
    home = Path.home() / ".cache" / "reawaken"
    try:
        home.mkdir(parents=True, exist_ok=True)
        if os.access(home, os.W_OK):
            return home
    except OSError:
        pass
    return Path(tempfile.gettempdir()) / "reawaken-cache"


def load(
    method: str,
    directory: Path,
    source: Callable[[str], str] = model_source,
    stamp: Callable[[str], str] = fingerprint,
) -> ModuleType:
    """The engine for ``method`` from ``directory``: found through the index file of its
    fingerprint (``engine_<fingerprint>.key``, holding the :func:`engine_key`), else generated
    (``source(method)``), written under its key and indexed."""
    index = directory / f"engine_{stamp(method)[:32]}.key"
    key = index.read_text().strip() if index.is_file() else ""
    if key:
        return rodas.load_engine(key, lambda: source(method), directory)
    text = source(method)
    key = engine_key(text)
    module = rodas.load_engine(key, lambda: text, directory)
    write_text_atomic(key + "\n", index)
    return module


@lru_cache(maxsize=len(rodas.TABLEAUS))
def engine(method: str = "rodas4") -> ModuleType:
    """The compiled ensemble engine for the model (see :mod:`reawaken.simulate.rodas`)."""
    return load(method, cache_directory())
