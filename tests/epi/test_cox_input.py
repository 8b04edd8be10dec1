"""Bad input to the Cox model: clear errors naming rows, columns or terms; CLI exit status 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.epi.cox import fit_cox
from reawaken.epi.tables import ESTIMATE_COLUMNS
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
        (lambda f: f.assign(x=3.0, z=1.0), r"no covariate can be estimated \('x': constant"),
    ],
)
def test_bad_input_names_rows_or_terms(change, match):
    with pytest.raises(InputError, match=match):
        fit_cox(change(_frame()), covariates=["x", "z"], missing="error", **COLS)


def _cohort(n: int = 40) -> pd.DataFrame:
    """A cohort large enough to converge: x raises the hazard, z a binary covariate."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "start": 0.0,
            "stop": np.round(rng.exponential(10 * np.exp(-0.5 * x)), 2) + 0.01,
            "event": rng.binomial(1, 0.7, n),
            "x": x,
            "z": rng.binomial(1, 0.5, n).astype(float),
        }
    )


def _without(frame: pd.DataFrame, terms: list[str], **options):
    """The fit of the terms alone, to compare with a fit where others were reported as NA."""
    return fit_cox(frame, covariates=terms, **COLS, **options)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda f: f.assign(z=3.0), "constant"),
        (lambda f: f.assign(z=2 * f["x"] + 1), "aliased: a linear combination of 'x'"),
    ],
)
def test_a_covariate_that_cannot_be_estimated_is_reported_as_na(change, reason):
    """As R's coxph: the term's numbers are NA, the others equal the fit without it."""
    frame = change(_cohort())
    fit = fit_cox(frame, covariates=["x", "z"], **COLS)
    alone = _without(frame, ["x"])
    assert fit.not_estimable == {"z": reason} and fit.df == 1
    assert fit.notes == [f"'z' cannot be estimated ({reason}): reported as NA"]
    table = fit.estimates()
    assert list(table.status) == ["estimated", "not estimable"]
    assert table.loc[1, ESTIMATE_COLUMNS[1:]].isna().all()
    np.testing.assert_allclose(
        table.loc[0, ESTIMATE_COLUMNS[1:]].astype(float),
        alone.estimates().loc[0, ESTIMATE_COLUMNS[1:]].astype(float),
        rtol=1e-12,
    )
    assert fit.loglik == pytest.approx(alone.loglik, rel=1e-12)
    assert fit.summary()["likelihood_ratio_test"]["df"] == 1


def test_missing_covariate_rows_are_left_out_unless_strict():
    frame = _frame().assign(x=_frame()["x"].where(lambda v: v.index != 4, np.nan))
    fit = fit_cox(frame, covariates=["x"], **COLS)
    complete = _without(frame.drop(index=4), ["x"])
    assert fit.n == 5 and fit.missing == {"rows_deleted": 1, "by_variable": {"x": 1}}
    np.testing.assert_allclose(fit.coef, complete.coef, rtol=1e-12)
    # the outcome is never dropped: a missing stop is an error naming its row
    with pytest.raises(InputError, match=r"row 3, column 'stop': missing value"):
        fit_cox(frame.assign(stop=frame["stop"].where(frame.index != 2)), covariates=["x"], **COLS)


def test_overlapping_intervals_within_one_id_name_both_rows():
    frame = _frame()
    frame.loc[1, "start"] = 5.0  # id 1: (0, 10] and (5, 20] overlap
    with pytest.raises(InputError, match=r"overlapping intervals within one id: rows 1 and 2"):
        fit_cox(frame, covariates=["x"], id="id", **COLS)
    fit_cox(_frame(), covariates=["x"], id="id", **COLS)  # touching intervals are fine


def test_constant_within_every_stratum_is_reported_as_na():
    frame = _cohort().assign(s=lambda f: (f["z"] > 0).astype(int))
    fit = fit_cox(frame, covariates=["x", "z"], strata="s", **COLS)
    assert fit.not_estimable == {"z": "constant within every stratum"}


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


def test_cli_collinear_is_reported_as_na(tmp_path, capsys):
    path = tmp_path / "d.csv"
    _cohort().assign(z=lambda f: -f["x"]).to_csv(path, index=False)
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
    assert code == 0
    assert "'z' cannot be estimated (aliased: a linear combination of 'x')" in (
        capsys.readouterr().err
    )
    table = pd.read_csv(tmp_path / "o" / "estimates.csv")
    assert list(table.status) == ["estimated", "not estimable"] and table.coef.isna()[1]
