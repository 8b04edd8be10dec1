"""Scratch folders (an import's spill, Spark's results): a killed process's folder is removed
by the next one, never a running process's, another machine's or another kind of file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from reawaken.cohort.engines import limit_memory
from reawaken.io import duckdb_connect, scratch_prefix

_CHILD = """
import sys, time
from pathlib import Path
from reawaken.io import scratch_prefix
folder = Path(scratch_prefix("import") + "0123abcd.tmp")
folder.mkdir()
(folder / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 4096)
print(folder, flush=True)
time.sleep(600)
"""


@pytest.fixture
def temp_root(tmp_path, monkeypatch) -> Path:
    """The system's temporary folder moved to an empty folder (for this process and its
    children)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return tmp_path


def _killed_folder() -> Path:
    """The scratch folder of a process killed (SIGKILL) while it held it."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        folder = Path(child.stdout.readline().strip())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    return folder


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_import_s_spill_is_removed_by_the_next(temp_root):
    folder = _killed_folder()
    assert folder.parent == temp_root and (folder / "duckdb_temp_storage-0.tmp").exists()
    con = duckdb_connect()
    spill = limit_memory(con, "64MiB")
    con.close()
    assert not folder.exists()
    assert Path(spill).parent == temp_root
    assert Path(spill).name.startswith("reawaken-import-")


def test_only_ended_processes_of_this_machine_lose_their_folders(temp_root):
    own = Path(scratch_prefix("spark") + "own.tmp")
    own.mkdir()
    host = own.name.split("-")[2]
    dead = _dead_pid()
    ended = temp_root / f"reawaken-engine-{host}-{dead}-ab12_x.tmp"
    elsewhere = temp_root / f"reawaken-import-other.host-{dead}-ab12.tmp"
    older = temp_root / "reawaken-import-0123456789abcdef.tmp"  # no machine, no pid
    unrelated = temp_root / f"something-{host}-{dead}-ab12.tmp"
    as_file = temp_root / f"reawaken-import-{host}-{dead}-cd34.tmp"
    for folder in (ended, elsewhere, older, unrelated):
        folder.mkdir()
        (folder / "data").write_text("kept?")
    as_file.write_text("a file, not a folder")
    scratch_prefix("import")
    assert not ended.exists()
    assert own.exists() and elsewhere.exists() and older.exists() and unrelated.exists()
    assert as_file.read_text() == "a file, not a folder"


def test_a_kind_is_lower_case_letters():
    with pytest.raises(ValueError, match="lower-case letters, not 'x-y'"):
        scratch_prefix("x-y")
