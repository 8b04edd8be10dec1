"""``reawaken population``: virtual breast cancer survivors under prevention scenarios."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import typer

from reawaken.cli import checks, fit_output
from reawaken.cli.checks import Refused, option
from reawaken.errors import InputError
from reawaken.population.limits import DEFAULT_CHUNK, MAX_DRAWS, MAX_SURVIVORS, MAX_YEARS
from reawaken.population.scenarios import ACCEPTED, parse_scenario

OUTPUT_FILES = ("scenarios.csv", "per_year.csv", "population.png", "population.json")

SCENARIO = checks.parsed(
    f"a scenario: {ACCEPTED}",
    parse_scenario,
    bad=(
        "nosuch",
        "vaccine",
        "vaccine:dose=2",
        "vaccine:coverage=1.5",
        "anti-il6:coverage=0.5,delay=-1",
        "antiviral:coverage=x",
        "baseline:coverage=1",
    ),
    example="vaccine:coverage=0.7,efficacy=0.5",
    metavar="SPEC",
    repeatable=True,
)
SCHEDULER_PATTERN = re.compile(r"(tcp|tls)://[A-Za-z0-9_.\-\[\]:]+:(\d{1,5})")


def _scheduler(value: Any) -> str:
    text = str(value).strip()
    match = SCHEDULER_PATTERN.fullmatch(text)
    if not match:
        raise Refused("not a scheduler address")
    if not 1 <= int(match.group(2)) <= 65535:
        raise Refused("port out of range")
    return text


SCHEDULER = checks.Accepts(
    "a Dask scheduler address tcp://host:port (or tls://)",
    _scheduler,
    bad=("abc", "tcp://host", "http://host:8786", "tcp://host:70000"),
    example="tcp://127.0.0.1:8786",
    metavar="ADDRESS",
)


def _out_folder(out: Path, overwrite: bool) -> None:
    """Refuse an earlier run's folder before the work (naming --out and --overwrite)."""
    from reawaken.run_folder import check_out_folder

    try:
        check_out_folder(out, overwrite=overwrite, names=OUTPUT_FILES)
    except InputError as exc:
        raise InputError(f"--out {out}: {exc.reason} (--overwrite replaces them)") from None


class _Progress:
    """A progress bar on stderr, shown from the first chunk done (so that a refusal before the
    work stays one line)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Any = None

    def update(self, n: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total,
                unit="survivor",
                unit_scale=True,
                file=sys.stderr,
                desc="population",
            )
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def population(
    survivors: int = option(
        checks.whole(1, MAX_SURVIVORS, "survivors run in chunks; memory does not grow with it"),
        ...,
        "--survivors",
        help="Virtual breast cancer survivors.",
    ),
    years: int = option(
        checks.whole(1, MAX_YEARS, "the kernels cover ten years"),
        5,
        "--years",
        help="Years of follow-up (influenza seasons).",
    ),
    draws: int = option(
        checks.whole(1, MAX_DRAWS, "each kernel holds every draw"),
        100,
        "--draws",
        help="Parameter draws of the within-host model (and groups of survivors for the "
        "intervals).",
    ),
    seed: int = option(checks.SEED, 0, "--seed", help="Seed of the run (chunks and kernels)."),
    scenario: list[str] = option(
        SCENARIO,
        None,
        "--scenario",
        help="Prevention scenario (repeatable); baseline and no-infection always run.",
    ),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    workers: int | None = option(
        checks.whole(1, 256),
        None,
        "--workers",
        help="Run the chunks on a Dask LocalCluster of this many worker processes.",
    ),
    scheduler: str | None = option(
        SCHEDULER,
        None,
        "--scheduler",
        help="Run the chunks on the Dask cluster at this address (its workers need reawaken).",
    ),
    chunk_size: int = option(
        checks.whole(1000, 1_000_000, "survivors held at once by a worker"),
        DEFAULT_CHUNK,
        "--chunk-size",
        help="Survivors per chunk (the results depend on it, as on the seed).",
    ),
    overwrite: bool = checks.flag("--overwrite", help=fit_output.OVERWRITE_HELP),
) -> None:
    """Simulate survivors through influenza and SARS-CoV-2 seasons under prevention scenarios.

    Writes scenarios.csv (scenario, measure, value, lower, upper), per_year.csv, population.png
    and population.json in OUT. Results are the same in-process, with --workers or with
    --scheduler.

    \b
    Example:
      reawaken population --survivors 100000 --years 5 --draws 100 --seed 1 \\
        --scenario vaccine:coverage=0.7,efficacy=0.5 \\
        --scenario anti-il6:coverage=0.5,delay=2 --out population/
    """
    from reawaken.population.outputs import write_population
    from reawaken.population.run import PopulationSettings, run_population
    from reawaken.population.scenarios import scenario_list

    if workers is not None and scheduler is not None:
        raise InputError("--workers and --scheduler cannot be given together (choose one)")
    specs = list(scenario or [])  # parsed at the door: Scenario objects
    try:
        scenario_list(specs)
    except InputError as exc:
        raise InputError(f"--scenario: {exc.reason}") from None
    settings = PopulationSettings(survivors, years, draws, seed, chunk_size)
    _out_folder(out, overwrite)
    given = {
        "survivors": survivors,
        "years": years,
        "draws": draws,
        "seed": seed,
        "scenario": [s.label for s in specs],
        "out": str(out),
        "workers": workers,
        "scheduler": scheduler,
        "chunk_size": chunk_size,
        "overwrite": overwrite,
    }
    bar = _Progress(survivors)
    try:
        result = run_population(
            settings, specs, workers=workers, scheduler=scheduler, progress=bar.update
        )
    finally:
        bar.close()
    paths = fit_output.write_out(
        out,
        lambda folder: write_population(result, folder, {"name": "population", "options": given}),
        overwrite,
        names=OUTPUT_FILES,
    )
    table = result.table()
    shown = table[table["measure"].isin(("excess_lung_metastases", "prevented_fraction"))]
    typer.echo(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for path in paths:
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("population")(population)
