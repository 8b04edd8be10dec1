"""``reawaken cohort ...``: import source extracts into a cohort store, summarise it, synthesise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from reawaken.accepts import Refused, accepting
from reawaken.cli import checks
from reawaken.cli.checks import flag, option
from reawaken.cli.fit_output import OVERWRITE_HELP, out_folder
from reawaken.cohort.defaults import DEFAULT_PATH, LINKS
from reawaken.cohort.sources import registry
from reawaken.errors import InputError
from reawaken.suppression import DEFAULT_MIN_CELL

cohort_app = typer.Typer(
    help="Cohort store: import, summarise, synthesise.", no_args_is_help=True, rich_markup_mode=None
)

MAX_SYNTH = 5_000_000  # generation holds every person in memory: ~1.3 GB per 500,000


ENGINES = ("duckdb", "postgres", "spark")
"""Where ``cohort import --source omop`` runs the canonical cohort's SQL
(:mod:`reawaken.cohort.engines`)."""


@accepting(
    "an existing folder of extract files or a DuckDB file; for OMOP also a database URL "
    "without password (postgresql://user@host:port/db, sc://host:port) or local (Spark)",
    (
        "/nonexistent",
        "postgresql://reader:secret@localhost/cdm",
        "sc://localhost:15002/;token=secret",
        "ftp://host/cdm",
    ),
    metavar="PATH|URL",
)
def EXTRACT(value: object) -> str:
    """A folder or file that exists, or a database URL holding no password."""
    text = str(value)
    if text.startswith(("postgresql://", "postgres://")):
        from reawaken.cohort.engines import check_postgres_url

        return check_postgres_url(text)
    if text.startswith("sc://"):
        from reawaken.cohort.engines import check_spark_url

        return check_spark_url(text)
    if text == "local":
        return text
    if re.match(r"^[a-z][a-z0-9+.-]*://", text):
        raise Refused("not a database URL reawaken reads (postgresql://, sc://)")
    if not Path(text).exists():
        raise Refused("no such file or folder")
    return text


_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]{0,62}"


@accepting(
    "a schema name: letters, digits and _, not starting with a digit; on Spark also catalog.schema",
    ("", "cdm; drop", "1cdm", "main.cdm.person", ".cdm", "main."),
    "cdm",
    "SCHEMA",
)
def SCHEMA(value: object) -> str:
    """A plain SQL identifier (the CDM's schema, or Spark database), or two joined by a dot
    (Spark: ``catalog.schema``, as ``main.cdm`` in Unity Catalog; the engines refuse it
    elsewhere)."""
    text = str(value)
    if not re.fullmatch(rf"{_IDENTIFIER}(\.{_IDENTIFIER})?", text):
        raise Refused("not a schema name")
    return text


@cohort_app.command("import")
def import_command(
    path: str = checks.argument(
        EXTRACT,
        ...,
        help="The extract (OMOP's database: password from PGPASSWORD, ~/.pgpass or a service "
        "file, never in the URL).",
    ),
    source: str = option(
        checks.choice(registry.kinds(), "a source kind:"), ..., "--source", help="Source."
    ),
    db: Path = option(checks.STORE_TO_WRITE, DEFAULT_PATH, "--db", help="Cohort store."),
    name: str = option(
        checks.NAME, None, "--name", help="Name to store it under (default: the kind)."
    ),
    replace: bool = flag("--replace", help="Replace a stored source of that name."),
    lenient: bool = flag("--lenient", help="Quarantine bad rows instead of failing."),
    censor_date: str = option(
        checks.DATE, None, "--censor-date", help="End follow-up at this date."
    ),
    concepts: Path = option(
        checks.EXISTING_FOLDER, None, "--concepts", help="Folder of extra concept-set files."
    ),
    link: str = option(
        checks.choice(LINKS, "a link:"),
        None,
        "--link",
        help="Person ids or files shared with a stored source: same-person (merged, counted "
        "once) or distinct (separate id spaces, prefixed by the source name).",
    ),
    engine: str = option(
        checks.choice(ENGINES, "an engine:"),
        None,
        "--engine",
        help="Where OMOP's cohort SQL runs (default: from PATH): duckdb (folder or DuckDB "
        "file), postgres (postgresql:// URL), spark (local or sc:// URL).",
    ),
    cdm_schema: str = option(
        SCHEMA,
        None,
        "--cdm-schema",
        help="The OMOP CDM's schema (PostgreSQL, default public; Spark database, default "
        "default, or catalog.database; a DuckDB file: any).",
    ),
) -> None:
    """Import one extract, all or nothing.

    An OMOP CDM is read where it lives (PostgreSQL, Spark): the canonical cohort is built by
    SQL run there and only its rows come back; nothing is written to the database.

    \b
    Examples:
      reawaken cohort import --source flatiron synth/ --db cohort.duckdb
      PGPASSFILE=~/.pgpass reawaken cohort import --source omop \\
        postgresql://reader@db.example.org:5432/cdm --cdm-schema cdm54 --db cohort.duckdb
      reawaken cohort import --source omop --engine spark local --cdm-schema cdm
    """
    from reawaken.cohort import linking
    from reawaken.cohort.store import AlreadyStored, CohortStore

    database = _database(path, engine)
    if database and source != "omop":
        raise InputError(f"only --source omop reads from a database, not {source}: {path}")
    where: dict = {}
    if database or engine is not None or cdm_schema is not None:
        where = {"engine": engine, "cdm_schema": cdm_schema}  # read by SQL in the engine
    try:
        result = CohortStore(db).import_source(
            source,
            path,
            name=name,
            replace=replace,
            lenient=lenient,
            censor_date=censor_date,
            concepts=concepts,
            link=link,
            **where,
        )
    except linking.Unlinked as exc:
        raise InputError(exc.message(linking.how_to_link("--link {}")), file=exc.store) from exc
    except AlreadyStored as exc:
        raise InputError(
            f"source {exc.name!r} is already in the store (use --replace to replace it, "
            "or --name to store it under another name)",
            file=exc.file,
        ) from exc
    rows = ", ".join(f"{t} {n}" for t, n in result.rows.items())
    typer.echo(f"imported {result.source} into {db}: {rows}")
    if result.censor_date is not None:
        typer.echo(
            f"follow-up censored at {result.censor_date.date()}; "
            f"{result.n_after_censor} later records left out"
        )
    if lenient:
        typer.echo(f"quarantined rows: {result.n_quarantined}")


def _database(path: str, engine: str | None) -> bool:
    """Whether ``path`` names a database (a URL, or Spark's ``local``) rather than files."""
    if engine == "spark":
        return True
    if engine == "duckdb":
        if "://" in path:
            raise InputError(f"the duckdb engine reads a folder or a DuckDB file, not {path}")
        return False
    if engine == "postgres" and not path.startswith(("postgresql://", "postgres://")):
        raise InputError(f"the postgres engine reads a postgresql:// URL, not {path}")
    if path == "local" and not Path(path).exists():
        raise InputError("local names a Spark session: give --engine spark")
    return "://" in path


@cohort_app.command("summary")
def summary_command(
    db: Path = option(checks.STORE_TO_READ, DEFAULT_PATH, "--db", help="Cohort store."),
    as_json: bool = flag("--json", help="Print JSON."),
    min_cell: int = option(
        checks.MIN_CELL, DEFAULT_MIN_CELL, "--min-cell", help="Small-cell threshold."
    ),
    source: str = option(checks.NAME, None, "--source", help="Only this stored source."),
) -> None:
    """Counts per table, events, person-years, infections by pathogen and month.

    \b
    Example:
      reawaken cohort summary --db cohort.duckdb --json
    """
    from reawaken.cohort.store import CohortStore
    from reawaken.cohort.summary import format_summary

    summary = CohortStore(db).summary(min_cell=min_cell, source=source)
    typer.echo(json.dumps(summary, indent=2) if as_json else format_summary(summary))


MECHANISM_DRAWS = 200
"""Within-host draws of the kernel ``cohort synth --effect mechanism`` plants."""


@cohort_app.command("synth")
def synth_command(
    like: str = option(checks.choice(registry.kinds(), "a layout:"), ..., "--like", help="Layout."),
    n: int = option(
        checks.whole(1, MAX_SYNTH, "every person is held in memory, ~2.6 GB per million"),
        ...,
        "--n",
        help="Number of persons.",
    ),
    seed: int = option(checks.SEED, ..., "--seed", help="Random seed."),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    params: Path = option(
        checks.JSON_FILE, None, "--params", help="JSON file overriding parameters."
    ),
    effect: str = option(
        checks.choice(("planted", "mechanism"), "an effect:"),
        "planted",
        "--effect",
        help="planted: the generator's step function of days since infection (relapse at any "
        "site); mechanism: the bridge's kernel per pathogen (200 draws, the run's seed) on "
        "relapse in the lung, its HR per window in truth.json (docs/bridge.md).",
    ),
    overwrite: bool = checks.flag("--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Write a synthetic cohort in a source layout with truth.json.

    The extract is written as a whole: a folder holding an earlier extract (its truth.json)
    is refused unless --overwrite, which replaces every file of it.

    \b
    Example:
      reawaken cohort synth --like flatiron --n 20000 --seed 1 --out synth/
    """
    from reawaken.cohort.synth_layouts import generate
    from reawaken.run_folder import write_run

    out_folder(out, overwrite)  # refused before the work
    # every file of an earlier extract (it has truth.json) belongs to that run
    earlier = (
        [f.name for f in out.iterdir() if f.is_file()] if (out / "truth.json").is_file() else []
    )
    found: dict = {}

    kernels = None
    if effect == "mechanism":
        from reawaken.bridge.kernel import compute_kernel, human_parameter_set
        from reawaken.pathogens import exposure_groups

        kernels = {}
        for pathogen in exposure_groups()["any"]:
            human_parameter_set(pathogen)  # every exposure pathogen has one
            kernels[pathogen] = compute_kernel(pathogen, MECHANISM_DRAWS, seed)

    def write(folder: Path) -> list[Path]:
        if kernels is None:
            found.update(generate(like, n, seed, folder, params))
        else:
            from reawaken.bridge.studies import write_mechanism_cohort

            found.update(write_mechanism_cohort(like, n, seed, kernels, folder, params))
        return [p for p in folder.iterdir() if p.is_file()]

    write_run(out, write, overwrite=overwrite, names=earlier)
    truth = found
    c = truth["counts"]
    typer.echo(
        f"wrote {n} persons ({like} layout) to {out}: "
        f"{c['outcomes']['distant_metastasis']} distant relapses, {c['outcomes']['death']} deaths, "
        f"{sum(c['infections'].values())} recorded infections; truth in {out / 'truth.json'}"
    )


def register(app: typer.Typer) -> None:
    """Attach the ``cohort`` group to the main app."""
    app.add_typer(cohort_app, name="cohort")
