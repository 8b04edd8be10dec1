"""Where the calibrated parameter values come from: the user's calibration file if there is
one, else the calibration shipped with the package.

``reawaken calibrate --write`` writes the user's file (:func:`user_calibration_path`:
``$XDG_DATA_HOME/reawaken/calibration.json``, or ``~/.local/share/reawaken/calibration.json``
when ``XDG_DATA_HOME`` is not set); the package's own ``data/calibration.json`` beside this
module is read-only and never written. :func:`calibrated_values` reads whichever applies at the
moment it is called: a file written in the same process is seen by the next call.
:func:`calibration_source` says which file that is, for the outputs that record it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reawaken.errors import InputError

FILE_NAME = "calibration.json"


def shipped_calibration_path() -> Path:
    """The calibration shipped with the package (read-only)."""
    return Path(str(resources.files("reawaken.model").joinpath("data", FILE_NAME)))


def user_calibration_path() -> Path:
    """The user's calibration file, whether it exists or not: ``$XDG_DATA_HOME/reawaken/``,
    else ``~/.local/share/reawaken/``, then ``calibration.json``."""
    data_home = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(data_home) if data_home else Path.home() / ".local" / "share"
    return base / "reawaken" / FILE_NAME


def calibration_path() -> Path:
    """The file the calibrated values are read from: the user's if present, else the shipped
    one."""
    user = user_calibration_path()
    return user if user.is_file() else shipped_calibration_path()


@dataclass(frozen=True)
class CalibrationSource:
    """Which calibration file is in use, as :func:`calibration_source` gives it.

    Parameters
    ----------
    path : pathlib.Path
        The file the calibrated values are read from.
    shipped : bool
        True for the calibration shipped with reawaken, False for the user's own file.
    sha256 : str
        SHA-256 of the file's content (hexadecimal), to tell calibrations apart in records.

    Examples
    --------
    >>> from reawaken.model import calibration_source
    >>> sorted(calibration_source().record())  # what run.json records
    ['path', 'sha256', 'shipped']
    """

    path: Path
    shipped: bool
    sha256: str

    def record(self) -> dict[str, object]:
        """A JSON-ready description for run records."""
        return {"path": str(self.path), "shipped": self.shipped, "sha256": self.sha256}


def calibration_source() -> CalibrationSource:
    """The calibration file the parameter sets read now, and a digest of its content.

    That is the user's file (``$XDG_DATA_HOME/reawaken/calibration.json``, else
    ``~/.local/share/reawaken/calibration.json``), written by ``reawaken calibrate --write``,
    if it exists, else the calibration shipped with reawaken.

    Returns
    -------
    CalibrationSource
        The file's path, whether it is the shipped one, and its SHA-256.

    Raises
    ------
    OSError
        If the file in use cannot be read.

    Examples
    --------
    >>> from reawaken.model import calibration_source
    >>> source = calibration_source()
    >>> source.path.name, len(source.sha256)
    ('calibration.json', 64)
    """
    path = calibration_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return CalibrationSource(path, path == shipped_calibration_path(), digest)


def calibrated_values() -> dict[str, float]:
    """Calibrated parameter values from the calibration file in use. The file (a few hundred
    bytes) is read on every call, so nothing is cached that a later write could make stale."""
    return read_calibration(calibration_path())


def read_calibration(path: str | Path) -> dict[str, float]:
    """The ``values`` of a calibration file; an unreadable file is an InputError naming it."""
    try:
        payload = json.loads(Path(path).read_text())
        return {str(k): float(v) for k, v in payload["values"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a calibration file ({exc})", file=path) from None


def calibration_command(path: str | Path) -> str:
    """The command that wrote a calibration file (its ``command``), else ``reawaken calibrate``
    for files written before calibrations recorded it."""
    try:
        command = json.loads(Path(path).read_text()).get("command")
    except (OSError, ValueError, AttributeError):
        command = None
    return command if isinstance(command, str) and command else "reawaken calibrate"
