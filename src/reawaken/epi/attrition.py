"""Who was left out of a study and why: the attrition (flow) table behind the designs.

:func:`attrition` counts, step by step and in the order :func:`reawaken.epi.cohort_designs.
person_table` applies them, the persons of the cohort store left out of the analysis of one
outcome and those remaining, ending with the persons at risk that every design studies.

Small counts are suppressed so that no hidden number can be read back by subtraction (see
:mod:`reawaken.suppression`). The excluded counts and the persons at risk are the parts of the
persons in the store; the parts are suppressed as parts of a shown total
(:func:`~reawaken.suppression.complement`), and each intermediate "remaining" count, which
reveals the sum of the parts before it, is shown only where what is hidden before it and after
it adds up to 0 or at least ``min_cell`` (:func:`~reawaken.suppression.shown_steps`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reawaken.epi.cohort_designs import OUTCOMES, _day, _key
from reawaken.errors import InputError
from reawaken.suppression import DEFAULT_MIN_CELL, complement, shown_steps

ATTRITION_COLUMNS = ["step", "excluded", "remaining", "reason"]


def check_min_cell(min_cell: Any) -> int:
    """``min_cell`` as an int, or InputError when it is not a whole number from 0."""
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 0:
        raise InputError(
            f"min_cell {min_cell!r}: not accepted (accepted: a whole number from 0; "
            f"{DEFAULT_MIN_CELL} as UK Biobank and Flatiron require, 0 shows every count)"
        )
    return int(min_cell)


def exclusion_counts(store: Any, outcome: str, *, source: str | None = None) -> list[int]:
    """The unsuppressed counts of :func:`attrition`: persons in the store, then the persons
    left out at each step (no breast cancer diagnosis; no follow-up after the diagnosis;
    a metastasis before the at-risk start), then the persons at risk.

    The same rules as :func:`reawaken.epi.cohort_designs.person_table`, in its order: a person
    diagnosed after follow-up ended is left out for that, before any metastasis is looked at.
    """
    if outcome not in OUTCOMES:
        raise InputError(f"unknown outcome {outcome!r} (expected one of {', '.join(OUTCOMES)})")
    person = store.person(source)
    if person.empty:
        raise InputError("the cohort store holds no persons", file=store.path)
    dx = store.cancer_diagnosis(source)
    dx = dx[dx["site"] == "breast"].assign(id=_key, day=lambda f: _day(f["diagnosis_date"]))
    dx = dx.sort_values(["id", "day"], kind="stable").drop_duplicates("id")
    frame = person.assign(id=_key(person))[["id"]].merge(dx[["id", "day"]], on="id", how="inner")
    no_cancer = len(person) - len(frame)
    fu = store.follow_up(source)
    fu = fu.assign(id=_key(fu), fu_start=_day(fu["start_date"]), end=_day(fu["end_date"]))
    with_fu = frame.merge(fu[["id", "fu_start", "end"]], on="id", how="inner")
    start = np.maximum(with_fu["fu_start"], with_fu["day"])
    kept = with_fu[start <= with_fu["end"]].assign(start=start)
    no_follow_up = len(frame) - len(kept)
    if outcome == "cancer_death":
        deaths = store.outcome(source).query("outcome_type == 'death'")
        if len(deaths) and deaths["cause"].isna().all():  # as person_table refuses it
            raise InputError(
                "no cause of death is recorded in this store: cancer_death cannot be studied",
                file=store.path,
            )
        prevalent = 0  # a death ends follow-up: none is recorded before it starts
    else:
        out = store.outcome(source)
        out = out[out["outcome_type"] == "distant_metastasis"]
        first = pd.Series(_day(out["outcome_date"]), index=_key(out)).groupby(level=0).min()
        met = kept["id"].map(first).to_numpy(dtype=float)
        prevalent = int((met < kept["start"].to_numpy()).sum())
    at_risk = len(kept) - prevalent
    return [len(person), no_cancer, no_follow_up, prevalent, at_risk]


def attrition(
    store: Any,
    outcome: str,
    *,
    source: str | None = None,
    min_cell: int = DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Persons left out of the analysis of ``outcome``, step by step, and why.

    The steps, in the order :func:`reawaken.epi.cohort_designs.person_table` applies them
    (a person left out at one step is not counted again at a later one):

    1. ``persons in the store``: every person of the store (of ``source``, if given);
    2. ``no breast cancer diagnosis``: no index cancer (no diagnosis with site ``breast``);
    3. ``no follow-up after diagnosis``: no follow-up record, or the diagnosis (the start of
       time at risk) after the end of follow-up, so no day at risk;
    4. ``metastasis before follow-up``: a distant metastasis recorded before the at-risk start
       (prevalent: the person has already relapsed; none for ``cancer_death``);
    5. ``at risk``: the persons the designs study (as many as ``person_table`` keeps).

    Parameters
    ----------
    store : CohortStore
        The cohort store (:class:`reawaken.cohort.store.CohortStore`).
    outcome : str
        An outcome of :data:`reawaken.epi.cohort_designs.OUTCOMES`.
    source : str, optional
        One stored source; all of them by default.
    min_cell : int, default 10
        The smallest count shown (10, as UK Biobank and Flatiron require; 0 shows every
        count). A count from 1 to ``min_cell - 1`` is left empty, and so is every count it
        could be read back from by subtraction.

    Returns
    -------
    pandas.DataFrame
        One row per step: ``step``, ``excluded`` (persons left out at this step; empty on the
        first and the last row), ``remaining`` (persons left after it) and ``reason`` (what the
        step leaves out). Counts are pandas nullable integers (empty where suppressed).

    Raises
    ------
    InputError
        If the outcome is unknown, ``min_cell`` is not a whole number from 0, the store holds
        no persons, or ``source`` is not a stored source.

    Examples
    --------
    >>> from reawaken.cohort import CohortStore, generate
    >>> from reawaken.epi.attrition import attrition
    >>> truth = generate("ukb", 2000, 1, "synthetic")  # a synthetic UK Biobank extract
    >>> store = CohortStore("cohort.duckdb")
    >>> store.import_source("ukb", "synthetic", **truth["import_options"]).rows["person"]
    2000
    >>> attrition(store, "lung_metastasis")[["step", "excluded", "remaining"]]
                               step  excluded  remaining
    0          persons in the store      <NA>       2000
    1    no breast cancer diagnosis         0       2000
    2  no follow-up after diagnosis         0       2000
    3    metastasis before follow-up         0       2000
    4                       at risk      <NA>       2000

    What is hidden cannot be read back by subtraction (here 4 persons without a breast cancer
    diagnosis among 2000, and none left out otherwise):

    >>> from reawaken.epi.attrition import attrition_suppressed
    >>> attrition_suppressed(2000, [4, 0, 0], 1996)  # 2000 - 1996 would give the 4 back
    ([None, 0, 0], [2000, None, None, None, None])
    >>> attrition_suppressed(2000, [4, 0, 30], 1966)  # the 30 hides with it
    ([None, 0, None], [2000, None, None, 1966, 1966])
    """
    min_cell = check_min_cell(min_cell)
    total, *excluded, at_risk = exclusion_counts(store, outcome, source=source)
    parts, remaining = attrition_suppressed(total, excluded, at_risk, min_cell=min_cell)
    reasons = [
        "every person of the store" + (f" (source {source})" if source else ""),
        "no breast cancer diagnosis: no index cancer",
        "no follow-up record, or the breast cancer diagnosed after follow-up ended: no day at risk",
        (
            "no metastasis can precede a death: none left out"
            if outcome == "cancer_death"
            else "a distant metastasis recorded before the at-risk start (prevalent: already "
            "relapsed)"
        ),
        f"at risk of {outcome}: the persons every design studies",
    ]
    steps = [
        "persons in the store",
        "no breast cancer diagnosis",
        "no follow-up after diagnosis",
        "metastasis before follow-up",
        "at risk",
    ]
    return pd.DataFrame(
        {
            "step": steps,
            "excluded": pd.array([None, *parts, None], dtype="Int64"),
            "remaining": pd.array(remaining, dtype="Int64"),
            "reason": reasons,
        }
    )


