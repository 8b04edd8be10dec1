"""Small file helpers shared by every stage: atomic writes and tabular reads with clear errors."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from reawaken.errors import InputError


def duckdb_connect(database: str | Path = ":memory:", *, read_only: bool = False):
    """A DuckDB connection without the progress bar DuckDB draws on stdout during long
    queries (a command's output stays its own)."""
    import duckdb

    con = duckdb.connect(str(database), read_only=read_only)
    con.execute("SET enable_progress_bar = false")
    return con


def write_atomic(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` through ``write(tmp_path)`` into a temporary file, then rename it in place.

    A failure leaves any earlier file at ``path`` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes owner-only files
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as CSV (no index) atomically."""
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write text atomically."""
    return write_atomic(path, lambda tmp: tmp.write_text(text))


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a .csv, .tsv or .parquet file into a DataFrame; an unreadable file is an InputError."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".tsv":
            return pd.read_csv(path, sep="\t")
        if suffix == ".csv":
            return pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read table: {exc}", file=path) from exc
    raise InputError("unsupported file type (expected .csv, .tsv or .parquet)", file=path)
