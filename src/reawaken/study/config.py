"""The study's settings: one TOML file (``reawaken study --config study.toml``), checked
before anything runs.

:data:`DEFAULT_CONFIG` is the default study (what ``reawaken study --print-config`` prints);
a user's file changes any part of it. Every key is known and typed: an unknown key, a value of
the wrong type or out of range, or a file that does not exist is an :class:`InputError` naming
the key (``estimate.designs``), so ``reawaken study`` exits with status 2 before any work.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reawaken.errors import InputError

DEFAULT_CONFIG = """\
# reawaken study: every setting of a study run. Change what you need and run
#   reawaken study --config study.toml --out study/

[study]
seed = 1                 # seed of every random draw (each step derives its own from it)
min_cell = 10            # counts from 1 to min_cell - 1 are suppressed everywhere

[mouse]                  # the mouse-lung experiments (in silico)
protocol = "mouse-lung"
ensemble = 200           # virtual mice per arm (lognormal parameter draws)
cv = 0.3                 # coefficient of variation of the draws
lesion_arm = "influenza"
lesion_replicates = 300  # stochastic replicates of the arm's DCC clones
lesion_days = [3, 6, 9, 15, 28]

[data]                   # real data: a cohort store, or extracts to import (else synthetic)
db = ""                  # e.g. "cohort.duckdb": analyse this store (read only)
sources = []             # e.g. [{kind = "omop", path = "omop/"}]: imported into DIR's store

[cohorts]                # synthetic cohorts, used when [data] names nothing
flatiron = 20000         # persons of the Flatiron-like cohort (lung metastasis HR 1.44)
ukb = 20000              # persons of the UK Biobank-like cohort (cancer death)

[estimate]
exposure = "sars-cov-2"
windows = "0-30,31-90,91-180,181-365,>365"
designs = ["cox", "sccs", "emulation", "competing"]
outcomes = ["lung_metastasis", "cancer_death", "distant_metastasis"]
negative_control = "other_site_metastasis"
bootstrap = 30           # bootstrap replicates of the emulation

[bridge]                 # the mechanism turned into human relapse risk
enabled = true
calibrate = false        # true: calibrate to the Flatiron HR again (else the calibration in use)
draws = 100
cohort_size = 50000      # persons of each reproduced study's cohort

[population]             # virtual survivors and prevention scenarios
enabled = true
survivors = 100000
years = 5
draws = 50
scenarios = ["vaccine:coverage=0.7,efficacy=0.5", "anti-il6:coverage=0.5,delay=2"]
"""


def _whole(lo: int, hi: int) -> tuple[str, Callable[[Any], bool]]:
    return (
        f"a whole number from {lo} to {hi}",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi,
    )


def _real(lo: float, hi: float) -> tuple[str, Callable[[Any], bool]]:
    return (
        f"a number from {lo:g} to {hi:g}",
        lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and lo <= v <= hi,
    )


def _text() -> tuple[str, Callable[[Any], bool]]:
    return ("text", lambda v: isinstance(v, str))


def _flag() -> tuple[str, Callable[[Any], bool]]:
    return ("true or false", lambda v: isinstance(v, bool))


def _texts() -> tuple[str, Callable[[Any], bool]]:
    return ("a list of text", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))


def _days() -> tuple[str, Callable[[Any], bool]]:
    return (
        "a list of days (numbers from 0 to 3650)",
        lambda v: (
            isinstance(v, list)
            and bool(v)
            and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and 0 <= x <= 3650
                for x in v
            )
        ),
    )


def _sources() -> tuple[str, Callable[[Any], bool]]:
    return (
        "a list of tables {kind = ..., path = ...}",
        lambda v: (
            isinstance(v, list)
            and all(
                isinstance(x, dict)
                and set(x) <= {"kind", "path", "name", "censor_date"}
                and {"kind", "path"} <= set(x)
                for x in v
            )
        ),
    )


RULES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "study.seed": _whole(0, 2**31 - 1),
    "study.min_cell": _whole(1, 1000),
    "mouse.protocol": _text(),
    "mouse.ensemble": _whole(0, 100_000),
    "mouse.cv": _real(0.0, 5.0),
    "mouse.lesion_arm": _text(),
    "mouse.lesion_replicates": _whole(1, 100_000),
    "mouse.lesion_days": _days(),
    "data.db": _text(),
    "data.sources": _sources(),
    "cohorts.flatiron": _whole(0, 10_000_000),
    "cohorts.ukb": _whole(0, 10_000_000),
    "estimate.exposure": _text(),
    "estimate.windows": _text(),
    "estimate.designs": _texts(),
    "estimate.outcomes": _texts(),
    "estimate.negative_control": _text(),
    "estimate.bootstrap": _whole(0, 10_000),
    "bridge.enabled": _flag(),
    "bridge.calibrate": _flag(),
    "bridge.draws": _whole(10, 5000),
    "bridge.cohort_size": _whole(1000, 2_000_000),
    "population.enabled": _flag(),
    "population.survivors": _whole(1000, 100_000_000),
    "population.years": _whole(1, 10),
    "population.draws": _whole(2, 1000),
    "population.scenarios": _texts(),
}
"""Every key of the configuration and what it accepts."""


def default_config() -> dict:
    """The default study's settings (a fresh copy)."""
    return tomllib.loads(DEFAULT_CONFIG)