def attrition_suppressed(
    total: int, excluded: list[int], at_risk: int, *, min_cell: int = DEFAULT_MIN_CELL
) -> tuple[list[int | None], list[int | None]]:
    """The excluded counts and the remaining counts (``total``, after each exclusion, and the
    persons at risk again on the last row) as they may be shown: None where hidden.

    ``total = sum(excluded) + at_risk``. The excluded counts and ``at_risk`` are parts of the
    shown total (:func:`~reawaken.suppression.complement`); the remaining count after step
    ``k`` is ``total`` minus the excluded counts up to ``k``, so it is shown only where what is
    hidden up to it, and after it, adds up to 0 or at least ``min_cell``
    (:func:`~reawaken.suppression.shown_steps` on the hidden amount so far).
    """
    if sum(excluded) + at_risk != total:
        raise ValueError("the excluded and the persons at risk do not add up to the total")
    m = len(excluded)
    if total > 0 and total < min_cell:  # the store itself is small: every count it has
        hidden = complement([*excluded, at_risk], None, min_cell=min_cell)
        return hidden[:m], [None] * (m + 2)
    shown = complement([*excluded, at_risk], total, min_cell=min_cell)
    values = [*excluded, at_risk]
    hidden = [0 if s is not None else v for s, v in zip(shown, values, strict=True)]
    hidden_so_far = np.cumsum(hidden)
    # point k (k = 0..m-1): the remaining after exclusion k; point m: the whole total, shown
    fixed = [False] * (m - 1) + [shown[m] is not None, True]
    visible = shown_steps(hidden_so_far.tolist(), fixed, min_cell=min_cell)
    remaining: list[int | None] = [total]
    left = total
    for k in range(m):
        left -= excluded[k]
        remaining.append(left if visible[k] else None)
    remaining.append(shown[m])
    return shown[:m], remaining
