"""``reawaken fit cox``: a counting-process Cox model on one data file.

Writes ``DIR/estimates.csv`` (term, coef, se, ratio, ci_lower, ci_upper, p_value, and ``status``
when an estimate is not an ordinary one) and ``DIR/fit.json`` (loglik_null, loglik, n, events,
iterations, converged, tests, the proportional-hazards test, rows left out for missing values).
A fit that did not converge is written marked and exits with status 3 (``NOT_CONVERGED``).
The ``--missing`` option of the regression commands is here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from reawaken.cli import checks
from reawaken.cli.checks import COLUMN, COLUMNS, option
from reawaken.cli.fit_output import OVERWRITE_HELP, run_fit

if TYPE_CHECKING:  # imported by the fit, not when the command line starts
    import pandas as pd

MISSING = checks.choice(("drop", "error"))
MISSING_HELP = "Rows with a missing model value: drop (as R's na.omit) or error."


def cox(
    data: Path = option(checks.DATA_FILE, ..., "--data", help="Interval data."),
    start: str = option(COLUMN, ..., "--start", help="Column: interval start (days)."),
    stop: str = option(COLUMN, ..., "--stop", help="Column: interval stop (days)."),
    event: str = option(COLUMN, ..., "--event", help="Column: 1 if the event is at stop, else 0."),
    covariates: str = option(
        COLUMNS, ..., "--covariates", help="Covariate columns; a:b is an interaction."
    ),
    out: Path = option(checks.OUT_FOLDER, ..., "--out", help="Output folder."),
    strata: str = option(COLUMNS, None, "--strata", help="Stratum columns."),
    cluster: str = option(COLUMN, None, "--cluster", help="Column for robust (sandwich) variance."),
    weights: str = option(COLUMN, None, "--weights", help="Column of case weights."),
    id: str = option(COLUMN, None, "--id", help="Person column: checks intervals do not overlap."),
    ties: str = option(
        checks.choice(("efron", "breslow")), "efron", "--ties", help="Handling of tied times."
    ),
    level: float = option(checks.LEVEL, 0.95, "--level", help="Confidence level of intervals."),
    missing: str = option(MISSING, "drop", "--missing", help=MISSING_HELP),
    overwrite: bool = checks.flag("--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Fit coxph(Surv(start, stop, event) ~ covariates); write estimates.csv and fit.json.

    \b
    Example:
      reawaken fit cox --data jasa1.csv --start start --stop stop --event event \\
        --covariates age,transplant --cluster id --out cox/
    """
    given = dict(locals())  # the options as given, recorded in fit.json
    from reawaken.epi.cox import CoxResult, fit_cox

    terms = covariates  # the check gives the list of columns

    def fit(frame: pd.DataFrame) -> CoxResult:
        return fit_cox(
            frame,
            start=start,
            stop=stop,
            event=event,
            covariates=terms,
            strata=strata,
            cluster=cluster,
            weights=weights,
            id=id,
            ties=ties,
            level=level,
            missing=missing,
            file=data,
        )

    def variance(result: CoxResult) -> str:
        return f" variance={result.variance_type}"  # summary() would run cox.zph again

    run_fit(fit, given, command="fit cox", counts=("n", "events"), more=variance)


def register(fit_app: typer.Typer) -> None:
    fit_app.command("cox")(cox)
