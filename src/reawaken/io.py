"""Small file helpers shared by every stage: atomic writes and tabular reads with clear errors."""

from __future__ import annotations

import os
import re
import shutil
import socket
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


_SCRATCH = re.compile(r"^reawaken-[a-z]+-(?P<host>.+)-(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.tmp$")


def scratch_prefix(kind: str) -> str:
    """The start of a scratch folder's name for ``kind`` (an import's spill, Spark's results),
    in the system's temporary folder: ``reawaken-KIND-HOST-PID-``, to which the caller adds a
    random part and ``.tmp`` (``tempfile.mkdtemp(prefix=..., suffix=".tmp")``).

    The scratch folders left by ended processes of this machine are removed first: a process
    killed before it could remove its folder (DuckDB removes its spill only when the connection
    closes; at 10^7 persons an import's spill holds gigabytes) leaves it to the next one. A
    folder of a running process, of another machine sharing the folder, or of another user
    (not removable) is left alone.

    Parameters
    ----------
    kind : str
        Lower-case letters naming what the folder holds (``import``, ``spark``, ``engine``).

    Returns
    -------
    str
        The name's start, a full path in :func:`tempfile.gettempdir`.

    Raises
    ------
    ValueError
        If ``kind`` is not lower-case letters.

    Examples
    --------
    >>> prefix = scratch_prefix("import")
    >>> Path(prefix).name.startswith("reawaken-import-")
    True
    >>> Path(prefix).name.endswith(f"-{os.getpid()}-")
    True
    """
    if not re.fullmatch(r"[a-z]+", kind):
        raise ValueError(f"a scratch kind is lower-case letters, not {kind!r}")
    host = _host()
    root = Path(tempfile.gettempdir())
    for folder in root.glob("reawaken-*.tmp"):
        found = _SCRATCH.match(folder.name)
        ended = found and found["host"] == host and not _running(int(found["pid"]))
        if ended and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    return str(root / f"reawaken-{kind}-{host}-{os.getpid()}-")


def _host() -> str:
    """This machine's name as a scratch folder's name holds it (letters, digits, dots)."""
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "localhost"


def _running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:  # not a pid this system can have
        return False
    return True


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
