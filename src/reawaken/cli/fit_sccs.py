"""``reawaken fit sccs``: a self-controlled case series on one data file.

Writes ``DIR/estimates.csv`` (term, coef, se, ratio, ci_lower, ci_upper, p_value; ratio is the
relative incidence against time outside every risk window) and ``DIR/fit.json``. Observation
that looks event-dependent is refused (exit 2) unless ``--event-dependent`` fits the extension;
a fit that did not converge is written marked as such and exits with :data:`NOT_CONVERGED`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from reawaken.cli import checks
from reawaken.cli.checks import COLUMN, COLUMNS, option
from reawaken.cli.fit_output import OVERWRITE_HELP, run_fit
from reawaken.errors import InputError

if TYPE_CHECKING:  # the fit's modules load pandas: imported when an option is checked or run
    import pandas as pd

MAX_WINDOWS = 50  # each window is one term of the conditional Poisson fit
_WIN = "whole days after exposure a-b, comma-separated"


def _windows(text: str) -> list[tuple[int, int]]:
    from reawaken.epi.sccs import parse_windows

    windows = parse_windows(text)
    if len(windows) > MAX_WINDOWS:
        raise checks.Refused(f"{len(windows)} windows, more than {MAX_WINDOWS}")
    return windows


def _post_windows(text: str) -> list[tuple[int, int]]:
    from reawaken.epi.sccs import check_post_windows

    return check_post_windows(_windows(text))


def _pre_windows(text: str) -> list[tuple[int, int]]:
    from reawaken.epi.sccs import check_pre_windows

    return check_pre_windows(_windows(text))


def _seasons(text: str) -> list[tuple[int, int]]:
    from reawaken.epi.sccs import parse_seasons

    return parse_seasons(text)


WINDOWS = checks.parsed(
    f"{_WIN}, e.g. 1-7,8-14; at most {MAX_WINDOWS} (one model term each)",
    _post_windows,
    bad=("", "x", "7-1", "-7-1", ",".join(f"{d}-{d}" for d in range(MAX_WINDOWS + 1))),
    example="1-7",
    metavar="WINDOWS",
)
PRE_WINDOWS = checks.parsed(
    "whole days relative to exposure a-b, negative before it, e.g. -14--1",
    _pre_windows,
    bad=("x", "-1--14", "1-7"),
    example="-14--1",
    metavar="WINDOWS",
)
SEASONS = checks.parsed(
    "season start days MM-DD, comma-separated, the first is the reference: 01-01,04-01",
    _seasons,
    bad=("13-01,01-01", "01-01"),
    example="01-01,07-01",
    metavar="MM-DD,...",
)
AGE_GROUPS = checks.increasing(
    checks.number_list("age group start days", lo=0, hi=50_000, most=100, whole_days=True)
)


def sccs(
    data: Path = option(checks.DATA_FILE, ..., "--data", help="One row per event."),
    case: str = option(COLUMN, ..., "--case", help="Column: case identifier."),
    start: str = option(COLUMN, ..., "--start", help="Column: age (days) observation starts."),
    end: str = option(COLUMN, ..., "--end", help="Column: age (days) observation ends."),
    event: str = option(COLUMN, ..., "--event", help="Column: age (days) at the event."),
    exposure: str = option(
        COLUMNS, ..., "--exposure", help="Column(s): age (days) at exposure; a blank cell is none."
    ),
    windows: str = option(WINDOWS, ..., "--windows", help="Risk windows."),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    pre_window: str = option(PRE_WINDOWS, None, "--pre-window", help="Pre-exposure window(s)."),
    age_groups: str = option(
        AGE_GROUPS, None, "--age-groups", help="Start days of the 2nd, 3rd, ... age groups."
    ),
    dob: str = option(COLUMN, None, "--dob", help="Column: date of birth (needed for seasons)."),
    dob_format: str = option(
        checks.STRFTIME, None, "--dob-format", help="Format of --dob; default ISO dates."
    ),
    seasons: str = option(SEASONS, None, "--seasons", help="Season start days."),
    level: float = option(checks.LEVEL, 0.95, "--level", help="Confidence level of intervals."),
    overwrite: bool = checks.flag("--overwrite", help=OVERWRITE_HELP),
    censored: str = option(
        COLUMN,
        None,
        "--censored",
        help="Column: 1 if observation ended early (e.g. by death), else 0.",
    ),
    event_dependent: bool = checks.flag(
        "--event-dependent",
        help="Fit the extension for event-dependent observation periods (needs --censored).",
    ),
) -> None:
    """Fit a self-controlled case series (conditional Poisson) model.

    \b
    Example:
      reawaken fit sccs --data itpdat.csv --case case --start sta --end end \\
        --event itp --exposure mmr --windows 15-28,29-42 --age-groups 427,488 --out sccs/
    """
    given = dict(locals())  # the options as given, recorded in fit.json
    from reawaken.epi.sccs import SCCSFit, fit_case_series, split_case_series
    from reawaken.epi.sccs_eventdep import EventDependentFit, fit_event_dependent

    if seasons and dob is None:
        raise InputError("--seasons needs --dob, the column of the dates of birth")
    if event_dependent and censored is None:
        raise InputError(
            "--event-dependent needs --censored, the column saying whose observation ended "
            "early (1, e.g. by death) or not (0)"
        )
    # the checks give lists: columns, windows, age-group days, seasons
    options = dict(
        case=case,
        start=start,
        end=end,
        event=event,
        exposures=exposure,
        windows=windows,
        pre_windows=pre_window or [],
        age_groups=age_groups or [],
        dob=dob,
        dob_format=dob_format,
        seasons=seasons or [],
    )

    def fit(frame: pd.DataFrame) -> SCCSFit | EventDependentFit:
        if event_dependent:
            return fit_event_dependent(frame, file=data, censored=censored, **options)
        series = split_case_series(frame, file=data, censored=censored, **options)
        series.observation.refuse(
            "fit the extension for event-dependent observation periods instead: "
            "--event-dependent --censored COLUMN (1 = observation ended early)"
        )
        return fit_case_series(series)

    def chosen(fit: EventDependentFit) -> str:
        return f" censoring_model={fit.chosen}"

    run_fit(
        fit,
        given,
        command="fit sccs",
        counts=("cases", "events"),
        level=level,
        more=chosen if event_dependent else None,
        not_converged="not converged: the estimates are written marked (converged false in "
        'fit.json, status "not converged" in estimates.csv): they are where the iteration '
        "stopped",
    )


def register(fit_app: typer.Typer) -> None:
    fit_app.command("sccs")(sccs)
