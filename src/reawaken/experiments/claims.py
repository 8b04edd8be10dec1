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


L2 = math.log10(2.0)

CLAIMS: tuple[Claim, ...] = (
    Claim("flu_d3", "influenza: fold >= 2 at day 3", lambda s: _log(fold(s, "influenza", 3)) - L2),
    Claim(
        "flu_d15_low",
        "influenza: fold >= 100 at day 15",
        lambda s: _log(fold(s, "influenza", 15)) - 2.0,
    ),
    Claim(
        "flu_d15_high",
        "influenza: fold <= 1000 at day 15",
        lambda s: 3.0 - _log(fold(s, "influenza", 15)),
    ),
    Claim(
        "flu_d60", "influenza: fold >= 10 at day 60", lambda s: _log(fold(s, "influenza", 60)) - 1
    ),
    Claim(
        "flu_d270",
        "influenza: fold >= 10 at day 270",
        lambda s: _log(fold(s, "influenza", 270)) - 1,
    ),
    Claim(
        "prolif_d9_vs_d3",
        "influenza: proliferating fraction higher at day 9 than at day 3",
        lambda s: (
            _log(proliferating_fraction(s, "influenza", 9))
            - _log(proliferating_fraction(s, "influenza", 3))
        ),
    ),
    Claim(
        "prolif_d9_vs_d28",
        "influenza: proliferating fraction higher at day 9 than at day 28",
        lambda s: (
            _log(proliferating_fraction(s, "influenza", 9))
            - _log(proliferating_fraction(s, "influenza", 28))
        ),
    ),
    Claim(
        "il6_ko_d15",
        "influenza+il6_ko: fold <= 10 at day 15",
        lambda s: 1.0 - _log(fold(s, "influenza+il6_ko", 15)),
    ),
    Claim(
        "anti_il6_d15",
        "influenza+anti_il6: day 15 at most half of influenza",
        lambda s: _log(fold(s, "influenza", 15)) - _log(fold(s, "influenza+anti_il6", 15)) - L2,
    ),
    Claim(
        "cd4_d9",
        "influenza+cd4_depleted: day 9 within 2x of influenza",
        lambda s: (
            L2 - abs(_log(fold(s, "influenza+cd4_depleted", 9)) - _log(fold(s, "influenza", 9)))
        ),
    ),
    Claim(
        "cd4_d28",
        "influenza+cd4_depleted: day 28 at most 1/5 of influenza",
        lambda s: (
            _log(fold(s, "influenza", 28))
            - _log(fold(s, "influenza+cd4_depleted", 28))
            - math.log10(5.0)
        ),
    ),
    Claim(
        "cd4_cd8_d28",
        "influenza+cd4_cd8_depleted: day 28 within 2x of influenza",
        lambda s: (
            L2
            - abs(_log(fold(s, "influenza+cd4_cd8_depleted", 28)) - _log(fold(s, "influenza", 28)))
        ),
    ),
    Claim(
        "sars_d15",
        "sars-cov-2: fold >= 10 at day 15",
        lambda s: _log(fold(s, "sars-cov-2", 15)) - 1,
    ),
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
