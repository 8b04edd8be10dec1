"""Commands of the within-host model: simulate, protocols, params, export, calibrate, lesions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from reawaken.errors import InputError

params_app = typer.Typer(help="Parameter sets of the within-host model.", no_args_is_help=True)
export_app = typer.Typer(help="Export the model to other tools.", no_args_is_help=True)


def parse_assignments(items: list[str] | None) -> dict[str, float]:
    """``["name=value", ...]`` -> dict; malformed items and bad values are InputErrors."""
    from reawaken.model.parameters import check_value

    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--set expects name=value, got {item!r}")
        out[name.strip()] = check_value(name.strip(), value.strip())
    return out


def simulate(
    protocol: Annotated[str, typer.Option(help="Protocol name (see `reawaken protocols`).")],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    arm: Annotated[
        list[str] | None, typer.Option(help="Arm to run (repeatable); all arms by default.")
    ] = None,
    n: Annotated[int, typer.Option(help="Ensemble size; 0 solves each arm once.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the ensemble's parameter draws.")] = 0,
    cv: Annotated[float, typer.Option(help="Coefficient of variation of the draws.")] = 0.3,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a parameter, name=value (repeatable)."),
    ] = None,
) -> None:
    """Run a protocol: summary.csv, trajectories.csv and a fold-change figure in OUT."""
    from reawaken.model.protocols import get_protocol
    from reawaken.simulate.outputs import simulate_protocol

    if n < 0:
        raise InputError(f"--n must be >= 0, got {n}")
    proto = get_protocol(protocol)
    arms = list(arm) if arm else None
    overrides = parse_assignments(set_)
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
    """List protocols, their arms and sampling days."""
    from reawaken.model.protocols import PROTOCOLS

    for proto in PROTOCOLS.values():
        days = ", ".join(f"{d:g}" for d in proto.days)
        typer.echo(f"{proto.name}: {proto.description}")
        typer.echo(f"  days: {days}; fold change against: {proto.reference_arm}")
        for arm in proto.arms:
            typer.echo(f"  - {arm.name} [{arm.parameter_set}]: {arm.description}")


@params_app.command("show")
def params_show(
    name: Annotated[str, typer.Argument(help="Parameter set name.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Print a parameter set with values, units, sources and whether each is assumed."""
    from reawaken.model.parameters import parameter_set

    pset = parameter_set(name)
    table = pset.table()
    if as_csv:
        typer.echo(table.to_csv(index=False), nl=False)
        return
    typer.echo(f"{pset.name}: {pset.description}")
    for row in table.itertuples(index=False):
        flag = "assumed" if row.assumed else "sourced"
        typer.echo(f"  {row.name:<24} {row.value:<12.6g} {row.unit:<22} {flag:<8} {row.source}")


@params_app.command("list")
def params_list() -> None:
    """List the parameter sets."""
    from reawaken.model.parameters import PARAMETER_SET_NAMES, parameter_set

    for name in PARAMETER_SET_NAMES:
        typer.echo(f"{name}: {parameter_set(name).description}")


@export_app.command("sbml")
def export_sbml(
    params: Annotated[str, typer.Option(help="Parameter set name.")],
    out: Annotated[Path, typer.Option(help="Output SBML file.")],
) -> None:
    """Write the base model (infection at day 0) as SBML Level 3."""
    from reawaken.model.parameters import parameter_set
    from reawaken.model.sbml import write_sbml

    typer.echo(f"wrote {write_sbml(parameter_set(params), out)}")


def calibrate(
    max_evaluations: Annotated[int, typer.Option(help="Objective evaluations at most.")] = 800,
    write: Annotated[
        bool, typer.Option(help="Write the result into the package's calibration.json.")
    ] = False,
) -> None:
    """Refit the calibrated parameters to the study's claims (mouse-lung protocol)."""
    from reawaken.model.calibration import calibrate as run
    from reawaken.model.calibration import default_calibration_path, write_calibration

    result = run(max_evaluations)
    typer.echo(json.dumps({"objective": result.objective, "values": result.values}, indent=2))
    for claim_id, slack in result.slacks.items():
        typer.echo(f"  {claim_id:<18} slack {slack:+.3f} log10 {'ok' if slack >= 0 else 'FAILS'}")
    if write:
        typer.echo(f"wrote {write_calibration(result, default_calibration_path())}")


def lesions(
    out: Annotated[Path, typer.Option(help="Output folder.")],
    protocol: Annotated[str, typer.Option(help="Protocol name.")] = "mouse-lung",
    arm: Annotated[str, typer.Option(help="Arm to simulate.")] = "influenza",
    replicates: Annotated[int, typer.Option(help="Stochastic replicates.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the stochastic simulation.")] = 0,
    threshold: Annotated[
        int, typer.Option(help="Cells in one clone that count as a lesion.")
    ] = 100,
    days: Annotated[str, typer.Option(help="Days to report, comma separated.")] = "3,6,9,15,28",
) -> None:
    """Stochastic DCC clones in a host: distribution of counts and P(at least one lesion)."""
    from reawaken.io import write_csv_atomic
    from reawaken.model.protocols import get_protocol
    from reawaken.simulate.stochastic import lesion_summary, simulate_clones

    try:
        day_list = [float(d) for d in days.split(",") if d.strip()]
    except ValueError:
        raise InputError(f"--days expects numbers separated by commas, got {days!r}") from None
    result = simulate_clones(
        get_protocol(protocol), arm, day_list, replicates=replicates, seed=seed
    )
    table = lesion_summary(result, threshold=threshold)
    path = write_csv_atomic(table, out / "lesions.csv")
    typer.echo(table.to_string(index=False))
    typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
    app.command("protocols")(protocols)
    app.command("calibrate")(calibrate)
    app.command("lesions")(lesions)
    app.add_typer(params_app, name="params")
    app.add_typer(export_app, name="export")
