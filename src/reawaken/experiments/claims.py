"""The study's claims about the mouse-lung experiments, as checkable statements.

Each claim reads the fold change of total DCCs against ``mock`` (same day) or the proliferating
fraction ``dcc_awake / dcc_total`` from a protocol summary, and returns its *slack* in log10
units: >= 0 when the claim holds, the distance to holding when not. Calibration pushes every
slack above a margin; the tests check every slack is >= 0.

Source of each number: Chia et al. 2025, Nature 645, as restated in the project's issue on the
in-silico lung (awakening by day 3, 100-1000x by day 15, persistence to 9 months, IL-6 needed
early, CD4+ T cells needed late against CD8+ killing, SARS-CoV-2 likewise).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

Table = pd.DataFrame  # summary rows (arm, day, ...)


def _value(summary: Table, arm: str, day: float, column: str = "fold_vs_mock") -> float:
    rows = summary[(summary["arm"] == arm) & (summary["day"] == day)]
    if rows.empty:
        raise KeyError(f"summary has no row for arm {arm!r} at day {day}")
    return float(rows[column].iloc[0])


def fold(summary: Table, arm: str, day: float) -> float:
    return _value(summary, arm, day)


def proliferating_fraction(summary: Table, arm: str, day: float) -> float:
    return _value(summary, arm, day, "dcc_awake") / _value(summary, arm, day, "dcc_total")


def _log(x: float) -> float:
    return math.log10(x) if x > 0 else -math.inf


@dataclass(frozen=True)
class Claim:
    """One claim of the study, checkable on a protocol summary.

    Parameters
    ----------
    id : str
        A short identifier (``"flu_d15_low"``).
    text : str
        The claim in words.
    slack : callable
        Takes a summary (:func:`reawaken.simulate.summarise` of the ``mouse-lung`` arms) and
        returns the claim's slack in log10 units: >= 0 when it holds, the distance to holding
        when not.

    Examples
    --------
    >>> from reawaken.experiments import CLAIMS
    >>> [(c.id, c.text) for c in CLAIMS[:2]]
    [('flu_d3', 'influenza: fold >= 2 at day 3'),
     ('flu_d15_low', 'influenza: fold >= 100 at day 15')]
    """

    id: str
    text: str
    slack: Callable[[Table], float]


def fold_at_least(id: str, arm: str, day: float, factor: float) -> Claim:
    """The fold of ``arm`` at ``day`` is at least ``factor``."""
    return Claim(
        id,
        f"{arm}: fold >= {factor:g} at day {day:g}",
        lambda s: _log(fold(s, arm, day)) - math.log10(factor),
    )


def fold_at_most(id: str, arm: str, day: float, factor: float) -> Claim:
    """The fold of ``arm`` at ``day`` is at most ``factor``."""
    return Claim(
        id,
        f"{arm}: fold <= {factor:g} at day {day:g}",
        lambda s: math.log10(factor) - _log(fold(s, arm, day)),
    )


def more_proliferating(id: str, arm: str, day: float, than: float) -> Claim:
    """The proliferating fraction of ``arm`` is higher at ``day`` than at day ``than``."""
    return Claim(
        id,
        f"{arm}: proliferating fraction higher at day {day:g} than at day {than:g}",
        lambda s: (
            _log(proliferating_fraction(s, arm, day)) - _log(proliferating_fraction(s, arm, than))
        ),
    )


def at_most_part_of(id: str, arm: str, day: float, factor: float, part: str, of: str) -> Claim:
    """The fold of ``arm`` at ``day`` is at most ``1 / factor`` (in words ``part``) of the fold
    of the arm ``of``."""
    return Claim(
        id,
        f"{arm}: day {day:g} at most {part} of {of}",
        lambda s: _log(fold(s, of, day)) - _log(fold(s, arm, day)) - math.log10(factor),
    )


def within_factor_of(id: str, arm: str, day: float, factor: float, of: str) -> Claim:
    """The fold of ``arm`` at ``day`` is within ``factor`` of the fold of the arm ``of``."""
    return Claim(
        id,
        f"{arm}: day {day:g} within {factor:g}x of {of}",
        lambda s: math.log10(factor) - abs(_log(fold(s, arm, day)) - _log(fold(s, of, day))),
    )


FLU = "influenza"

CLAIMS: tuple[Claim, ...] = (
    fold_at_least("flu_d3", FLU, 3, 2.0),
    fold_at_least("flu_d15_low", FLU, 15, 100.0),
    fold_at_most("flu_d15_high", FLU, 15, 1000.0),
    fold_at_least("flu_d60", FLU, 60, 10.0),
    fold_at_least("flu_d270", FLU, 270, 10.0),
    more_proliferating("prolif_d9_vs_d3", FLU, 9, than=3),
    more_proliferating("prolif_d9_vs_d28", FLU, 9, than=28),
    fold_at_most("il6_ko_d15", "influenza+il6_ko", 15, 10.0),
    at_most_part_of("anti_il6_d15", "influenza+anti_il6", 15, 2.0, "half", of=FLU),
    within_factor_of("cd4_d9", "influenza+cd4_depleted", 9, 2.0, of=FLU),
    at_most_part_of("cd4_d28", "influenza+cd4_depleted", 28, 5.0, "1/5", of=FLU),
    within_factor_of("cd4_cd8_d28", "influenza+cd4_cd8_depleted", 28, 2.0, of=FLU),
    fold_at_least("sars_d15", "sars-cov-2", 15, 10.0),
)


def check_claims(summary: Table) -> pd.DataFrame:
    """Check every claim of the study on a protocol summary.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`reawaken.simulate.summarise` of the ``mouse-lung`` arms at (at least) its
        sampling days.

    Returns
    -------
    pandas.DataFrame
        One row per claim of ``CLAIMS``: ``id, claim, slack_log10, holds`` (slack >= 0).

    Raises
    ------
    KeyError
        If the summary lacks an arm or a day that a claim reads.

    Examples
    --------
    >>> from reawaken.experiments import MOUSE_LUNG, check_claims, run_protocol
    >>> from reawaken.simulate import summarise
    >>> table = check_claims(summarise(run_protocol(MOUSE_LUNG)))
    >>> list(table.columns), len(table)
    (['id', 'claim', 'slack_log10', 'holds'], 13)
    >>> table.loc[0, "claim"]
    'influenza: fold >= 2 at day 3'
    """
    rows = []
    for claim in CLAIMS:
        slack = claim.slack(summary)
        rows.append(
            {"id": claim.id, "claim": claim.text, "slack_log10": slack, "holds": slack >= 0}
        )
    return pd.DataFrame(rows)
