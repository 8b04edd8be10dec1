"""Aggregate description of a cohort store, with small counts suppressed.

Keys of the summary (and of ``reawaken cohort summary --json``):

``persons``: persons; ``person_years``: sum over persons of (end - start + 1 day) / 365.25,
rounded to 2 decimals; ``tables``: rows per canonical table; ``infections``: pathogen -> episodes;
``infections_by_month``: ``YYYY-MM`` -> pathogen -> episodes; ``events``: rows per outcome type;
``outcomes``: ``lung_metastasis`` (persons with a lung metastasis recorded, counted once at the
first), ``distant_metastasis`` (persons with any distant metastasis), ``cancer_death``,
``covid_death``, ``other_death`` (persons by cause) and ``death`` (persons who died, any or
unknown cause); ``quarantined``: rows left out by lenient imports; ``sources``, ``min_cell``.

Every count from 1 to ``min_cell - 1`` is replaced by ``None`` (printed as ``<min_cell``):
UK Biobank and Flatiron forbid publishing smaller cells. ``min_cell=0`` shows everything.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from reawaken import pathogens
from reawaken.cohort.schema import TABLES
from reawaken.suppression import suppress_count


def summarise(
    con: duckdb.DuckDBPyConnection, *, min_cell: int = 10, source: str | None = None
) -> dict:
    """Counts per table, events per type, person-years and infections by pathogen and month,
    read through ``con`` (a connection to a cohort store; see
    :meth:`reawaken.cohort.store.CohortStore.summary`)."""
    where = "WHERE source = ?" if source is not None else ""
    params = [source] if source is not None else []

    def run(sql: str, args: list) -> pd.DataFrame:
        return con.execute(sql, args).df()

    def scalar(sql: str) -> float:
        value = run(sql.format(where=where), params).iloc[0, 0]
        return 0 if value is None or value != value else value

    def s(count: float) -> int | None:
        return suppress_count(count, min_cell)

    tables = {t: s(scalar(f"SELECT count(*) FROM {t} {{where}}")) for t in TABLES}
    person_days = scalar("SELECT sum(end_date - start_date + 1) FROM follow_up {where}")
    inf = run(f"SELECT pathogen, count(*) AS n FROM infection {where} GROUP BY pathogen", params)
    by_pathogen = dict(zip(inf["pathogen"], inf["n"], strict=True))
    monthly = run(
        "SELECT strftime(infection_date, '%Y-%m') AS month, pathogen, count(*) AS n "
        f"FROM infection {where} GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )
    by_month: dict[str, dict[str, int | None]] = {}
    for month, pathogen, n in monthly.itertuples(index=False):
        by_month.setdefault(month, {})[pathogen] = s(n)
    events = run(f"SELECT outcome_type, count(*) AS n FROM outcome {where} GROUP BY 1", params)
    ev = dict(zip(events["outcome_type"], events["n"], strict=True))
    and_where = "AND source = ?" if source is not None else ""
    persons_with = (
        "SELECT count(DISTINCT source || '/' || person_id) FROM outcome WHERE {cond} " + and_where
    )

    def count_persons(cond: str) -> int | None:
        return s(run(persons_with.format(cond=cond), params).iloc[0, 0])

    outcomes = {
        "lung_metastasis": count_persons("outcome_type = 'distant_metastasis' AND site = 'lung'"),
        "distant_metastasis": count_persons("outcome_type = 'distant_metastasis'"),
        "cancer_death": count_persons("outcome_type = 'death' AND cause = 'cancer'"),
        "covid_death": count_persons("outcome_type = 'death' AND cause = 'covid'"),
        "other_death": count_persons("outcome_type = 'death' AND cause = 'other'"),
        "death": count_persons("outcome_type = 'death'"),
    }
    imports = run("SELECT source, n_quarantined FROM imports ORDER BY source", [])
    if source is not None:
        imports = imports[imports["source"] == source]
    return {
        "sources": list(imports["source"]),
        "min_cell": min_cell,
        "persons": tables["person"],
        "person_years": round(float(person_days) / 365.25, 2),
        "tables": tables,
        "infections": {p: s(by_pathogen.get(p, 0)) for p in pathogens.ids()},
        "infections_by_month": by_month,
        "events": {t: s(ev.get(t, 0)) for t in ("distant_metastasis", "death")},
        "outcomes": outcomes,
        "quarantined": s(imports["n_quarantined"].sum()),
    }


def format_summary(summary: dict) -> str:
    """The summary as plain text, as ``reawaken cohort summary`` prints it.

    Parameters
    ----------
    summary : dict
        A store's summary (:meth:`reawaken.cohort.CohortStore.summary`).

    Returns
    -------
    str
        One line per count; suppressed counts shown as ``<min_cell``.

    Raises
    ------
    KeyError
        If a key of the summary is missing.

    Examples
    --------
    >>> from reawaken.cohort import CohortStore, format_summary, generate
    >>> truth = generate("flatiron", 300, 1, "synthetic")
    >>> store = CohortStore("cohort.duckdb")
    >>> store.import_source("flatiron", "synthetic").source
    'flatiron'
    >>> print(format_summary(store.summary(min_cell=10)))  # doctest: +ELLIPSIS
    sources: flatiron
    persons: 300
    person-years: 1425.25
    rows per table:
      person: 300
      cancer_diagnosis: 300
      follow_up: 300
      infection: 70
      vaccination: 0
      outcome: 80
    events per type:
      distant_metastasis: 36
      death: 44
    persons with outcome:
      lung_metastasis: 12
      distant_metastasis: 36
      cancer_death: 0
      covid_death: 0
      other_death: 0
      death: 44
    infection episodes by pathogen:
      influenza: 14
      sars-cov-2: 41
      rsv: <10
      other-respiratory: 13
    infection episodes by calendar month:
      2011-10: other-respiratory <10
    ...
    quarantined rows: 0
    """
    hidden = f"<{summary['min_cell']}"

    def show(v: int | None) -> str:
        return hidden if v is None else str(v)

    lines = [f"sources: {', '.join(summary['sources']) or '(none)'}"]
    lines.append(f"persons: {show(summary['persons'])}")
    lines.append(f"person-years: {summary['person_years']:.2f}")
    lines.append("rows per table:")
    lines += [f"  {t}: {show(n)}" for t, n in summary["tables"].items()]
    lines.append("events per type:")
    lines += [f"  {t}: {show(n)}" for t, n in summary["events"].items()]
    lines.append("persons with outcome:")
    lines += [f"  {t}: {show(n)}" for t, n in summary["outcomes"].items()]
    lines.append("infection episodes by pathogen:")
    lines += [f"  {p}: {show(n)}" for p, n in summary["infections"].items()]
    lines.append("infection episodes by calendar month:")
    for month, counts in summary["infections_by_month"].items():
        parts = ", ".join(f"{p} {show(n)}" for p, n in counts.items())
        lines.append(f"  {month}: {parts}")
    lines.append(f"quarantined rows: {show(summary['quarantined'])}")
    return "\n".join(lines)
