"""The canonical cohort: the tables every source is read into, and their validation.

Tables (every row also carries ``source``, the name the import was stored under):

``person``
    ``person_id`` (text, unique within a source), ``birth_year`` (integer), ``sex``
    (``female | male | unknown``).
``cancer_diagnosis``
    ``diagnosis_date`` (date), ``site`` (``breast | lung | colorectal | prostate | other``),
    ``code`` (the source's code, ICD-10 without dot where the source has one), ``stage``
    (``0 | I | II | III | IV`` or NULL), ``er``, ``pr``, ``her2`` (``positive | negative`` or NULL).
``follow_up``
    one row per person: ``start_date``, ``end_date`` (dates; the person is observed on every day
    from start to end inclusive) and ``end_reason`` (``death | lost | last_activity |
    end_of_data | censor_date``).
``infection``
    one row per infection episode: ``infection_date`` (first record of the episode),
    ``pathogen`` (an id of the pathogen table, :mod:`reawaken.pathogens`: built in
    ``influenza | sars-cov-2 | rsv | other-respiratory``), ``evidence`` (``test`` when any
    positive test belongs to the episode, else ``diagnosis``), ``hospitalised`` (boolean: any
    record of the episode says so).
``vaccination``
    ``vaccination_date``, ``vaccine`` (a pathogen with vaccines, built in ``influenza |
    sars-cov-2 | rsv``, or ``other``).
``outcome``
    ``outcome_date``, ``outcome_type`` (``distant_metastasis | death``), ``site``
    (metastasis: ``lung | bone | liver | brain | other``, NULL when the source does not say),
    ``cause`` (death: ``cancer | covid | other``, NULL when the source does not say).

Records of one pathogen less than or equal to :data:`EPISODE_GAP_DAYS` days after the previous
record of the same person and pathogen belong to the same infection episode (the UK Health
Security Agency's 90-day rule for SARS-CoV-2 reinfection, applied to every pathogen).

Every infection, vaccination and outcome lies within follow-up (start <= date <= end); cancer
diagnoses may precede it. Importers hand :func:`finalize` tables that still carry provenance
columns (``_file``, ``_row``, ``_column``) so that a problem can be named where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reawaken import pathogens
from reawaken.errors import InputError

EPISODE_GAP_DAYS = 90

SEXES = ("female", "male", "unknown")
SITES = ("breast", "lung", "colorectal", "prostate", "other")
STAGES = ("0", "I", "II", "III", "IV")
RECEPTOR = ("positive", "negative")
END_REASONS = ("death", "lost", "last_activity", "end_of_data", "censor_date")
EVIDENCE = ("test", "diagnosis")
OUTCOME_TYPES = ("distant_metastasis", "death")
METASTASIS_SITES = ("lung", "bone", "liver", "brain", "other")
DEATH_CAUSES = ("cancer", "covid", "other")

#: Canonical tables: column -> DuckDB type (``source`` and ``person_id`` come first everywhere).
TABLES: dict[str, dict[str, str]] = {
    "person": {"birth_year": "INTEGER", "sex": "VARCHAR"},
    "cancer_diagnosis": {
        "diagnosis_date": "DATE",
        "site": "VARCHAR",
        "code": "VARCHAR",
        "stage": "VARCHAR",
        "er": "VARCHAR",
        "pr": "VARCHAR",
        "her2": "VARCHAR",
    },
    "follow_up": {"start_date": "DATE", "end_date": "DATE", "end_reason": "VARCHAR"},
    "infection": {
        "infection_date": "DATE",
        "pathogen": "VARCHAR",
        "evidence": "VARCHAR",
        "hospitalised": "BOOLEAN",
    },
    "vaccination": {"vaccination_date": "DATE", "vaccine": "VARCHAR"},
    "outcome": {
        "outcome_date": "DATE",
        "outcome_type": "VARCHAR",
        "site": "VARCHAR",
        "cause": "VARCHAR",
    },
}

#: Date column of each event table (checked against follow-up).
EVENT_DATES = {
    "infection": "infection_date",
    "vaccination": "vaccination_date",
    "outcome": "outcome_date",
}


def vaccines() -> tuple[str, ...]:
    """Allowed values of ``vaccination.vaccine``: the pathogens with vaccines, and ``other``."""
    return (*pathogens.vaccines(), "other")


def allowed() -> dict[tuple[str, str], tuple[tuple[str, ...], bool]]:
    """Allowed values of the categorical columns, and whether NULL is allowed too."""
    return {
        ("person", "sex"): (SEXES, False),
        ("cancer_diagnosis", "site"): (SITES, False),
        ("cancer_diagnosis", "stage"): (STAGES, True),
        ("cancer_diagnosis", "er"): (RECEPTOR, True),
        ("cancer_diagnosis", "pr"): (RECEPTOR, True),
        ("cancer_diagnosis", "her2"): (RECEPTOR, True),
        ("follow_up", "end_reason"): (END_REASONS, False),
        ("infection", "pathogen"): (pathogens.ids(), False),
        ("infection", "evidence"): (EVIDENCE, False),
        ("vaccination", "vaccine"): (vaccines(), False),
        ("outcome", "outcome_type"): (OUTCOME_TYPES, False),
    }


PROVENANCE = ["_file", "_row", "_column"]
QUARANTINE_COLUMNS = ["table_name", "person_id", "file", "row", "column", "reason"]


def columns(table: str) -> list[str]:
    """The canonical columns of ``table`` without ``source``: ``person_id`` then the rest."""
    return ["person_id", *TABLES[table]]


def empty(table: str) -> pd.DataFrame:
    """An empty canonical table (with provenance columns), correctly typed."""
    frame = pd.DataFrame({c: pd.Series(dtype=_pandas_dtype(table, c)) for c in columns(table)})
    for col in PROVENANCE:
        frame[col] = pd.Series(dtype="object")
    return frame


def _pandas_dtype(table: str, column: str) -> str:
    if column == "person_id":
        return "object"
    kind = TABLES[table][column]
    return {"DATE": "datetime64[ns]", "INTEGER": "Int64", "BOOLEAN": "boolean"}.get(kind, "object")


@dataclass
class Issues:
    """Collects problems with input rows.

    Strict (``lenient=False``): the first problem raises :class:`InputError`. Lenient: each
    problem row is recorded in :attr:`rows` (the quarantine table) and the row is left out.
    ``id_column`` is the source's own person id column: a problem in a source row names the
    person found there (or under the canonical ``person_id``).
    """

    lenient: bool = False
    rows: list[dict] = field(default_factory=list)
    id_column: str = "person_id"

    def report(
        self,
        reason: str,
        *,
        table: str,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        person_id: str | None = None,
    ) -> None:
        """Record one problem (or raise it, when strict)."""
        if not self.lenient:
            raise InputError(reason, file=file, row=row, column=column)
        self.rows.append(
            {
                "table_name": table,
                "person_id": person_id,
                "file": file,
                "row": row,
                "column": column,
                "reason": reason,
            }
        )

    def report_mask(
        self, frame: pd.DataFrame, bad: pd.Series | np.ndarray, reason: str, *, table: str
    ) -> pd.DataFrame:
        """Report every row of ``frame`` where ``bad`` is true; return the other rows.

        ``frame`` must carry the provenance columns; ``reason`` may name any column of ``frame``
        in braces (replaced by its value in that row).
        """
        bad = np.asarray(bad, dtype=bool)
        if not bad.any():
            return frame
        for rec in frame.loc[bad].to_dict("records"):
            text = reason.format(**{k: _show(v) for k, v in rec.items() if isinstance(k, str)})
            self.report(
                text,
                table=table,
                file=rec.get("_file"),
                row=_as_int(rec.get("_row")),
                column=rec.get("_column"),
                person_id=self._person_of(rec),
            )
        return frame.loc[~bad]

    def frame(self) -> pd.DataFrame:
        """The quarantine rows as a DataFrame with :data:`QUARANTINE_COLUMNS`."""
        return pd.DataFrame(self.rows, columns=QUARANTINE_COLUMNS)

    def _person_of(self, rec: dict) -> str | None:
        """The person a row belongs to, under the canonical or the source's id column."""
        for key in ("person_id", self.id_column):
            value = rec.get(key)
            if value is not None and value == value:
                return str(value)
        return None


