"""What the synthetic layouts share: the simulated cohort they are given, how a source's
synthetic persons enter follow-up, what a layout reports back, and the writing helpers.

Days are integers counted from 1970-01-01 (:data:`EPOCH`); -1 where an event did not happen.
The generator (:mod:`reawaken.cohort.synth`) draws a :class:`Cohort`; each source writes it in
its own layout (``Source.write_synthetic``) and returns :class:`SyntheticFiles`, from which
:mod:`reawaken.cohort.synth_layouts` computes the counts an import must reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from reawaken import pathogens
from reawaken.io import write_atomic

EPOCH = np.datetime64("1970-01-01", "D")

#: ICD-10 codes the layouts write for the site of a distant metastasis and a cause of death.
METASTASIS_ICD10 = {
    "lung": "C78.0",
    "bone": "C79.5",
    "liver": "C78.7",
    "brain": "C79.3",
    "other": "C79.8",
}
DEATH_ICD10 = {"cancer": "C50.9", "covid": "U07.1", "other": "I21.9"}


def day(text: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return int((np.datetime64(text, "D") - EPOCH).astype(int))


def iso(days: np.ndarray | pd.Series) -> np.ndarray:
    """ISO date strings of integer days since 1970-01-01."""
    return (EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")).astype(str)


@dataclass
class Cohort:
    """A simulated cohort, as :func:`reawaken.cohort.simulate` draws it.

    Days are integers counted from 1970-01-01; -1 where an event did not happen.

    Parameters
    ----------
    people : pandas.DataFrame
        One row per person: ``pid, sex, birth, birth_year, dx`` (diagnosis day), ``stage,
        er, pr, her2, entry, horizon, end, end_reason, death`` (day or -1), ``cause,
        relapse`` (day or -1) and ``site`` (of the first metastasis).
    infections : pandas.DataFrame
        Every infection, recorded or not: ``pid, day, pathogen, birth, hospitalised,
        recorded``.
    vaccinations : pandas.DataFrame
        ``pid, day, vaccine``.
    params : dict
        The generator parameters used (see :func:`reawaken.cohort.default_params`).

    Examples
    --------
    >>> from reawaken.cohort import simulate
    >>> cohort = simulate(300, 1, "flatiron")
    >>> cohort.infections.groupby("pathogen")["recorded"].sum().to_dict()
    {'influenza': 14, 'other-respiratory': 13, 'rsv': 2, 'sars-cov-2': 41}
    >>> int((cohort.people["relapse"] >= 0).sum())
    36
    """

    people: pd.DataFrame  # pid, sex, birth_year, dx, stage, er, pr, her2, entry, end, end_reason,
    # relapse (day or -1), site, death (day or -1), cause
    infections: pd.DataFrame  # pid, day, pathogen, hospitalised, recorded
    vaccinations: pd.DataFrame  # pid, day, vaccine
    params: dict


@dataclass(frozen=True)
class SyntheticDesign:
    """How a source's synthetic persons enter follow-up, and how often they are lost.

    The ``anchor`` day (``entry`` or ``diagnosis``) is drawn uniformly from ``first`` to
    ``last`` (``YYYY-MM-DD``, inclusive); the other day lies 0 to ``max_lag_days`` days before
    it (0: the same day, nothing drawn). ``loss_per_year``: the default rate of loss to
    follow-up (the generator's ``loss_to_follow_up.<kind>``).
    """

    anchor: Literal["entry", "diagnosis"]
    first: str
    last: str
    max_lag_days: int
    loss_per_year: float

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Entry and diagnosis days of ``n`` persons."""
        anchor = rng.integers(day(self.first), day(self.last) + 1, n)
        if self.max_lag_days:
            other = anchor - rng.integers(0, self.max_lag_days + 1, n)
        else:
            other = anchor.copy()
        return (anchor, other) if self.anchor == "entry" else (other, anchor)


@dataclass
class SyntheticFiles:
    """What a layout wrote, as its import will read it back.

    ``recorded``: the infection records the files hold; ``end``: each person's end of
    follow-up (day) as the import computes it; ``causes``: each person's cause of death as the
    import reads it (None where the files give none); ``n_vaccinations``: vaccination rows;
    ``import_options``: options the import must be given to reproduce the counts.
    """

    recorded: pd.DataFrame
    end: np.ndarray
    causes: pd.Series
    n_vaccinations: int = 0
    import_options: dict = field(default_factory=dict)


def layout_codes(name: str) -> dict[str, object]:
    """Pathogen id -> the code the layouts write (``icd10``, ``omop_condition``,
    ``omop_test``, ``cvx`` of each row's synthetic defaults); pathogens without one left out."""
    values = {p.id: getattr(p.synthetic, name) for p in pathogens.table()}
    return {k: v for k, v in values.items() if v is not None}


def recorded_infections(cohort: Cohort) -> pd.DataFrame:
    """The recorded infections, each with its person's end of follow-up (``end``)."""
    inf = cohort.infections.merge(cohort.people[["pid", "end"]], on="pid")
    return inf[inf["recorded"]]


def repeat_tests(rec: pd.DataFrame, p: dict, rng: np.random.Generator) -> pd.DataFrame:
    """A second positive test a few days after some first ones (still within follow-up)."""
    rt = p["repeat_test"]
    again = rec[rng.random(len(rec)) < rt["probability"]].copy()
    again["day"] = again["day"] + rng.integers(1, rt["max_gap_days"] + 1, len(again))
    return again[again["day"] <= again["end"]]


def write_tables(
    out: Path, tables: dict[str, pd.DataFrame], *, sep: str = ",", suffix: str = ".csv"
) -> None:
    """Write each table to ``out/<name><suffix>`` (atomically), delimited by ``sep``."""
    for name, frame in tables.items():
        write_atomic(out / f"{name}{suffix}", partial(_write_table, frame, sep))


def _write_table(frame: pd.DataFrame, sep: str, path: Path) -> None:
    """Write ``frame`` as delimited text without quoting (generated values hold no delimiter)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    options = pacsv.WriteOptions(delimiter=sep, quoting_style="none")
    pacsv.write_csv(table, str(path), write_options=options)
