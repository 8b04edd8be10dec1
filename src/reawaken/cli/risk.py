"""``reawaken risk``: a survivor's risk of a lung metastasis in 1 and 5 years, with and without
an infection (:func:`reawaken.bridge.risk.lung_metastasis_risk`). A research model, not
clinical advice."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from reawaken.bridge.assumptions import value
from reawaken.bridge.limits import (
    DAYS_SINCE,
    DRAWS,
    INFECTION,
    INTERVAL_MEANING,
    LABEL,
    MAX_AGE,
    MAX_YEARS_SINCE_DIAGNOSIS,
    MIN_AGE,
    STAGES,
    SUBTYPES,
)
from reawaken.cli import checks
from reawaken.cli.checks import option

if TYPE_CHECKING:
    from reawaken.bridge.risk import Risk

AGE = checks.real(MIN_AGE, MAX_AGE, why="years")
STAGE = checks.choice(STAGES, "a stage:")
SUBTYPE = checks.choice(SUBTYPES, "a subtype:")
YEARS_SINCE = checks.real(0.0, MAX_YEARS_SINCE_DIAGNOSIS, why="years")
JSON_OUT = checks.out_file((".json",))
ONLY_WITH_INFECTION = ("influenza", "sars-cov-2")


def _percent(x: float) -> str:
    return f"{100.0 * x:.3g}%"


def _lines(result: Risk) -> list[str]:
    p = result.profile
    head = [
        f"Lung metastasis risk: age {p.age:g}, stage {p.stage}, {p.subtype}, "
        f"{p.years_since_diagnosis:g} years since diagnosis",
    ]
    if result.infection == "none":
        head.append("infection: none (baseline only)")
    else:
        given = [
            w for w, on in (("vaccinated", result.vaccinated), ("anti-IL-6", result.anti_il6)) if on
        ]
        head.append(
            f"infection: {result.infection}, {result.days_since} days ago"
            + (f" ({', '.join(given)})" if given else "")
            + f"; {result.draws} draws, seed {result.seed}"
        )
    rows = []
    for r in result.table().to_dict(orient="records"):
        span = "year" if r["years"] == 1 else "years"

        def shown(name: str, r: dict = r) -> str:
            return (
                f"{_percent(r[name])} ({_percent(r[name + '_lower'])} to "
                f"{_percent(r[name + '_upper'])})"
            )

        rows.append(
            f"  {r['years']:g} {span}: without {_percent(r['without'])}, with {shown('with')}, "
            f"difference {shown('difference')}"
        )
    notes = [] if result.infection == "none" else [f"intervals: {INTERVAL_MEANING}"]
    return [*head, *rows, *notes, f"This is a {LABEL}."]


def risk(
    ctx: typer.Context,
    age: float = option(AGE, ..., "--age", help="Age today (years)."),
    stage: str = option(STAGE, ..., "--stage", help="Stage at diagnosis."),
    subtype: str = option(SUBTYPE, ..., "--subtype", help="Subtype (hormone receptors, HER2)."),
    years_since_diagnosis: float = option(
        YEARS_SINCE, ..., "--years-since-diagnosis", help="Years since the cancer was diagnosed."
    ),
    infection: str = option(INFECTION, ..., "--infection", help="The infection, or none."),
    days_since: int = option(
        DAYS_SINCE, 0, "--days-since", help="Days since the infection (0: today)."
    ),
    vaccinated: bool = checks.flag(
        "--vaccinated", help="A breakthrough infection after vaccination."
    ),
    anti_il6: bool = checks.flag(
        "--anti-il6",
        help=(
            f"IL-6 blocked at symptom onset: one dose of {value('anti_il6_dose'):g} mg/kg "
            f"(tocilizumab) on day {value('symptom_onset'):g} after the infection."
        ),
    ),
    draws: int = option(
        DRAWS, 200, "--draws", help="Within-host parameter draws (people) for the intervals."
    ),
    seed: int = option(checks.SEED, 1, "--seed", help="Seed of the draws."),
    json_file: Path | None = option(
        JSON_OUT, None, "--json", help="Also write the result as JSON (replaced if it exists)."
    ),
) -> None:
    """The risk of a lung metastasis in 1 and 5 years with and without an infection, the
    difference and intervals (over the within-host draws). A research model, not clinical
    advice.

    \b
    Example:
      reawaken risk --age 62 --stage II --subtype hr+her2- --years-since-diagnosis 6 \\
        --infection sars-cov-2
    """
    import json

    from reawaken.bridge.baseline import Profile
    from reawaken.bridge.risk import lung_metastasis_risk
    from reawaken.io import write_text_atomic

    checks.refuse_inapplicable(
        ctx,
        infection,
        {name: ONLY_WITH_INFECTION for name in ("days_since", "vaccinated", "anti_il6")},
        option="--infection",
    )
    profile = Profile(age, stage, subtype, years_since_diagnosis)
    result = lung_metastasis_risk(
        profile,
        infection,
        days_since,
        vaccinated=vaccinated,
        anti_il6=anti_il6,
        draws=draws,
        seed=seed,
    )
    for line in _lines(result):
        typer.echo(line)
    if json_file is not None:
        text = json.dumps(result.to_dict(), indent=2) + "\n"
        typer.echo(f"wrote {write_text_atomic(text, json_file)}")


def register(app: typer.Typer) -> None:
    app.command("risk")(risk)