def _choices(config: Mapping, key: str, value: Any) -> None:
    """Values that must name something known (a protocol, a design, an outcome, ...)."""

    def refuse(accepted: list[str] | tuple[str, ...]) -> None:
        raise InputError(
            f"{key} = {value!r} is not accepted (accepted: {', '.join(accepted)})", column=key
        )

    if key == "mouse.protocol":
        from reawaken.experiments.protocols import PROTOCOLS

        if value not in PROTOCOLS:
            refuse(sorted(PROTOCOLS))
    elif key == "mouse.lesion_arm":
        from reawaken.experiments.protocols import PROTOCOLS

        arms = PROTOCOLS[config["mouse"]["protocol"]].arm_names
        if value not in arms:
            refuse(arms)
    elif key == "estimate.designs":
        from reawaken.epi.estimate import DESIGNS

        for v in value:
            if v not in DESIGNS:
                raise InputError(
                    f"{key}: {v!r} is not a design (accepted: {', '.join(DESIGNS)})", column=key
                )
    elif key in ("estimate.outcomes", "estimate.negative_control"):
        from reawaken.epi.cohort_designs import OUTCOMES

        for v in value if isinstance(value, list) else [value] if value else []:
            if v not in OUTCOMES:
                raise InputError(
                    f"{key}: {v!r} is not an outcome (accepted: {', '.join(OUTCOMES)})", column=key
                )
    elif key == "estimate.exposure":
        from reawaken.epi.cohort_designs import exposures

        if value not in exposures():
            refuse(sorted(exposures()))
    elif key == "estimate.windows":
        from reawaken.epi.intervals import parse_windows

        try:
            parse_windows(value)
        except InputError as exc:
            raise InputError(f"{key}: {exc.reason}", column=key) from None
    elif key == "population.scenarios":
        from reawaken.population.scenarios import parse_scenario

        for v in value:
            try:
                parse_scenario(v)
            except InputError as exc:
                raise InputError(f"{key}: {exc.reason}", column=key) from None


def check_config(
    config: Mapping, *, file: str | Path | None = None, base: Path | None = None
) -> dict:
    """The configuration, every key known and every value accepted; relative paths in
    ``data`` resolved against ``base`` (the config file's folder) and checked to exist.

    Raises
    ------
    InputError
        Naming the key: unknown, of the wrong type or out of range, or a missing file.
    """
    template = default_config()
    checked: dict = {}
    for section, values in config.items():
        if section not in template:
            raise InputError(
                f"unknown section [{section}] (known: {', '.join(template)})", file=file
            )
        if not isinstance(values, dict):
            raise InputError(f"[{section}] must be a table of settings", file=file)
        for key, value in values.items():
            name = f"{section}.{key}"
            if name not in RULES:
                known = ", ".join(k.split(".", 1)[1] for k in RULES if k.startswith(section + "."))
                raise InputError(f"unknown key {name} (known in [{section}]: {known})", file=file)
            accepted, test = RULES[name]
            if not test(value):
                raise InputError(
                    f"{name} = {value!r} is not accepted (accepted: {accepted})", file=file
                )
    merged = copy.deepcopy(template)
    for section, values in config.items():
        merged[section].update(values)
    for name in RULES:
        section, key = name.split(".", 1)
        try:
            _choices(merged, name, merged[section][key])
        except InputError as exc:
            raise InputError(exc.reason, file=file) from None
    base = base or Path.cwd()
    data = merged["data"]
    if data["db"]:
        path = (base / data["db"]).resolve()
        if not path.is_file():
            raise InputError(f"data.db: no such file {path}", file=file)
        data["db"] = str(path)
    for i, source in enumerate(data["sources"]):
        path = (base / source["path"]).resolve()
        if not path.exists():
            raise InputError(f"data.sources[{i}].path: no such file or folder {path}", file=file)
        source["path"] = str(path)
    if data["db"] and data["sources"]:
        raise InputError("data.db and data.sources: give one of them", file=file)
    checked.update(merged)
    return checked


def load_config(path: str | Path | None = None) -> dict:
    """The checked configuration of ``path`` (the defaults with its changes), or the defaults.

    Raises
    ------
    InputError
        If the file cannot be read or is not TOML (the message says where), or a key is not
        accepted (:func:`check_config`).
    """
    if path is None:
        return check_config({})
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(
            f"cannot read the study configuration: {exc.strerror}", file=path
        ) from None
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not a TOML file: {exc}", file=path) from None
    return check_config(config, file=path, base=path.resolve().parent)
