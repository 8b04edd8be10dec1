"""Aggregate description of a cohort store, with small counts suppressed.

Keys of the summary (and of ``reawaken cohort summary --json``):

``persons``: persons; ``person_years``: sum over persons of (end - start + 1 day) / 365.25,
rounded to 2 decimals; ``tables``: rows per canonical table; ``infections``: pathogen -> episodes;
``infections_by_month``: ``YYYY-MM`` -> pathogen -> episodes; ``events``: rows per outcome type;
``outcomes``: ``lung_metastasis`` (persons with a lung metastasis recorded, counted once at the
first), ``distant_metastasis`` (persons with any distant metastasis), ``cancer_death``,
``covid_death``, ``other_death`` (persons by recorded cause; ``"unknown"`` when deaths are
recorded but none with its cause, as in Flatiron's tables), ``unknown_cause_death`` (persons
whose death has no recorded cause) and ``death`` (persons who died, any or unknown cause);
``quarantined``: rows left out by lenient imports; ``overlaps``: each pair of stored sources
sharing person ids or identical files (``sources``, ``person_ids``, ``identical_files``, and
``link``: how the later import was linked, see :mod:`reawaken.cohort.linking`); ``sources``,
``min_cell``. A store with imports linked as ``same-person`` is summarised with each linked
person once.

Every count from 1 to ``min_cell - 1`` is replaced by ``None`` (printed as ``<min_cell``):
UK Biobank and Flatiron forbid publishing smaller cells. ``min_cell=0`` shows everything.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from reawaken import pathogens
from reawaken.cohort.schema import TABLES
from reawaken.suppression import suppress_count

CAUSES = ("cancer", "covid", "other")


def death_counts(known: dict[str, int], unknown: int) -> dict[str, int | str]:
    """Persons who died by recorded cause (``<cause>_death``, each of :data:`CAUSES`) and
    without one (``unknown_cause_death``). When deaths are recorded but none with its cause,
    the counts by cause are ``"unknown"``: zero would say that nobody died of it."""
    nothing_known = unknown > 0 and not any(known.values())
    by_cause = {f"{c}_death": "unknown" if nothing_known else known[c] for c in CAUSES}
    return {**by_cause, "unknown_cause_death": unknown}


def summarise(
    con: duckdb.DuckDBPyConnection,
    *,
    min_cell: int = 10,
    source: str | None = None,
    relations: dict[str, str] | None = None,
) -> dict:
    """Counts per table, events per type, person-years and infections by pathogen and month,
    read through ``con`` (a connection to a cohort store; see
    :meth:`reawaken.cohort.store.CohortStore.summary`); ``relations`` names what to read for
    each canonical table (default: the table itself)."""
    rel = {t: t for t in TABLES} | (relations or {})
    where = "WHERE source = ?" if source is not None else ""
    params = [source] if source is not None else []

    def run(sql: str, args: list) -> pd.DataFrame:
        return con.execute(sql, args).df()

    def scalar(sql: str) -> float:
        value = run(sql.format(where=where), params).iloc[0, 0]
        return 0 if value is None or value != value else value

    def s(count: float | str) -> int | str | None:
        return count if isinstance(count, str) else suppress_count(count, min_cell)

    tables = {t: s(scalar(f"SELECT count(*) FROM {rel[t]} {{where}}")) for t in TABLES}
    person_days = scalar(f"SELECT sum(end_date - start_date + 1) FROM {rel['follow_up']} {{where}}")
    inf = run(
        f"SELECT pathogen, count(*) AS n FROM {rel['infection']} {where} GROUP BY pathogen", params
    )
    by_pathogen = dict(zip(inf["pathogen"], inf["n"], strict=True))
    monthly = run(
        "SELECT strftime(infection_date, '%Y-%m') AS month, pathogen, count(*) AS n "
        f"FROM {rel['infection']} {where} GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    )
    by_month: dict[str, dict[str, int | None]] = {}
    for month, pathogen, n in monthly.itertuples(index=False):
        by_month.setdefault(month, {})[pathogen] = s(n)
    events = run(
        f"SELECT outcome_type, count(*) AS n FROM {rel['outcome']} {where} GROUP BY 1", params
    )
    ev = dict(zip(events["outcome_type"], events["n"], strict=True))
    and_where = "AND source = ?" if source is not None else ""
    persons_with = (
        f"SELECT count(DISTINCT source || '/' || person_id) FROM {rel['outcome']} "
        "WHERE {cond} " + and_where
    )

    def count_persons(cond: str) -> int:
        return int(run(persons_with.format(cond=cond), params).iloc[0, 0])

    known = {c: count_persons(f"outcome_type = 'death' AND cause = '{c}'") for c in CAUSES}
    counts = {
        "lung_metastasis": count_persons("outcome_type = 'distant_metastasis' AND site = 'lung'"),
        "distant_metastasis": count_persons("outcome_type = 'distant_metastasis'"),
        **death_counts(known, count_persons("outcome_type = 'death' AND cause IS NULL")),
        "death": count_persons("outcome_type = 'death'"),
    }
    outcomes = {k: s(v) for k, v in counts.items()}
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
        "overlaps": [{**o, "person_ids": s(o["person_ids"])} for o in overlaps(con, source=source)],
    }


def overlaps(con: duckdb.DuckDBPyConnection, *, source: str | None = None) -> list[dict]:
    """Each pair of stored sources (with ``source`` in it, when given) that share person ids
    or identical files: ``sources`` (in import order), ``person_ids`` (ids in both, as stored),
    ``identical_files`` (files with the same SHA-256) and ``link`` (how the later of the two
    was imported: ``same-person``, ``distinct`` or None for a store made before links)."""
    found = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    imports = con.execute("SELECT * FROM imports ORDER BY imported_at, source").df()
    link = dict(zip(imports["source"], imports.get("link", [None] * len(imports)), strict=True))
    order = {name: i for i, name in enumerate(imports["source"])}
    shared: dict[tuple[str, str], dict] = {}

    def add(sql: str, key: str) -> None:
        for a, b, n in con.execute(sql).fetchall():
            first, later = sorted((a, b), key=order.__getitem__)
            pair = shared.setdefault(
                (first, later), {"person_ids": 0, "identical_files": 0, "link": link[later]}
            )
            pair[key] = int(n)

    add(
        "SELECT a.source, b.source, count(*) FROM person a JOIN person b "
        "ON a.person_id = b.person_id AND a.source < b.source GROUP BY 1, 2",
        "person_ids",
    )
    if "import_files" in found:
        add(
            "SELECT a.source, b.source, count(DISTINCT a.sha256) FROM import_files a "
            "JOIN import_files b ON a.sha256 = b.sha256 AND a.source < b.source GROUP BY 1, 2",
            "identical_files",
        )
    return [
        {"sources": [a, b], **counts}
        for (a, b), counts in sorted(
            shared.items(), key=lambda kv: (order[kv[0][0]], order[kv[0][1]])
        )
        if source is None or source in (a, b)
    ]


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

    See Also
    --------
    reawaken.cohort.CohortStore.summary : the summary, its keys described in this module.

    Examples
    --------
    The same synthetic Flatiron extract stored twice, linked as the same persons (counted
    once; Flatiron's tables hold no cause of death):

    >>> from reawaken.cohort import CohortStore, format_summary, generate
    >>> truth = generate("flatiron", 300, 1, "site-a")
    >>> store = CohortStore("cohort.duckdb")
    >>> for name in ("site-a", "site-b"):
    ...     result = store.import_source("flatiron", "site-a", name=name, link="same-person")
    >>> print(format_summary(store.summary(min_cell=10)))  # doctest: +ELLIPSIS
    sources: site-a, site-b
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
      cancer_death: unknown
      covid_death: unknown
      other_death: unknown
      unknown_cause_death: 44
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
    overlaps between sources:
      site-a & site-b: 300 person ids, 6 identical files (linked as same-person)
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
    lines.append("overlaps between sources:" + ("" if summary["overlaps"] else " none"))
    for o in summary["overlaps"]:
        linked = {None: "not linked"}.get(o["link"], f"linked as {o['link']}")
        lines.append(
            f"  {' & '.join(o['sources'])}: {show(o['person_ids'])} person ids, "
            f"{o['identical_files']} identical files ({linked})"
        )
    return "\n".join(lines)