def _show(value: object) -> str:
    """A source value in a message: dates as YYYY-MM-DD, NA as ``missing``, numbers plain."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if value is None or value is pd.NA or value is pd.NaT:
        return "missing"
    if isinstance(value, float):
        if np.isnan(value):
            return "missing"
        if value.is_integer():
            return str(int(value))
    return str(value)


def _as_int(value: object) -> int | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return int(value)  # type: ignore[arg-type]


def merge_infection_episodes(
    records: pd.DataFrame, gap_days: int = EPISODE_GAP_DAYS
) -> pd.DataFrame:
    """Collapse infection records (tests and diagnoses) into episodes.

    A record no more than ``gap_days`` days after the previous record of the same person and
    pathogen continues that episode; the episode's date is its first record's, its evidence is
    ``test`` if any record is a test, and it is hospitalised if any record is.
    """
    if records.empty:
        return records.copy()
    rec = records.sort_values(["person_id", "pathogen", "infection_date"], kind="stable")
    same = (rec["person_id"].to_numpy() == np.roll(rec["person_id"].to_numpy(), 1)) & (
        rec["pathogen"].to_numpy() == np.roll(rec["pathogen"].to_numpy(), 1)
    )
    gap = rec["infection_date"].diff().dt.days.to_numpy()
    same[0] = False
    new = ~(same & (gap <= gap_days))
    episode = np.cumsum(new)
    rec = rec.assign(_episode=episode, _is_test=(rec["evidence"] == "test").to_numpy())
    first = rec.loc[new].set_index("_episode")
    grouped = rec.groupby("_episode", sort=True)
    out = first.copy()
    out["evidence"] = np.where(grouped["_is_test"].any(), "test", "diagnosis")
    out["hospitalised"] = grouped["hospitalised"].any().astype("boolean")
    return out.drop(columns=["_is_test"]).reset_index(drop=True)


def finalize(tables: dict[str, pd.DataFrame], issues: Issues) -> dict[str, pd.DataFrame]:
    """Validate canonical tables carrying provenance; return clean tables without it.

    Checks: allowed values, one person row per id, events on known persons, follow-up present,
    start <= end, no date before the year of birth, events within follow-up. Problem rows are
    reported through ``issues``; a person whose own row or follow-up fails is left out with all
    their rows. Infection records are then merged into episodes.
    """
    tables = {name: tables.get(name, empty(name)).copy() for name in TABLES}
    for (table, column), (values_allowed, nullable) in allowed().items():
        frame = tables[table]
        values = frame[column]
        bad = ~values.isin(values_allowed) & ~(values.isna() & nullable)
        if bad.any():
            tables[table] = issues.report_mask(
                frame,
                bad,
                f"unknown {column} {{{column}}} (expected one of {', '.join(values_allowed)})",
                table=table,
            )
    tables["outcome"] = _check_outcome_values(tables["outcome"], issues)

    person = tables["person"]
    later = person["person_id"].duplicated(keep="first")
    twice = set(person.loc[later, "person_id"])
    person = issues.report_mask(person, later, "duplicate person id {person_id}", table="person")
    person = issues.report_mask(
        person,
        person["person_id"].isin(twice),
        "person id {person_id} occurs more than once",
        table="person",
    )
    person = issues.report_mask(
        person, person["birth_year"].isna(), "missing year of birth", table="person"
    )
    fu = tables["follow_up"]
    fu = issues.report_mask(
        fu, fu["person_id"].duplicated(keep=False), "more than one follow-up row", table="follow_up"
    )
    fu = fu[fu["person_id"].isin(person["person_id"])]
    no_fu = ~person["person_id"].isin(fu["person_id"])
    person = issues.report_mask(
        person, no_fu, "no follow-up for person {person_id}", table="person"
    )
    fu = fu.merge(person[["person_id", "birth_year"]], on="person_id", how="left")
    fu = issues.report_mask(
        fu,
        fu["start_date"].isna() | fu["end_date"].isna(),
        "missing start or end of follow-up",
        table="follow_up",
    )
    fu = issues.report_mask(
        fu,
        fu["end_date"].dt.year < fu["birth_year"],
        "end of follow-up {end_date} before birth (year {birth_year})",
        table="follow_up",
    )
    fu = issues.report_mask(
        fu,
        fu["end_date"] < fu["start_date"],
        "end of follow-up {end_date} before its start {start_date}",
        table="follow_up",
    )
    fu = fu.drop(columns=["birth_year"])
    person = person[person["person_id"].isin(fu["person_id"])]
    keep = set(person["person_id"])
    for name in ("person", "follow_up"):
        tables[name] = (person if name == "person" else fu).reset_index(drop=True)

    span = fu.set_index("person_id")[["start_date", "end_date"]].join(
        person.set_index("person_id")["birth_year"]
    )
    for name in ("cancer_diagnosis", *EVENT_DATES):
        tables[name] = _check_events(tables[name], name, keep, span, issues)

    tables["infection"] = merge_infection_episodes(tables["infection"])
    return {
        name: frame.drop(columns=[c for c in PROVENANCE if c in frame])[columns(name)]
        .sort_values(columns(name)[:2], kind="stable")
        .reset_index(drop=True)
        for name, frame in tables.items()
    }


def _check_outcome_values(outcome: pd.DataFrame, issues: Issues) -> pd.DataFrame:
    met = outcome["outcome_type"] == "distant_metastasis"
    bad_site = met & outcome["site"].notna() & ~outcome["site"].isin(METASTASIS_SITES)
    bad_site |= ~met & outcome["site"].notna()
    outcome = issues.report_mask(outcome, bad_site, "bad metastasis site {site}", table="outcome")
    met = outcome["outcome_type"] == "distant_metastasis"
    bad_cause = ~met & outcome["cause"].notna() & ~outcome["cause"].isin(DEATH_CAUSES)
    bad_cause |= met & outcome["cause"].notna()
    outcome = issues.report_mask(outcome, bad_cause, "bad cause of death {cause}", table="outcome")
    deaths = outcome["outcome_type"] == "death"
    dup = deaths & outcome["person_id"].where(deaths).duplicated(keep="first") & deaths
    return issues.report_mask(outcome, dup, "more than one death for {person_id}", table="outcome")


def _check_events(
    frame: pd.DataFrame, name: str, keep: set, span: pd.DataFrame, issues: Issues
) -> pd.DataFrame:
    date_col = "diagnosis_date" if name == "cancer_diagnosis" else EVENT_DATES[name]
    unknown = ~frame["person_id"].isin(keep)
    frame = issues.report_mask(
        frame, unknown, "person {person_id} not in the person table (or left out)", table=name
    )
    frame = issues.report_mask(frame, frame[date_col].isna(), "missing date", table=name)
    joined = frame.join(span, on="person_id")
    before_birth = joined[date_col].dt.year < joined["birth_year"]
    what = "death" if name == "outcome" else "date"
    frame = issues.report_mask(
        joined,
        before_birth,
        what + " {" + date_col + "} before birth (year {birth_year})",
        table=name,
    )
    if name == "cancer_diagnosis":
        after = frame[date_col] > frame["end_date"]
        frame = issues.report_mask(
            frame, after, "diagnosis {diagnosis_date} after end of follow-up {end_date}", table=name
        )
    else:
        after = frame[date_col] > frame["end_date"]
        frame = issues.report_mask(
            frame, after, "event {" + date_col + "} after end of follow-up {end_date}", table=name
        )
        before = frame[date_col] < frame["start_date"]
        frame = issues.report_mask(
            frame,
            before,
            "event {" + date_col + "} before start of follow-up {start_date}",
            table=name,
        )
    return frame.drop(columns=["start_date", "end_date", "birth_year"])
