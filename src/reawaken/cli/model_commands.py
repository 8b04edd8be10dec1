"""Commands of the within-host model: simulate, protocols, params, export, calibrate, lesions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from reawaken.cli import checks, fit_output
from reawaken.cli.checks import Check, Refused, option
from reawaken.cli.exit_status import NOT_CONVERGED
from reawaken.errors import InputError
from reawaken.experiments.protocols import PROTOCOLS, Protocol
from reawaken.model.parameters import PARAMETER_NAMES, PARAMETER_SET_NAMES

params_app = typer.Typer(
    help="Parameter sets of the within-host model.", no_args_is_help=True, rich_markup_mode=None
)
export_app = typer.Typer(
    help="Export the model to other tools.", no_args_is_help=True, rich_markup_mode=None
)

MAX_ENSEMBLE = 1_000_000
MAX_REPLICATES = 100_000


def _assignment(item: Any) -> tuple[str, float]:
    from reawaken.model.parameters import check_value

    name, sep, value = str(item).partition("=")
    name = name.strip()
    if not sep or not name:
        raise Refused("not name=value")
    if name not in PARAMETER_NAMES:
        raise Refused(f"no parameter named {name!r} (see `reawaken params show`)")
    try:
        return name, check_value(name, value.strip())
    except InputError as exc:
        raise Refused(exc.reason) from None


PROTOCOL = checks.choice(PROTOCOLS, "a protocol:")
ARM_NAMES = sorted({a for p in PROTOCOLS.values() for a in p.arm_names})
ARMS = checks.choice(ARM_NAMES, "an arm:", repeatable=True)
PARAMETER_SET = checks.choice(PARAMETER_SET_NAMES, "a parameter set:")
ASSIGNMENT = Check(
    "name=value, a model parameter and a non-negative number",
    _assignment,
    bad=("infectivity", "nosuch=1", "infectivity=-1", "infectivity=abc"),
    example="infectivity=1e-5",
    repeatable=True,
    metavar="NAME=VALUE",
)


def _refuse_foreign_arm(protocol: Protocol, arm: str) -> None:
    """--arm names an arm of some protocol (checked at the door); refuse one of another."""
    if arm not in protocol.arm_names:
        raise InputError(
            f"--arm {arm}: not an arm of protocol {protocol.name} "
            f"(accepted: {', '.join(protocol.arm_names)})"
        )


def simulate(
    protocol: str = option(
        PROTOCOL, ..., "--protocol", help="Protocol (see `reawaken protocols`)."
    ),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    arm: list[str] = option(
        ARMS, None, "--arm", help="Arm to run (repeatable); all arms of the protocol by default."
    ),
    n: int = option(
        checks.whole(0, MAX_ENSEMBLE, "trajectories are held in memory"),
        0,
        "--n",
        help="Ensemble size per arm; 0 solves each arm once with the point values.",
    ),
    seed: int = option(checks.SEED, 0, "--seed", help="Seed of the ensemble's parameter draws."),
    cv: float = option(
        checks.real(0.0, 5.0), 0.3, "--cv", help="Coefficient of variation of the draws."
    ),
    set_: list[str] = option(
        ASSIGNMENT, None, "--set", help="Override a parameter, name=value (repeatable)."
    ),
    overwrite: bool = checks.flag("--overwrite", help=fit_output.OVERWRITE_HELP),
) -> None:
    """Run a protocol: summary.csv, trajectories.csv and a fold-change figure in OUT.

    \b
    Example:
      reawaken simulate --protocol mouse-lung --out results/ --n 200 --seed 1
    """
    from reawaken.experiments.outputs import simulate_protocol
    from reawaken.experiments.protocols import get_protocol

    proto = get_protocol(protocol)
    arms = list(arm) if arm else None
    for name in arms or []:
        _refuse_foreign_arm(proto, name)
    overrides = dict(set_ or [])
    fit_output.out_folder(out, overwrite)  # an earlier run's files: refused before the work
    n_arms = len({*(arms or proto.arm_names), proto.reference_arm})  # the reference always runs
    bar = None
    if n > 0:
        from tqdm import tqdm

        bar = tqdm(total=n * n_arms, unit="traj", file=sys.stderr, desc="solving")
    try:
        result = simulate_protocol(
            proto,
            out,
            arms=arms,
            overrides=overrides,
            n=n,
            cv=cv,
            seed=seed,
            progress=None if bar is None else bar.update,
            overwrite=overwrite,
        )
    finally:
        if bar is not None:
            bar.close()
    for path in result.files:
        typer.echo(f"wrote {path}")
    failed = result.summary[result.summary["status"] != "ok"]
    if not failed.empty:
        typer.echo(f"warning: failed solves in arms {sorted(set(failed['arm']))}", err=True)


def protocols() -> None:
    """List protocols, their arms and sampling days.

    \b
    Example:
      reawaken protocols
    """
    for proto in PROTOCOLS.values():
        days = ", ".join(f"{d:g}" for d in proto.days)
        typer.echo(f"{proto.name}: {proto.description}")
        typer.echo(f"  days: {days}; fold change against: {proto.reference_arm}")
        for arm in proto.arms:
            typer.echo(f"  - {arm.name} [{arm.parameter_set}]: {arm.description}")


@params_app.command("show")
def params_show(
    name: str = checks.argument(PARAMETER_SET, ..., help="Parameter set name."),
    as_csv: bool = checks.flag("--csv", help="Print CSV instead of a table."),
) -> None:
    """Print a parameter set with values, units, sources and whether each is assumed.

    \b
    Example:
      reawaken params show mouse-influenza --csv
    """
    from reawaken.model.parameters import parameter_set

    pset = parameter_set(name)
    table = pset.table()
    if as_csv:
        typer.echo(table.to_csv(index=False), nl=False)
        return
    typer.echo(f"{pset.name}: {pset.description}")
    for row in table.itertuples(index=False):
        line = f"  {row.name:<24} {row.value:<12.6g} {row.unit:<22} {row.basis:<10} {row.source}"
        typer.echo(line)


@params_app.command("list")
def params_list() -> None:
    """List the parameter sets.

    \b
    Example:
      reawaken params list
    """
    from reawaken.model.parameters import PARAMETER_SET_NAMES, parameter_set

    for name in PARAMETER_SET_NAMES:
        typer.echo(f"{name}: {parameter_set(name).description}")


@export_app.command("sbml")
def export_sbml(
    params: str = option(PARAMETER_SET, ..., "--params", help="Parameter set name."),
    out: Path = option(checks.out_file((".xml", ".sbml")), ..., "--out", help="SBML file."),
) -> None:
    """Write the base model (infection at day 0) as SBML Level 3.

    \b
    Example:
      reawaken export sbml --params mouse-influenza --out model.xml
    """
    from reawaken.model.parameters import parameter_set
    from reawaken.model.sbml import write_sbml

    typer.echo(f"wrote {write_sbml(parameter_set(params), out)}")


def calibrate(
    max_evaluations: int = option(
        checks.whole(1, 100_000, "each evaluation solves every arm"),
        800,
        "--max-evaluations",
        help="Objective evaluations at most.",
    ),
    write: bool = checks.flag(
        "--write",
        help="Write the result to the user's calibration file (or to --out); later runs use it.",
    ),
    out: Path | None = option(
        checks.out_file((".json",)),
        None,
        "--out",
        help=(
            "Calibration file to write (implies --write); default: "
            "$XDG_DATA_HOME/reawaken/calibration.json, else "
            "~/.local/share/reawaken/calibration.json."
        ),
    ),
) -> None:
    """Refit the calibrated parameters to the study's claims (mouse-lung protocol).

    Runs read the user's calibration file if there is one, else the calibration shipped with
    reawaken; --write never changes the shipped one.

    \b
    Example:
      reawaken calibrate --max-evaluations 700 --write
    """
    from reawaken.experiments.calibration import calibrate as run
    from reawaken.experiments.calibration import write_calibration

    result = run(max_evaluations)
    typer.echo(json.dumps({"objective": result.objective, "values": result.values}, indent=2))
    for claim_id, slack in result.slacks.items():
        typer.echo(f"  {claim_id:<18} slack {slack:+.3f} log10 {'ok' if slack >= 0 else 'FAILS'}")
    if write or out is not None:
        typer.echo(f"wrote {write_calibration(result, out)}")
    if not result.converged:
        failing = sum(slack < 0 for slack in result.slacks.values())
        typer.echo(
            f"not converged: the search {result.stopped}; {failing} of {len(result.slacks)} "
            "claims fail; raise --max-evaluations",
            err=True,
        )
        raise typer.Exit(NOT_CONVERGED)


def lesions(
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    protocol: str = option(PROTOCOL, "mouse-lung", "--protocol", help="Protocol name."),
    arm: str = option(
        checks.choice(ARM_NAMES, "an arm:"),
        "influenza",
        "--arm",
        help="Arm to simulate.",
    ),
    replicates: int = option(
        checks.whole(1, MAX_REPLICATES, "every replicate is held in memory"),
        500,
        "--replicates",
        help="Stochastic replicates.",
    ),
    seed: int = option(checks.SEED, 0, "--seed", help="Seed of the stochastic simulation."),
    threshold: int = option(
        checks.whole(1, 10**9),
        100,
        "--threshold",
        help="Cells in one clone that count as a lesion.",
    ),
    days: str = option(
        checks.number_list("days", lo=0, hi=3650, most=365),
        "3,6,9,15,28",
        "--days",
        help="Days to report.",
    ),
    overwrite: bool = checks.flag("--overwrite", help=fit_output.OVERWRITE_HELP),
) -> None:
    """Stochastic DCC clones in a host: distribution of counts and P(at least one lesion).

    \b
    Example:
      reawaken lesions --arm influenza --replicates 500 --seed 0 --out lesions/
    """
    from reawaken.experiments.outputs import write_lesions
    from reawaken.experiments.protocols import get_protocol

    day_list = list(days)  # the check gives the list of days
    proto = get_protocol(protocol)
    _refuse_foreign_arm(proto, arm)
    fit_output.out_folder(out, overwrite)
    result = write_lesions(
        proto,
        arm,
        day_list,
        out,
        replicates=replicates,
        seed=seed,
        threshold=threshold,
        overwrite=overwrite,
    )
    typer.echo(result.table.to_string(index=False))
    for path in result.files:
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
    app.command("protocols")(protocols)
    app.command("calibrate")(calibrate)
    app.command("lesions")(lesions)
    app.add_typer(params_app, name="params")
    app.add_typer(export_app, name="export")
