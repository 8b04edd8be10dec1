"""The import record: when it was made is this machine's local time, whatever time zone the
import's SQL works in (UTC)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_imported_at_is_local_time(tmp_path, ukb_small, zone):
    store = tmp_path / "c.duckdb"
    env = {**os.environ, "TZ": zone}
    command = [sys.executable, "-m", "reawaken.cli", "cohort", "import", "--source", "ukb"]
    subprocess.run([*command, str(ukb_small), "--db", str(store)], check=True, env=env)
    con = duckdb.connect(str(store), read_only=True)
    (stamp,) = con.execute("SELECT imported_at FROM imports").fetchone()
    con.close()
    local_now = datetime.now(ZoneInfo(zone)).replace(tzinfo=None)
    assert abs(local_now - stamp) < timedelta(minutes=10)
