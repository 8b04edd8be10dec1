"""``reawaken fit cif`` and ``reawaken fit finegray``: competing risks on one data file.

``cif`` writes ``DIR/cif.csv`` (time, cause, cif, ci_lower, ci_upper): Aalen-Johansen cumulative
incidence as ``cmprsk::cuminc`` with a log(-log) interval. ``finegray`` writes
``DIR/estimates.csv`` (term, coef, se, ratio, ci_lower, ci_upper, p_value; ratio is the
subdistribution hazard ratio; ``status`` when an estimate is not an ordinary one) and
``DIR/fit.json``, as ``cmprsk::crr``; a fit that did not converge is written marked and exits
with status 3.
Events are coded 0 censored, 1 outcome, 2 competing (any other positive code is one more cause).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from reawaken.cli import checks
from reawaken.cli.checks import COLUMN, option
from reawaken.cli.fit_cox import MISSING, MISSING_HELP
from reawaken.cli.fit_output import OVERWRITE_HELP, out_folder, plain_options, run_fit, write_out
from reawaken.suppression import DEFAULT_MIN_CELL

if TYPE_CHECKING:  # imported by the fits, not when the command line starts
    import pandas as pd

EVENT_HELP = "Column: 0 censored, 1 outcome, 2 competing."


def cif(
    data: Path = option(checks.DATA_FILE, ..., "--data", help="One row per person."),
    time: str = option(COLUMN, ..., "--time", help="Column: follow-up time (days)."),
    event: str = option(COLUMN, ..., "--event", help=EVENT_HELP),
    at: str = option(
        checks.number_list("times in days, e.g. 90,180,365"), ..., "--at", help="Times."
    ),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    level: float = option(checks.LEVEL, 0.95, "--level", help="Confidence level of intervals."),
    min_cell: int = option(
        checks.MIN_CELL,
        DEFAULT_MIN_CELL,
        "--min-cell",
        help="Show a time only where each cause's events since the last time shown are 0 or "
        "at least this many.",
    ),
    overwrite: bool = checks.flag("--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Cumulative incidence of each cause at the given times (cmprsk::cuminc).

    Times at which a cause's curve would step by fewer than --min-cell events since the last
    time shown are left out, so that no small count can be read from the steps.

    \b
    Example:
      reawaken fit cif --data cr.csv --time time --event status --at 365,730 --out cif/
    """
    given = dict(locals())  # the options as given, recorded in fit.json
    from reawaken.epi.cohort_designs import events_by_time
    from reawaken.epi.competing import CIF_COLUMNS, check_competing_data, cumulative_incidence
    from reawaken.epi.outputs import provenance, publish_curves
    from reawaken.io import read_table, write_csv_atomic, write_text_atomic

    times = at  # the check gives the list of times
    out_folder(out, overwrite)
    frame = read_table(data)
    t, e = check_competing_data(frame, time, event, file=data)
    table = cumulative_incidence(t, e, times, level=level)
    table["events"] = events_by_time(t, e, table["time"], table["cause"])
    shown = publish_curves(table[[*CIF_COLUMNS, "events"]], min_cell=min_cell)
    hidden = len(table) - len(shown)
    notes = [f"{hidden} rows left out: steps of fewer than {min_cell} events"] if hidden else []
    record = {
        "method": "Aalen-Johansen cumulative incidence with log(-log) intervals, as cmprsk::cuminc",
        "command": {"name": "fit cif", "options": plain_options(given)},
        **provenance(data),
        "min_cell": min_cell,
        "notes": notes,
    }

    def write(folder: Path) -> list[Path]:
        text = json.dumps(record, indent=2) + "\n"
        return [
            write_csv_atomic(shown, folder / "cif.csv"),
            write_text_atomic(text, folder / "fit.json"),
        ]

    write_out(out, write, overwrite)
    typer.echo(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for note in notes:
        typer.echo(f"note: {note}")
    typer.echo(f"wrote {out / 'cif.csv'} and {out / 'fit.json'}")


def finegray(
    data: Path = option(checks.DATA_FILE, ..., "--data", help="One row per person."),
    time: str = option(COLUMN, ..., "--time", help="Column: follow-up time (days)."),
    event: str = option(COLUMN, ..., "--event", help=EVENT_HELP),
    covariates: str = option(checks.COLUMNS, ..., "--covariates", help="Numeric columns."),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    cause: int = option(
        checks.whole(1, 1000),
        1,
        "--cause",
        help="Event code of the failure of interest (present in the data; 0 is censoring).",
    ),
    level: float = option(checks.LEVEL, 0.95, "--level", help="Confidence level of intervals."),
    missing: str = option(MISSING, "drop", "--missing", help=MISSING_HELP),
    overwrite: bool = checks.flag("--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Fine-Gray subdistribution hazards regression (cmprsk::crr).

    \b
    Example:
      reawaken fit finegray --data cr.csv --time time --event status --covariates x1,x2 \\
        --out fg/
    """
    given = dict(locals())  # the options as given, recorded in fit.json
    from reawaken.epi.finegray import FineGrayFit, fit_fine_gray

    terms = covariates  # the check gives the list of columns

    def fit(frame: pd.DataFrame) -> FineGrayFit:
        return fit_fine_gray(
            frame,
            time=time,
            event=event,
            covariates=terms,
            cause=cause,
            file=str(data),
            missing=missing,
        )

    counts = ("n", "events", "competing")
    run_fit(fit, given, command="fit finegray", counts=counts, level=level)


def register(fit_app: typer.Typer) -> None:
    fit_app.command("cif")(cif)
    fit_app.command("finegray")(finegray)
