"""``reawaken bridge``: from the mechanism to relapse in people (kernel, calibration to the
Flatiron finding, the two studies reproduced)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from reawaken.cli import checks, fit_output
from reawaken.cli.checks import option
from reawaken.cli.exit_status import NOT_CONVERGED
from reawaken.model.parameters import PARAMETER_SET_NAMES

HUMAN_SETS = [s for s in PARAMETER_SET_NAMES if s.startswith("human-")]


def bridge(
    params: list[str] = option(
        checks.choice(HUMAN_SETS, "a human parameter set:", repeatable=True),
        None,
        "--params",
        help="Human parameter set of a pathogen (repeatable); default: every human set.",
    ),
    draws: int = option(
        checks.whole(10, 5000, "each draw is a within-host solve"),
        200,
        "--draws",
        help="Parameter draws of the within-host model (the kernel's uncertainty).",
    ),
    seed: int = option(checks.SEED, 1, "--seed", help="Seed of the draws and of the cohorts."),
    cohort_size: int = option(
        checks.whole(1000, 2_000_000, "each cohort is held in memory"),
        100_000,
        "--cohort-size",
        help="Persons in each mechanism-generated cohort (calibration and reproductions).",
    ),
    bootstrap: int = option(
        checks.whole(10, 2000),
        100,
        "--bootstrap",
        help="Bootstrap replicates of the UK Biobank-like emulation.",
    ),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    write: bool = checks.flag(
        "--write",
        help="Save the calibrated lesion response as the user's bridge calibration "
        "(population and risk then use it).",
    ),
    overwrite: bool = checks.flag("--overwrite", help=fit_output.OVERWRITE_HELP),
) -> None:
    """Excess hazard of a lung metastasis after infection, calibrated to the Flatiron HR 1.44,
    with the Flatiron and UK Biobank studies reproduced from the mechanism.

    \b
    Example:
      reawaken bridge --params human-influenza --params human-sars-cov-2 --draws 200 \\
          --seed 1 --out bridge/
    """
    from reawaken.bridge.run import FILES, BridgeSettings, run_bridge, write_bridge
    from reawaken.run_folder import write_run

    sets = tuple(dict.fromkeys(params or HUMAN_SETS))
    fit_output.out_folder(out, overwrite)
    settings = BridgeSettings(sets, draws, seed, cohort_size, bootstrap)
    result, daily = run_bridge(settings, progress=lambda m: typer.echo(m, err=True))
    for path in write_run(
        out, lambda f: write_bridge(result, daily, f), overwrite=overwrite, names=FILES
    ):
        typer.echo(f"wrote {path}")
    typer.echo(result.studies.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    calibration = result.record["calibration"]
    if write:
        from reawaken.bridge.calibrated import user_path
        from reawaken.io import write_text_atomic

        command = "reawaken " + " ".join(sys.argv[1:]) if sys.argv[1:] else "reawaken bridge"
        payload = {
            "values": {"lesion_response": calibration["lesion_response"]},
            "command": command,
            "target": calibration["target"],
        }
        written = write_text_atomic(json.dumps(payload, indent=2) + "\n", user_path())
        typer.echo(f"wrote {written}")
    if not calibration["converged"]:
        typer.echo(
            "not converged: the calibration did not reach HR 1.44 within its steps", err=True
        )
        raise typer.Exit(NOT_CONVERGED)


def register(app: typer.Typer) -> None:
    app.command("bridge")(bridge)
