"""Table 1: baseline characteristics of the persons at risk, by exposure status.

:func:`table_one` describes the persons every design studies (those of
:func:`reawaken.epi.cohort_designs.person_table`), split by whether they had a recorded
infection of the exposure during follow-up, with the standardized mean difference of each
characteristic (Austin, Stat Med 28:3083-3107, 2009; computed by
:func:`reawaken.epi.balance.standardized_differences`).

Small counts are suppressed as :mod:`reawaken.suppression` says: a count from 1 to
``min_cell - 1`` is left empty with its percentage and the level's standardized difference
(either gives the count back, with the group's size), and the levels of one characteristic
are the parts of the group's size, which is shown: while what is hidden in a group adds up to
1 to ``min_cell - 1``, the smallest level shown is hidden too
(:func:`~reawaken.suppression.complement`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reawaken.epi.attrition import check_min_cell
from reawaken.epi.balance import standardized_differences
from reawaken.epi.cohort_designs import _day, _key, infection_table, person_table
from reawaken.suppression import DEFAULT_MIN_CELL, complement

TABLE_ONE_COLUMNS = [
    "variable",
    "level",
    "exposed",
    "unexposed",
    "smd",
    "n_exposed",
    "pct_exposed",
    "n_unexposed",
    "pct_unexposed",
    "mean_exposed",
    "sd_exposed",
    "mean_unexposed",
    "sd_unexposed",
]

AGE_LEVELS = ("<50", "50-59", "60-69", "70-79", "80+")
STAGE_LEVELS = ("0", "I", "II", "III", "IV", "unknown")
RECEPTOR_LEVELS = ("positive", "negative", "unknown")
SEX_LEVELS = ("female", "male", "unknown")


def baseline(store: Any, exposure: str, outcome: str, *, source: str | None = None):
    """The persons at risk of ``outcome`` with their baseline characteristics and ``exposed``.

    One row per person of :func:`~reawaken.epi.cohort_designs.person_table`, with ``er``,
    ``pr``, ``her2`` of the index cancer (``unknown`` when not recorded), ``source_kind``,
    ``follow_up_years`` (days from the at-risk start to the end of follow-up, both included,
    over 365.25) and ``exposed`` (True when a recorded infection of ``exposure`` falls on a
    day from the at-risk start to the end of follow-up).
    """
    persons = person_table(store, outcome, source=source).frame
    infections = infection_table(store, exposure, source=source)
    span = persons[["id", "start", "end"]].merge(infections[["id", "day"]], on="id")
    within = span[(span["day"] >= span["start"]) & (span["day"] <= span["end"])]
    frame = persons.assign(exposed=persons["id"].isin(set(within["id"])))
    dx = store.cancer_diagnosis(source)
    dx = dx[dx["site"] == "breast"].assign(id=_key, day=lambda f: _day(f["diagnosis_date"]))
    dx = dx.sort_values(["id", "day"], kind="stable").drop_duplicates("id")  # the index cancer
    receptors = dx.set_index("id")[["er", "pr", "her2"]]
    for column in ("er", "pr", "her2"):
        frame[column] = frame["id"].map(receptors[column]).fillna("unknown").astype(str)
    kinds = store.imports().set_index("source")["kind"]
    frame["source_kind"] = frame["id"].str.split("/", n=1).str[0].map(kinds).astype(str)
    frame["follow_up_years"] = (frame["end"] - frame["start"] + 1) / 365.25
    return frame


def _categorical(
    frame: pd.DataFrame, column: str, levels: tuple[str, ...], exposed: np.ndarray
) -> pd.DataFrame:
    """Counts, proportions and the standardized difference of each level of ``column``."""
    values = frame[column].astype(str)
    extra = sorted(set(values) - set(levels))
    order = [*levels, *extra]
    smd = standardized_differences(frame, [column], group=exposed, categorical=[column])
    by_level = smd.set_index("level")["smd"].reindex(order).fillna(0.0)  # absent: p = 0 both
    return pd.DataFrame(
        {
            "level": order,
            "n_exposed": [int(((values == v) & exposed).sum()) for v in order],
            "n_unexposed": [int(((values == v) & ~exposed).sum()) for v in order],
            "smd": by_level.to_numpy(dtype=float),
        }
    )


def _variables(frame: pd.DataFrame) -> list[tuple[str, str, tuple[str, ...] | None]]:
    """(label, column, levels) of each characteristic shown; levels None for a number."""
    out: list[tuple[str, str, tuple[str, ...] | None]] = [
        ("age at diagnosis, years", "age", None),
        ("age band", "age_band", AGE_LEVELS),
    ]
    if (frame["sex"].astype(str) != "unknown").any():
        out.append(("sex", "sex", SEX_LEVELS))
    known_stage = sorted(set(frame["stage"].astype(str)) - {"unknown"})
    out.append(("stage", "stage", (*[s for s in STAGE_LEVELS if s in known_stage], "unknown")))
    for label, column in (("ER", "er"), ("PR", "pr"), ("HER2", "her2")):
        if (frame[column] != "unknown").any():
            out.append((f"{label} status", column, RECEPTOR_LEVELS))
    out.append(("source", "source_kind", tuple(sorted(set(frame["source_kind"])))))
    out.append(("follow-up, years", "follow_up_years", None))
    return out


def _count_text(n: Any, pct: Any) -> str:
    return "" if pd.isna(n) else f"{int(n)} ({pct:.1f}%)"


def _mean_text(mean: Any, sd: Any) -> str:
    if pd.isna(mean):
        return ""
    return f"{mean:.1f} ({sd:.1f})" if pd.notna(sd) else f"{mean:.1f}"


def table_one(
    store: Any,
    exposure: str,
    outcome: str,
    *,
    source: str | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Baseline characteristics of the persons at risk of ``outcome``, by exposure status.

    The persons are those every design studies
    (:func:`reawaken.epi.cohort_designs.person_table`). **Exposed** means at least one recorded
    infection of ``exposure`` (``sars-cov-2``, ``influenza`` or ``any``) on a day from the
    at-risk start (the later of follow-up start and diagnosis) to the end of follow-up;
    **unexposed** means none recorded then. Exposure status is thus defined by what happened
    during follow-up, not at baseline: persons followed longer have more time to be infected,
    which the follow-up row shows.

    Characteristics: the number of persons; age at diagnosis (years, mean and sd); age band;
    sex (when the store records it); stage (``unknown`` when missing); ER, PR and HER2 status
    of the index cancer (when the store records any); the kind of source (``flatiron``,
    ``ukb``, ``omop``, ...); years of follow-up from the at-risk start (mean and sd).
    Percentages are of the group's persons.

    Standardized mean differences (Austin 2009), exposed minus unexposed: for a number
    ``(m1 - m0) / sqrt((s1^2 + s0^2) / 2)`` with sample standard deviations; for each level
    of a characteristic ``(p1 - p0) / sqrt((p1 (1 - p1) + p0 (1 - p0)) / 2)``, 0 where the
    level is absent in both groups and NaN where both proportions are 0 or 1 but differ.

    Parameters
    ----------
    store : CohortStore
        The cohort store (:class:`reawaken.cohort.store.CohortStore`).
    exposure : str
        ``sars-cov-2``, ``influenza`` or ``any`` (:func:`reawaken.pathogens.exposure_groups`).
    outcome : str
        An outcome of :data:`reawaken.epi.cohort_designs.OUTCOMES`: who is at risk.
    source : str, optional
        One stored source; all of them by default.
    min_cell : int, default 10
        The smallest count shown (10, as UK Biobank and Flatiron require; 0 shows every
        count). A count from 1 to ``min_cell - 1`` is left empty with its percentage and its
        level's ``smd``, and so is the next smallest level of the same characteristic and
        group while what is hidden adds up to less than ``min_cell`` (the group's size, shown,
        would give it back). A group of 1 to ``min_cell - 1`` persons empties the whole table
        but its labels.

    Returns
    -------
    pandas.DataFrame
        One row per characteristic (numbers) or level: ``variable``, ``level`` (empty for a
        number and for the persons row), ``exposed`` and ``unexposed`` (text: ``n (pct%)`` or
        ``mean (sd)``; empty where suppressed), ``smd``, and the numbers behind the text:
        ``n_exposed``, ``pct_exposed``, ``n_unexposed``, ``pct_unexposed`` (counts as pandas
        nullable integers), ``mean_exposed``, ``sd_exposed``, ``mean_unexposed``,
        ``sd_unexposed``.

    Raises
    ------
    InputError
        If the exposure or outcome is unknown, ``min_cell`` is not a whole number from 0, the
        source is not stored, or no person is at risk of the outcome.

    Examples
    --------
    >>> from reawaken.cohort import CohortStore, generate
    >>> from reawaken.epi.table_one import table_one
    >>> truth = generate("flatiron", 2000, 1, "synthetic")  # a synthetic Flatiron extract
    >>> store = CohortStore("cohort.duckdb")
    >>> store.import_source("flatiron", "synthetic").rows["person"]
    2000
    >>> table = table_one(store, "sars-cov-2", "lung_metastasis")
    >>> table[["variable", "level", "exposed", "unexposed", "smd"]].head(7).round(3)
                      variable  level      exposed    unexposed    smd
    0                  persons                 278         1722    NaN
    1  age at diagnosis, years         60.6 (11.3)  60.8 (12.1) -0.016
    2                 age band    <50   44 (15.8%)  315 (18.3%) -0.066
    3                 age band  50-59   78 (28.1%)  472 (27.4%)  0.014
    4                 age band  60-69   95 (34.2%)  522 (30.3%)  0.083
    5                 age band  70-79   47 (16.9%)  301 (17.5%) -0.015
    6                 age band    80+    14 (5.0%)   112 (6.5%) -0.063

    Fewer than 10 exposed men: their count is hidden, and so is that of the exposed women,
    which 278 minus it would give back:

    >>> table.query("variable == 'sex'")[["level", "n_exposed", "n_unexposed"]]
         level  n_exposed  n_unexposed
    7   female       <NA>         1706
    8     male       <NA>           16
    9  unknown          0            0
    """
    min_cell = check_min_cell(min_cell)
    frame = baseline(store, exposure, outcome, source=source)
    exposed = frame["exposed"].to_numpy()
    n1, n0 = int(exposed.sum()), int((~exposed).sum())
    group_shown = complement([n1, n0], n1 + n0, min_cell=min_cell)
    rows: list[dict] = [
        {"variable": "persons", "level": "", "n_exposed": n1, "n_unexposed": n0, "smd": np.nan}
    ]
    for label, column, levels in _variables(frame):
        if levels is None:
            x = frame[column].to_numpy(dtype=float)
            smd = standardized_differences(frame, [column], group=exposed)["smd"].iloc[0]
            rows.append(
                {
                    "variable": label,
                    "level": "",
                    "smd": float(smd),
                    "mean_exposed": x[exposed].mean() if n1 else np.nan,
                    "sd_exposed": x[exposed].std(ddof=1) if n1 > 1 else np.nan,
                    "mean_unexposed": x[~exposed].mean() if n0 else np.nan,
                    "sd_unexposed": x[~exposed].std(ddof=1) if n0 > 1 else np.nan,
                }
            )
            continue
        counts = _categorical(frame, column, levels, exposed)
        hidden = np.zeros(len(counts), bool)
        for group, n in (("n_exposed", n1), ("n_unexposed", n0)):
            shown = complement(counts[group].tolist(), n, min_cell=min_cell)
            hidden |= np.array([s is None for s in shown])
            counts[group] = pd.array(shown, dtype="Int64")
        counts.loc[hidden, "smd"] = np.nan  # with p0 (or p1) shown, the smd gives p1 back
        rows += [{"variable": label, **r} for r in counts.to_dict("records")]
    table = pd.DataFrame(rows)
    for group, n in (("exposed", n1), ("unexposed", n0)):
        counts = table[f"n_{group}"].astype("Float64")
        table[f"n_{group}"] = pd.array(table[f"n_{group}"].tolist(), dtype="Int64")
        table[f"pct_{group}"] = (100.0 * counts / n if n else counts * np.nan).astype(float)
        table.loc[table["variable"] == "persons", f"pct_{group}"] = np.nan
    if None in group_shown:  # a group of 1 to min_cell - 1 persons: nothing can be shown
        numbers = [c for c in TABLE_ONE_COLUMNS if c.startswith(("n_", "pct_", "mean_", "sd_"))]
        table[numbers] = np.nan
        table["smd"] = np.nan
        for group in ("exposed", "unexposed"):
            table[f"n_{group}"] = pd.array([None] * len(table), dtype="Int64")
    for group in ("exposed", "unexposed"):
        table[group] = [
            (
                ("" if pd.isna(r[f"n_{group}"]) else str(int(r[f"n_{group}"])))
                if r["variable"] == "persons"
                else _count_text(r[f"n_{group}"], r[f"pct_{group}"])
                if r["level"] != ""
                else _mean_text(r[f"mean_{group}"], r[f"sd_{group}"])
            )
            for r in table.to_dict("records")
        ]
    return table.reindex(columns=TABLE_ONE_COLUMNS)
