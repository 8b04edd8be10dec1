"""Where the bridge's calibrated scale comes from: the user's file written by
``reawaken bridge --write`` if there is one (``bridge_calibration.json`` beside the model's user
calibration, :func:`reawaken.model.calibrated.user_calibration_path`), else the calibration
shipped in ``data/calibration.json`` (read-only). Read at each call, as the model's is."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from reawaken.model.calibrated import read_calibration, user_calibration_path

FILE_NAME = "bridge_calibration.json"


def shipped_path() -> Path:
    """The bridge calibration shipped with the package."""
    return Path(str(resources.files("reawaken.bridge").joinpath("data", "calibration.json")))


def user_path() -> Path:
    """The user's bridge calibration file, whether it exists or not."""
    return user_calibration_path().with_name(FILE_NAME)


def path_in_use() -> Path:
    """The user's file if present, else the shipped one."""
    user = user_path()
    return user if user.is_file() else shipped_path()


def calibrated() -> dict[str, float]:
    """The calibrated values (``lesion_response``) from the file in use."""
    return read_calibration(path_in_use())
