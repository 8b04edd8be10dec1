"""What the importers share: what an import asks for (:class:`Extract`), finding a source's
tables, checking columns, parsing fields, the person rows, follow-up (:func:`follow_up_table`),
building canonical rows with their provenance, and the tables an importer hands back
(:func:`source_tables`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken import pathogens
from reawaken.cohort.schema import Issues
from reawaken.errors import InputError
from reawaken.io import read_table

SUFFIXES = (".csv", ".tsv", ".parquet")
COVID_19 = "U07.1"  # ICD-10: COVID-19, virus identified


def covid_pathogen() -> str:
    """The pathogen of COVID-19 in the pathogen table: the one whose ICD-10 codes hold U07.1."""
    found = pathogens.of_icd10(COVID_19)
    if found is None:
        raise InputError(f"no pathogen in the pathogen table has ICD-10 code {COVID_19}")
    return found.id


@dataclass(frozen=True)
class Extract:
    """What an importer is asked to read (the argument of a source's ``read``).

    Parameters
    ----------
    path : pathlib.Path
        The extract: a folder with one file per table (for OMOP also a DuckDB file).
    issues : reawaken.cohort.schema.Issues
        Where bad rows are reported (strict: the first raises; lenient: quarantined). Its
        ``id_column`` is the source's person id column.
    censor_date : pandas.Timestamp, optional
        End follow-up at this date; later records are left out and counted.
    concepts : pathlib.Path, optional
        A folder of concept files whose rows are added to the packaged concept sets.
    """

    path: Path
    issues: Issues
    censor_date: pd.Timestamp | None = None
    concepts: Path | None = None

    def table(self, name: str, columns: list[str], *, required: bool = True) -> pd.DataFrame | None:
        """Table ``name`` of the extract folder with ``columns`` checked and the person ids as
        text (None when an optional table is absent)."""
        return load_table(self.path, name, columns, self.issues.id_column, required=required)


@dataclass
class SourceTables:
    """What an importer returns: canonical tables with provenance, and how follow-up was cut.

    ``censor_date`` is the date follow-up was cut at (None if the source's own ends applied);
    ``n_after_censor`` counts records dated after it, which were left out.
    """

    tables: dict[str, pd.DataFrame]
    censor_date: pd.Timestamp | None = None
    n_after_censor: int = 0
    notes: list[str] = field(default_factory=list)


def load_table(
    folder: Path, name: str, columns: list[str], id_column: str, *, required: bool = True
) -> pd.DataFrame | None:
    """Table ``name`` of ``folder`` with its ``columns`` checked and ids as text (None when an
    optional table is absent)."""
    path = find_table(folder, name, required=required)
    if path is None:
        return None
    frame = read_source_table(path)
    require_columns(frame, columns, path)
    frame[id_column] = as_text(frame[id_column])
    return frame


def find_table(folder: Path, name: str, *, required: bool = True) -> Path | None:
    """The file for table ``name`` in ``folder`` (``name.csv|.tsv|.parquet``, any letter case)."""
    if not folder.is_dir():
        raise InputError("not a folder of source tables", file=folder)
    hits = [
        p
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in SUFFIXES and p.stem.lower() == name.lower()
    ]
    if len(hits) > 1:
        raise InputError(
            f"more than one file for table {name}: {[p.name for p in hits]}", file=folder
        )
    if not hits:
        if required:
            raise InputError(
                f"table {name} not found (expected {name}.csv, .tsv or .parquet)", file=folder
            )
        return None
    return hits[0]


def read_source_table(path: Path) -> pd.DataFrame:
    """Read one source table; adds ``_file`` and ``_row`` (1-based data row) provenance columns."""
    frame = read_table(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame["_file"] = str(path)
    frame["_row"] = np.arange(1, len(frame) + 1)
    return frame


def require_columns(frame: pd.DataFrame, required: list[str], file: Path | str) -> None:
    """Raise InputError naming the first required column that is missing (and a near match)."""
    require_column_names([str(c) for c in frame.columns], required, file)


def require_column_names(names: list[str], required: list[str], file: Path | str) -> None:
    """Raise InputError naming the first of ``required`` not among a table's column ``names``
    (and a near match)."""
    present = [c for c in names if not c.startswith("_")]
    for column in required:
        if column not in names:
            near = difflib.get_close_matches(column, present, n=1, cutoff=0.6)
            hint = f" (found {near[0]!r}: misspelt?)" if near else ""
            raise InputError(f"missing required column{hint}", file=file, column=column)


def as_text(values: pd.Series) -> pd.Series:
    """Identifiers and codes as text: ``12.0`` -> ``'12'``, blanks -> NA."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if (whole == np.floor(whole)).all():
            values = values.astype("Int64")
    text = values.astype("string").str.strip()
    return text.where(text != "", pd.NA).astype(object).where(text.notna(), None)


def parse_dates(
    frame: pd.DataFrame,
    column: str,
    issues: Issues,
    *,
    table: str,
    required: bool = False,
) -> tuple[pd.DataFrame, pd.Series]:
    """Parse ``frame[column]`` as dates (:func:`parse_date_text`; a column of time-zone-aware
    timestamps: their dates in UTC).

    Returns the rows that parsed (blank allowed unless ``required``) and their dates. A value
    that is not a real calendar date (``2021-02-30``, ``tomorrow``) is reported.
    """
    raw = frame[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        if getattr(raw.dt, "tz", None) is not None:  # an instant: its date in UTC
            raw = raw.dt.tz_convert("UTC").dt.tz_localize(None)
        dates = raw.dt.normalize()
        text = raw.astype("string")
    else:
        text = raw.astype("string").str.strip()
        text = text.where(text != "", pd.NA)
        dates = parse_date_text(text)
    dates = dates.astype("datetime64[ns]")
    bad = dates.isna() & text.notna()
    if required:
        bad |= text.isna()
    problem = np.where(
        text.isna().to_numpy(), "missing date", "unparseable or impossible date " + text.fillna("")
    )
    keep = frame.assign(_column=column, _problem=problem)
    kept = issues.report_mask(keep, bad.to_numpy(), "{_problem}", table=table)
    return kept.drop(columns=["_problem"]), dates.loc[kept.index]


#: ISO 8601 extended date ``YYYY-MM-DD``, optionally with a time (after ``T`` or a blank:
#: ``HH:MM``, ``HH:MM:SS``, a fraction of a second) and a UTC offset (``Z``, ``+HH``,
#: ``+HH:MM``, ``+HHMM``).
ISO_DATE = (
    r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"(?:Z|[+-](?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?)?$"
)
#: ``DD/MM/YYYY`` (day and month of one or two digits).
DMY_DATE = r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$"
_TIME_LIMITS = {"H": 23, "M": 59, "S": 60, "oh": 23, "om": 59}  # ISO 8601 (60: a leap second)


def parse_date_text(text: pd.Series) -> pd.Series:
    """Dates of stripped texts (NA for blank): ISO 8601 ``YYYY-MM-DD``, the same with a time
    and perhaps a UTC offset (the date as written: ``2008-01-01T23:30:00-05:00`` is
    2008-01-01, not converted to UTC), or ``DD/MM/YYYY``; NaT for anything else (``2008``,
    ``2008-05``, ``20080101``, ``2008/05/01``, ``now``) and for a text that is not a calendar
    date or time (``2008-06-31``, ``2008-01-01 25:00``).

    Examples
    --------
    >>> texts = ["2008-01-01T23:30:00-05:00", "2008-01-01 12:00Z", "31/12/2008", "2008", "now"]
    >>> parse_date_text(pd.Series(texts, dtype="string")).dt.strftime("%Y-%m-%d").tolist()
    ['2008-01-01', '2008-01-01', '2008-12-31', nan, nan]
    """
    text = pd.Series(text, dtype="string")
    iso = text.str.extract(ISO_DATE)
    fine = pd.Series(True, index=text.index)
    for part, most in _TIME_LIMITS.items():
        value = pd.to_numeric(iso[part])
        fine &= value.isna() | (value <= most)
    day = (iso["y"] + "-" + iso["m"] + "-" + iso["d"]).where(fine)
    dmy = text.str.extract(DMY_DATE)
    day = day.fillna(dmy["y"] + "-" + dmy["m"].str.zfill(2) + "-" + dmy["d"].str.zfill(2))
    dates = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    inside = (dates >= pd.Timestamp.min) & (dates <= pd.Timestamp.max)  # pandas' ns range
    return dates.where(inside).astype("datetime64[ns]")


def report(
    frame: pd.DataFrame,
    bad: pd.Series | np.ndarray,
    reason: str,
    issues: Issues,
    *,
    table: str,
    column: str,
) -> pd.DataFrame:
    """Report the rows of ``frame`` where ``bad`` holds, as a problem in ``column``."""
    return issues.report_mask(frame.assign(_column=column), bad, reason, table=table)


def birth_years(
    frame: pd.DataFrame, ids: pd.Series, years: pd.Series, column: str, *, same_row: bool = False
) -> pd.DataFrame:
    """Year of birth per person id with where it was read (for messages): columns ``year`` and
    ``where`` (``BirthYear 1950 in Demographics.csv row 3``), first row of each id."""
    table = pd.DataFrame(
        {
            "id": ids.to_numpy(),
            "year": pd.to_numeric(years, errors="coerce").to_numpy(),
            "file": frame["_file"].to_numpy(),
            "row": frame["_row"].to_numpy(),
        }
    ).dropna(subset=["id", "year"])
    table = table.drop_duplicates("id").set_index("id")
    table["year"] = table["year"].astype(np.int64)
    table["where"] = [
        f"{column} {y} " + ("in the same row" if same_row else f"in {Path(f).name} row {r}")
        for y, f, r in zip(table["year"], table["file"], table["row"], strict=True)
    ]
    return table[["year", "where"]]


def report_death_before_birth(
    frame: pd.DataFrame,
    ids: pd.Series,
    death_year: pd.Series,
    death_text: pd.Series,
    births: pd.DataFrame,
    issues: Issues,
    *,
    column: str,
) -> tuple[pd.DataFrame, set]:
    """Report death rows dated in a year before the person's year of birth (on the death row:
    its file, row and column, with both dates); return the other rows and the persons reported.

    Strict: the first such row raises. Lenient: the row is quarantined and the caller leaves the
    person out (a person whose death cannot be placed has no follow-up to analyse).
    """
    born = ids.map(births["year"])
    bad = (death_year.notna() & born.notna() & (death_year < born)).to_numpy(dtype=bool)
    if not bad.any():
        return frame, set()
    shown = frame.assign(
        _death=death_text.astype("string").fillna("").to_numpy(),
        _birth=ids.map(births["where"]).to_numpy(),
    )
    kept = report(
        shown,
        bad,
        "death date {_death} is before birth ({_birth})",
        issues,
        table="outcome",
        column=column,
    )
    return kept.drop(columns=["_death", "_birth"]), set(ids[bad])


DATED_TABLES = (
    ("cancer_diagnosis", "diagnosis_date"),
    ("infection", "infection_date"),
    ("vaccination", "vaccination_date"),
    ("outcome", "outcome_date"),
)
"""The canonical tables whose records a censor date cuts, with their date column."""


def truncate_at(tables: dict[str, pd.DataFrame], censor: pd.Timestamp) -> int:
    """Drop event and diagnosis rows dated after ``censor`` (in place); return how many."""
    dropped = 0
    for name, column in DATED_TABLES:
        if name not in tables:
            continue
        late = tables[name][column] > censor
        dropped += int(late.sum())
        tables[name] = tables[name].loc[~late]
    return dropped


def check_persons(
    frame: pd.DataFrame,
    issues: Issues,
    *,
    id_column: str,
    year_column: str,
    year_label: str = "year of birth",
    sex_codes: tuple[str, tuple[str, ...]] | None = None,
) -> pd.DataFrame:
    """Report person rows without an id, with a sex code not among ``sex_codes`` (column,
    known codes; when given) or a year of birth that is not a whole number; return the rest.
    The ids of ``frame`` become text."""
    frame[id_column] = as_text(frame[id_column])
    frame = report(
        frame,
        frame[id_column].isna(),
        f"missing {id_column}",
        issues,
        table="person",
        column=id_column,
    )
    if sex_codes is not None:
        column, known = sex_codes
        sex = as_text(frame[column])
        frame = report(
            frame,
            ~sex.isin(list(known)) & sex.notna(),
            f"unknown sex code {{{column}}}",
            issues,
            table="person",
            column=column,
        )
    year = pd.to_numeric(frame[year_column], errors="coerce").astype(float)
    fits = np.isfinite(year) & (year.abs() <= 2**31 - 1)  # person.birth_year: 32-bit INTEGER
    return report(
        frame,
        year.isna() | ~fits | (year != np.floor(year)),
        f"bad {year_label} {{{year_column}}}",
        issues,
        table="person",
        column=year_column,
    )


def source_tables(
    tables: dict[str, pd.DataFrame],
    cut: pd.Timestamp | None,
    *,
    left_out: set | frozenset = frozenset(),
) -> SourceTables:
    """What an importer hands back: its canonical tables without the persons ``left_out`` (a
    lenient import's persons whose death cannot be placed: their rows are quarantined), records
    dated after ``cut`` left out and counted (None or NaT: nothing cut)."""
    if left_out:
        person = tables["person"]
        tables = {**tables, "person": person.loc[~person["person_id"].isin(left_out)]}
    if cut is None or pd.isna(cut):
        return SourceTables(tables)
    return SourceTables(tables, censor_date=cut, n_after_censor=truncate_at(tables, cut))
