"""``reawaken cohort ...``: import source extracts into a cohort store, summarise it, synthesise."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reawaken.cohort.store import DEFAULT_MIN_CELL, DEFAULT_PATH, KINDS, CohortStore
from reawaken.errors import InputError

cohort_app = typer.Typer(help="Cohort store: import, summarise, synthesise.", no_args_is_help=True)


@cohort_app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="Folder of source tables (or an OMOP DuckDB file)."),
    source: str = typer.Option(..., "--source", help="Source kind: omop, ukb or flatiron."),
    db: Path = typer.Option(DEFAULT_PATH, "--db", help="Cohort store (DuckDB file)."),
    name: str = typer.Option(None, "--name", help="Name to store it under (default: the kind)."),
    replace: bool = typer.Option(False, "--replace", help="Replace a stored source of that name."),
    lenient: bool = typer.Option(
        False, "--lenient", help="Quarantine bad rows instead of failing."
    ),
    censor_date: str = typer.Option(None, "--censor-date", help="End follow-up at this date."),
    concepts: Path = typer.Option(None, "--concepts", help="Folder of extra concept-set files."),
) -> None:
    """Import one extract, all or nothing."""
    if source not in KINDS:
        raise InputError(f"unknown --source {source!r} (expected one of {', '.join(KINDS)})")
    result = CohortStore(db).import_source(
        source,
        path,
        name=name,
        replace=replace,
        lenient=lenient,
        censor_date=censor_date,
        concepts=concepts,
    )
    rows = ", ".join(f"{t} {n}" for t, n in result.rows.items())
    typer.echo(f"imported {result.source} into {db}: {rows}")
    if result.censor_date is not None:
        typer.echo(
            f"follow-up censored at {result.censor_date.date()}; "
            f"{result.n_after_censor} later records left out"
        )
    if lenient:
        typer.echo(f"quarantined rows: {result.n_quarantined}")


@cohort_app.command("summary")
def summary_command(
    db: Path = typer.Option(DEFAULT_PATH, "--db", help="Cohort store (DuckDB file)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    min_cell: int = typer.Option(
        DEFAULT_MIN_CELL, "--min-cell", help="Suppress counts below this (0 shows all)."
    ),
    source: str = typer.Option(None, "--source", help="Only this stored source."),
) -> None:
    """Counts per table, events, person-years, infections by pathogen and month."""
    from reawaken.cohort.summary import format_summary

    if min_cell < 0:
        raise InputError(f"--min-cell must be 0 or more, got {min_cell}")
    summary = CohortStore(db).summary(min_cell=min_cell, source=source)
    typer.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))


@cohort_app.command("synth")
def synth_command(
    like: str = typer.Option(..., "--like", help="Layout: ukb, flatiron or omop."),
    n: int = typer.Option(..., "--n", help="Number of persons."),
    seed: int = typer.Option(..., "--seed", help="Random seed."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    params: Path = typer.Option(None, "--params", help="JSON file overriding parameters."),
) -> None:
    """Write a synthetic cohort in a source layout with truth.json."""
    from reawaken.cohort.synth_layouts import generate

    truth = generate(like, n, seed, out, params)
    c = truth["counts"]
    typer.echo(
        f"wrote {n} persons ({like} layout) to {out}: "
        f"{c['outcomes']['distant_metastasis']} distant relapses, {c['outcomes']['death']} deaths, "
        f"{sum(c['infections'].values())} recorded infections; truth in {out / 'truth.json'}"
    )


def register(app: typer.Typer) -> None:
    """Attach the ``cohort`` group to the main app."""
    app.add_typer(cohort_app, name="cohort")
