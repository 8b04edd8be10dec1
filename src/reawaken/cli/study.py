"""``reawaken study``: the whole study in one command, and its report."""

from __future__ import annotations

from pathlib import Path

import typer

from reawaken.cli import checks
from reawaken.cli.checks import option


def study(
    out: Path = option(checks.OUT_FOLDER, None, "--out", help="Output folder of the study."),
    config: Path = option(
        checks.existing_file((".toml",)),
        None,
        "--config",
        help="Study configuration (TOML); default: the built-in study on synthetic data.",
    ),
    force: bool = checks.flag("--force", help="Run every step again (ignore the cache)."),
    min_cell: int = option(
        checks.whole(1, 1000),
        None,
        "--min-cell",
        help="Small-cell threshold (overrides study.min_cell; default 10).",
    ),
    quiet: bool = checks.flag("--quiet", help="No progress display."),
    print_config: bool = checks.flag(
        "--print-config", help="Print the default configuration (a starting point) and exit."
    ),
) -> None:
    """Run the whole study (mouse experiments, cohorts and designs, the bridge, prevention
    scenarios) and write DIR/index.html and DIR/results.json; rerun to reuse what is done.

    \b
    Example:
      reawaken study --out study/
    """
    from reawaken.errors import InputError
    from reawaken.study.config import DEFAULT_CONFIG, load_config

    if print_config:
        typer.echo(DEFAULT_CONFIG, nl=False)
        return
    if out is None:
        raise InputError("--out is required (the study's output folder)")
    settings = load_config(config)
    if min_cell is not None:
        settings["study"]["min_cell"] = min_cell
    from reawaken.study.run import run_study

    _, paths = run_study(settings, out, force=force, quiet=quiet)
    for path in paths:
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("study")(study)
