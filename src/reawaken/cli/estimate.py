"""``reawaken estimate``: run one design on the cohort store and write tidy tables and figures.

Writes into ``--out`` what :meth:`reawaken.epi.design.DesignResult.write` writes:
``estimates.csv`` (the standard columns ``term, coef, se, ratio, ci_lower, ci_upper, p_value``
plus ``design, outcome, exposure, kind, window, events, person_years, evalue, evalue_ci``;
counts under ``--min-cell`` suppressed), ``counts.csv`` (events and person-years per
time-since-infection window), the design's figures (``forest.png``; ``cif.csv`` and ``cif.png``
for the emulation and competing designs) and ``fit.json`` (the numbers of persons, the fits,
notes and warnings: never silent about non-convergence).

``--in-engine`` builds the design's inputs by SQL in the store's engine instead of reading
the tables into pandas (:mod:`reawaken.epi.engine_inputs`; the sccs, cox and competing
designs), for a store too big for memory; the estimates are the same and ``fit.json`` records
``"inputs": "engine"``.

The options of the designs' settings are not written here: each is built from its field in the
settings dataclass of the designs registered in :mod:`reawaken.epi.estimate` (its help, default
and what it accepts, an :class:`~reawaken.accepts.Accepts` the option checks its value with),
and an option that the chosen design does not use is refused. The options are read when the
command line is built, so a design registered at run time
(:func:`reawaken.epi.estimate.register_design`) brings its options with it.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from reawaken.cli import checks, fit_output
from reawaken.cli.checks import option
from reawaken.cli.deferred import build_single, stand_in
from reawaken.cli.exit_status import NOT_CONVERGED
from reawaken.errors import ConvergenceWarning, InputError

if TYPE_CHECKING:  # the designs import the estimators: imported when the command is built
    from reawaken.epi.design import Design
    from reawaken.epi.settings import Setting


def _flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _option(name: str, default: Any, setting: Setting, text: str) -> inspect.Parameter:
    """The option of one settings field: a flag, or an option checked by what it accepts."""
    accepts = setting.accepts
    if accepts.is_flag:
        value: Any = checks.flag(_flag_name(name), help=text)
    else:
        shown = ... if default is MISSING else None
        if default is not MISSING and default is not None:
            shown = accepts.text(default)
        value = option(accepts, shown, _flag_name(name), help=text)
    kind = bool if accepts.is_flag else str
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value, annotation=kind)


def settings_options(
    designs: Mapping[str, Design],
) -> tuple[dict[str, inspect.Parameter], dict[str, tuple[str, ...]]]:
    """One option per settings field of ``designs``, and the designs that use each option that
    not all of them use (the others refuse it).

    A field of the same name must be declared alike (default, help, what it accepts) by every
    design that has it: it is one option."""
    from reawaken.epi.settings import setting_of

    found: dict[str, tuple[Any, Setting]] = {}
    users: dict[str, tuple[str, ...]] = {}
    for design in designs.values():
        for f in fields(design.settings):
            setting = setting_of(f)
            first = found.setdefault(f.name, (f.default, setting))
            if (first[0], first[1].help, first[1].accepts.accepted) != (
                f.default,
                setting.help,
                setting.accepts.accepted,
            ):
                raise TypeError(
                    f"setting {f.name} of design {design.name} is declared differently by "
                    f"design {users[f.name][0]}"
                )
            users[f.name] = (*users.get(f.name, ()), design.name)
    params = {}
    for name, (default, setting) in found.items():
        some = len(users[name]) < len(designs)
        text = setting.help + (f" Designs: {', '.join(users[name])}." if some else "")
        params[name] = _option(name, default, setting, text)
    applies = {name: users[name] for name in found if len(users[name]) < len(designs)}
    return params, applies


def _given(settings_type: type, ctx: typer.Context, names: tuple[str, ...]) -> str:
    """The options behind ``names`` as given, e.g. ``--time-scale calendar with
    --calendar-years``."""
    from reawaken.epi.settings import setting_of

    accepts = {f.name: setting_of(f).accepts for f in fields(settings_type)}
    shown = []
    for name in names:
        if accepts[name].is_flag:
            shown.append(_flag_name(name))
        else:
            shown.append(f"{_flag_name(name)} {accepts[name].text(ctx.params[name])}")
    return " with ".join(shown)


IN_ENGINE_HELP = (
    "Build the design's inputs by SQL in the store's engine (DuckDB) and stream only the "
    "aggregates the fit needs, for a store too big for memory; same estimates. Designs: "
    "sccs (person-time and events per case, window and age group), cox (intervals split in "
    "the engine), competing (persons at risk and their infections)."
)


def _inputs(in_engine: bool) -> str:
    """``engine`` with ``--in-engine``, else ``memory``
    (:func:`reawaken.epi.estimate.run_design`'s ``inputs``)."""
    return "engine" if in_engine else "memory"


def _estimate(ctx: typer.Context, **options: Any) -> None:
    from reawaken.cohort.store import CohortStore
    from reawaken.epi.estimate import DESIGNS, in_engine_designs, run_design
    from reawaken.epi.outputs import publish_design, write_published
    from reawaken.epi.settings import SettingError

    design = DESIGNS[options["design"]]
    _, applies = settings_options(DESIGNS)
    checks.refuse_inapplicable(ctx, design.name, applies, option="--design")
    if options["in_engine"] and design.name not in in_engine_designs():
        raise InputError(
            f"--in-engine does not apply to --design {design.name} (it applies to "
            f"{', '.join(in_engine_designs())})"
        )
    chosen = {f.name: options[f.name] for f in fields(design.settings)}
    try:
        settings = design.settings(**{k: v for k, v in chosen.items() if v is not None})
    except SettingError as exc:
        raise InputError(f"{_given(design.settings, ctx, exc.names)}: {exc.reason}") from None
    fit_output.out_folder(options["out"], options["overwrite"])  # refused before the work
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            result = run_design(
                CohortStore(options["db"]), design, settings, inputs=_inputs(options["in_engine"])
            )
        except SettingError as exc:  # the data call for other settings: name their options
            raise InputError(f"{exc.reason} ({_given(design.settings, ctx, exc.names)})") from None
    shown = publish_design(result, min_cell=options["min_cell"])  # what the files show
    written = write_published(
        shown, options["out"], min_cell=options["min_cell"], overwrite=options["overwrite"]
    )
    for message in result.summary["warnings"]:
        typer.echo(f"warning: {message}", err=True)
    for note in shown.notes:
        typer.echo(f"note: {note}")
    main = shown.estimates[shown.estimates["kind"] == "exposure"]
    columns = ("event", "term", "window", "ratio", "ci_lower", "ci_upper", "evalue", "evalue_ci")
    cols = [c for c in columns if c in main]  # a design of a user's may have no E-values
    typer.echo(main[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    typer.echo("wrote " + ", ".join(str(p) for p in written))
    status = result.estimates.get("status")
    if status is not None and (status == "not converged").any():
        typer.echo(
            'not converged: the estimates are written marked (status "not converged" in '
            "estimates.csv, converged false in fit.json): they are where the iteration stopped",
            err=True,
        )
        raise typer.Exit(NOT_CONVERGED)


def _signature() -> inspect.Signature:
    """The command's parameters as typer reads them: the context, the store, the design, one
    option per setting of the designs registered now, the output folder and the small-cell
    threshold."""
    from reawaken.epi.estimate import DESIGNS
    from reawaken.epi.outputs import DEFAULT_MIN_CELL

    def param(name: str, kind: type, default: Any) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind
        )

    settings, _ = settings_options(DESIGNS)
    return inspect.Signature(
        [
            inspect.Parameter(
                "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
            ),
            param("db", Path, option(checks.STORE_TO_READ, ..., "--db", help="Cohort store.")),
            param("design", str, option(checks.choice(DESIGNS), ..., "--design", help="Design.")),
            *settings.values(),
            param("out", Path, option(checks.OUT_FOLDER, ..., "--out", help="Output folder.")),
            param(
                "min_cell",
                int,
                option(
                    checks.MIN_CELL, DEFAULT_MIN_CELL, "--min-cell", help="Small-cell threshold."
                ),
            ),
            param("overwrite", bool, checks.flag("--overwrite", help=fit_output.OVERWRITE_HELP)),
            param("in_engine", bool, checks.flag("--in-engine", help=IN_ENGINE_HELP)),
        ]
    )


class EstimateCommand:
    """Estimate the effect of infection on an outcome with one design on the cohort store.

    \b
    Example:
      reawaken estimate --db cohort.duckdb --design cox --outcome lung_metastasis \\
        --exposure any --out est/
    """

    # typer reads a command's parameters from its signature each time it builds the command
    # line: here they follow the designs registered at that moment.
    __name__ = "estimate"

    @property
    def __signature__(self) -> inspect.Signature:
        return _signature()

    @property
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]
        return {p.name: p.annotation for p in _signature().parameters.values()}

    def __call__(self, ctx: typer.Context, **options: Any) -> None:
        _estimate(ctx, **options)


estimate = EstimateCommand()
"""The ``reawaken estimate`` command (typer reads its options from the registered designs)."""


def register(app: typer.Typer) -> None:
    """Attach the top-level ``estimate`` command, built when it is used
    (:mod:`reawaken.cli.deferred`): its options import every registered design."""
    app.command("estimate")(
        stand_in(EstimateCommand.__doc__, lambda: build_single("estimate", estimate))
    )
