"""Bad input to the Cox model: clear errors naming rows, columns or terms; CLI exit status 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.epi.cox import fit_cox
from reawaken.errors import InputError

COLS = dict(start="start", stop="stop", event="event")


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 1, 2, 3, 4, 5],
            "start": [0.0, 10.0, 0.0, 0.0, 0.0, 0.0],
            "stop": [10.0, 20.0, 15.0, 7.0, 30.0, 12.0],
            "event": [0, 1, 1, 0, 1, 1],
            "x": [0.5, 0.5, 1.5, -1.0, 2.0, 0.1],
            "z": [1.0, 1.0, 0.0, 1.0, 0.0, 1.0],
        }
    )


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda f: f.assign(stop=f["stop"].where(f.index != 2, 0.0)),
            r"row 3, column 'stop': stop 0 is not after start 0",
        ),
        (
            lambda f: f.assign(start=f["start"].where(f.index != 3, -1.0)),
            r"row 4, column 'start': negative time -1 \(times are days >= 0\)",
        ),
        (lambda f: f.assign(event=0), r"no events"),
        (
            lambda f: f.assign(event=f["event"].where(f.index != 0, 2)),
            r"row 1, column 'event': event 2 is not 0 or 1",
        ),
        (
            lambda f: f.assign(x=f["x"].where(f.index != 4, np.nan)),
            r"row 5, column 'x': missing value \(expected a numeric covariate value\)",
        ),
        (lambda f: f.assign(x=3.0), r"'x' is constant"),
        (lambda f: f.assign(z=2 * f["x"] + 1), r"'z' is collinear with 'x'"),
    ],
)
def test_bad_input_names_rows_or_terms(change, match):
    with pytest.raises(InputError, match=match):
        fit_cox(change(_frame()), covariates=["x", "z"], **COLS)


def test_overlapping_intervals_within_one_id_name_both_rows():
    frame = _frame()
    frame.loc[1, "start"] = 5.0  # id 1: (0, 10] and (5, 20] overlap
    with pytest.raises(InputError, match=r"overlapping intervals within one id: rows 1 and 2"):
        fit_cox(frame, covariates=["x"], id="id", **COLS)
    fit_cox(_frame(), covariates=["x"], id="id", **COLS)  # touching intervals are fine


def test_constant_within_every_stratum_is_an_error():
    frame = _frame().assign(s=lambda f: (f["z"] > 0).astype(int))
    with pytest.raises(InputError, match=r"'z' is constant \(within every stratum\)"):
        fit_cox(frame, covariates=["x", "z"], strata="s", **COLS)


def test_missing_column_and_negative_weights():
    with pytest.raises(InputError, match=r"no column 'age'"):
        fit_cox(_frame(), covariates=["age"], **COLS)
    with pytest.raises(
        InputError, match=r"row 2, column 'w': negative case weight -1 \(weights must be >= 0\)"
    ):
        fit_cox(_frame().assign(w=[1, -1, 1, 1, 1, 1]), covariates=["x"], weights="w", **COLS)
    with pytest.raises(InputError, match="ties must be one of"):
        fit_cox(_frame(), covariates=["x"], ties="exact", **COLS)


def test_cli_bad_input_exits_2_naming_file_and_rows(tmp_path, capsys):
    frame = _frame()
    frame.loc[2, "stop"] = -3.0
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    code = main(
        [
            "fit",
            "cox",
            "--data",
            str(path),
            "--start",
            "start",
            "--stop",
            "stop",
            "--event",
            "event",
            "--covariates",
            "x,z",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert f"file {path}" in err and "row 3, column 'stop': negative time -3" in err
    assert not (tmp_path / "out" / "estimates.csv").exists()
    assert pd.read_csv(path).equals(frame)  # input untouched


def test_cli_collinear_exits_2(tmp_path, capsys):
    path = tmp_path / "d.csv"
    _frame().assign(z=lambda f: -f["x"]).to_csv(path, index=False)
    code = main(
        [
            "fit",
            "cox",
            "--data",
            str(path),
            "--start",
            "start",
            "--stop",
            "stop",
            "--event",
            "event",
            "--covariates",
            "x,z",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "'z' is collinear with 'x'" in capsys.readouterr().err
