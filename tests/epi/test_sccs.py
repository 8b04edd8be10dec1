"""Self-controlled case series against R and against hand-computed answers.

Reference: tests/data/sccs/sccs_reference.csv, made by tests/data/sccs/make_sccs_reference.R
(day-level expansion in R, then ``glm(y ~ window + age [+ season] + factor(case) +
offset(log(days)), poisson)``; the midat models also with ``survival::clogit``) on the SCCS
package's itpdat, midat, intdat and febdat (copied beside the fixtures); a live R run rechecks
the frozen file when Rscript is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.epi.outputs import ESTIMATE_COLUMNS
from reawaken.epi.sccs import fit_sccs, parse_seasons, parse_windows, split_case_series
from reawaken.errors import InputError

DATA = Path(__file__).parents[1] / "data" / "sccs"
ITP_AGE = [427, 488, 549, 610, 671]
MI_AGE = [24472, 25568, 26664, 27759]
INT_AGE = [61, 91, 121, 151, 181, 211, 241, 271, 301, 331]
BASE = dict(case="case", start="sta", end="end")


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.txt.gz", sep="\t", dtype={"dob": str})


MODELS = {
    "itp_mmr_15_35": (
        "itpdat",
        dict(event="itp", exposures=["mmr"], windows=[(15, 35)], age_groups=ITP_AGE),
    ),
    "itp_mmr_3win": (
        "itpdat",
        dict(
            event="itp",
            exposures=["mmr"],
            windows=[(0, 14), (15, 28), (29, 42)],
            age_groups=ITP_AGE,
        ),
    ),
    "mi_rti_4win": (
        "midat",
        dict(
            event="mi",
            exposures=["rti"],
            windows=[(1, 7), (8, 14), (15, 28), (29, 91)],
            age_groups=MI_AGE,
        ),
    ),
    "mi_rti_pre": (
        "midat",
        dict(
            event="mi",
            exposures=["rti"],
            windows=[(1, 7), (8, 28)],
            pre_windows=[(-7, -1)],
            age_groups=MI_AGE,
        ),
    ),
    "int_opv_season": (
        "intdat",
        dict(
            event="intus",
            exposures=["opv", "opvd2"],
            windows=[(1, 14), (15, 28)],
            age_groups=INT_AGE,
            dob="dob",
            dob_format="%d%m%Y",
            seasons=[(1, 1), (4, 1), (7, 1), (10, 1)],
        ),
    ),
}


@pytest.mark.parametrize("model", list(MODELS))
def test_equals_r_reference(model: str) -> None:
    name, options = MODELS[model]
    ref = pd.read_csv(DATA / "sccs_reference.csv")
    ref = ref[ref.model == model]
    # midat's observation is event-dependent: the standard fit is checked with the check off
    fit = fit_sccs(load(name), **BASE, **options, check_observation=name != "midat")
    assert fit.converged
    assert len(fit.terms) == len(ref)
    np.testing.assert_allclose(fit.coef, ref.coef, rtol=1e-6)
    np.testing.assert_allclose(fit.se, ref.se, rtol=1e-6)


def test_closed_form_relative_incidence() -> None:
    # all cases: observed days 1-100, exposed on day 10, window 1-10 = days 11-20 (10 days):
    # relative incidence = (events in window / 10) / (events outside / 90)
    rows = []
    events = [15, 11, 20, 50, 5, 100, 1, 21, 18]
    for i, e in enumerate(events):
        rows.append({"case": i, "sta": 1, "end": 100, "ev": e, "x": 10})
    fit = fit_sccs(pd.DataFrame(rows), **BASE, event="ev", exposures=["x"], windows=[(1, 10)])
    inside = sum(11 <= e <= 20 for e in events)
    expected = (inside / 10) / ((len(events) - inside) / 90)
    assert fit.coef[0] == pytest.approx(np.log(expected), rel=1e-10)
    # the conditional information of a single binary term: n p (1 - p), p the window's share
    p = 10 * expected / (10 * expected + 90)
    assert fit.se[0] == pytest.approx(1 / np.sqrt(len(events) * p * (1 - p)), rel=1e-9)


def test_split_conventions_are_inclusive() -> None:
    frame = pd.DataFrame(
        {"case": [1, 1], "sta": [5, 5], "end": [60, 60], "ev": [17, 18], "x": [10, 10]}
    )
    series = split_case_series(
        frame,
        **BASE,
        event="ev",
        exposures=["x"],
        windows=[(1, 7)],
        pre_windows=[(-3, -1)],
        age_groups=[30],
    )
    iv = series.intervals
    # (lo, hi] intervals: days 5-6, 7-9 (pre), 10 (exposure day), 11-17 (window), 18-29, 30-60
    assert iv[["lo", "hi"]].values.tolist() == [
        [4, 6],
        [6, 9],
        [9, 10],
        [10, 17],
        [17, 29],
        [29, 60],
    ]
    assert iv.window.tolist() == [0, 2, 0, 1, 0, 0]
    assert iv.age_group.tolist() == [0, 0, 0, 0, 0, 1]
    assert iv.events.tolist() == [0, 0, 0, 1, 1, 0]
    assert iv.length.sum() == 60 - 5 + 1
    assert series.terms == ["x[1,7]", "x[-3,-1]", "age[30,)"]


def test_overlapping_windows_most_recent_exposure_and_post_over_pre() -> None:
    frame = pd.DataFrame(
        {"case": [1, 1], "sta": [1, 1], "end": [100, 100], "ev": [40, 40], "x": [10, 20]}
    )
    series = split_case_series(
        frame,
        **BASE,
        event="ev",
        exposures=["x"],
        windows=[(1, 5), (6, 15)],
        pre_windows=[(-5, -1)],
    )
    iv = series.intervals
    day_class = {d: int(iv.window[(iv.lo < d) & (d <= iv.hi)].iloc[0]) for d in range(1, 101)}
    assert [day_class[d] for d in (5, 9, 11, 15, 16, 19, 21, 25, 26, 35, 36)] == [
        3,
        3,
        1,
        1,
        2,
        2,
        1,
        1,
        2,
        2,
        0,
    ]
    # one event counted once although it is listed with two exposures
    assert iv.events.sum() == 1


def test_season_uses_birth_date() -> None:
    # born 2001-03-30, observed ages 0-5: 2001-03-30 .. 2001-04-04; season from 04-01
    frame = pd.DataFrame(
        {"case": [1], "sta": [0], "end": [5], "ev": [3], "x": [np.nan], "dob": ["2001-03-30"]}
    )
    series = split_case_series(
        frame,
        **BASE,
        event="ev",
        exposures=["x"],
        windows=[(1, 2)],
        dob="dob",
        seasons=parse_seasons("01-01,04-01"),
    )
    iv = series.intervals
    assert iv[["lo", "hi", "season"]].values.tolist() == [[-1, 1, 0], [1, 5, 1]]
    assert iv.events.tolist() == [0, 1]


def test_row_order_does_not_matter() -> None:
    name, options = MODELS["mi_rti_pre"]
    data = load(name)
    fit = fit_sccs(data, **BASE, **options, check_observation=False)
    fit2 = fit_sccs(
        data.sample(frac=1.0, random_state=5), **BASE, **options, check_observation=False
    )
    np.testing.assert_allclose(fit2.coef, fit.coef, rtol=1e-10)


def test_parsing() -> None:
    assert parse_windows("1-7, 8-14") == [(1, 7), (8, 14)]
    assert parse_windows("-14--1") == [(-14, -1)]
    with pytest.raises(InputError, match="not a window"):
        parse_windows("1to7")
    with pytest.raises(InputError, match="ends before it starts"):
        parse_windows("7-1")
    with pytest.raises(InputError, match="MM-DD"):
        parse_seasons("13-01,01-01")


def test_bad_input_names_rows_and_terms() -> None:
    data = load("itpdat")
    opts = dict(**BASE, event="itp", exposures=["mmr"], windows=[(15, 35)])
    bad = data.copy()
    bad.loc[3, "itp"] = 800
    with pytest.raises(InputError, match=r"row 4, column 'itp'.*outside the observation"):
        fit_sccs(bad, **opts)
    bad = data.copy()
    bad.loc[1, "end"] = 300
    with pytest.raises(InputError, match=r"row 2, column 'end'.*before it starts"):
        fit_sccs(bad, **opts)
    bad = data.copy()
    bad.loc[5, "sta"] = 370  # case 5 has two rows
    with pytest.raises(InputError, match=r"row 6, column 'sta'.*differs between rows of case 5"):
        fit_sccs(bad, **opts)
    with pytest.raises(InputError, match="overlap"):
        fit_sccs(data, **{**opts, "windows": [(1, 10), (5, 20)]})
    with pytest.raises(InputError, match="column 'nope'"):
        fit_sccs(data, **{**opts, "event": "nope"})


def test_window_without_events_is_na_and_the_rest_equals_r() -> None:
    # R's glm sends the 1-3 day window's coefficient towards -Inf; reawaken reports it NA and
    # the other terms equal R's
    ref = pd.read_csv(DATA / "sccs_reference.csv")
    ref = ref[ref.model == "itp_mmr_no_events"]
    options = dict(event="itp", exposures=["mmr"], windows=[(1, 3), (15, 35)], age_groups=ITP_AGE)
    fit = fit_sccs(load("itpdat"), **BASE, **options)
    assert fit.converged
    assert list(fit.not_estimable) == ["mmr[1,3]"]
    assert "no events" in fit.not_estimable["mmr[1,3]"]
    table = fit.estimates()
    assert table.loc[0, ESTIMATE_COLUMNS[1:]].isna().all()
    assert list(table["status"]) == ["not estimable"] + ["estimated"] * 6
    np.testing.assert_allclose(fit.coef[1:], ref.coef[1:], rtol=1e-6)
    np.testing.assert_allclose(fit.se[1:], ref.se[1:], rtol=1e-6)


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
@pytest.mark.needs_r
@pytest.mark.slow
def test_frozen_reference_matches_live_r(tmp_path: Path) -> None:
    subprocess.run(
        ["Rscript", str(DATA / "make_sccs_reference.R"), str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=DATA.parents[2],
    )
    live = pd.read_csv(tmp_path / "sccs_reference.csv")
    pd.testing.assert_frame_equal(live, pd.read_csv(DATA / "sccs_reference.csv"), rtol=1e-10)


def test_cli_matches_reference(tmp_path: Path) -> None:
    src = tmp_path / "itp.csv"
    load("itpdat").to_csv(src, index=False)
    out = tmp_path / "out"
    code = main(
        [
            "fit",
            "sccs",
            "--data",
            str(src),
            "--case",
            "case",
            "--start",
            "sta",
            "--end",
            "end",
            "--event",
            "itp",
            "--exposure",
            "mmr",
            "--windows",
            "15-35",
            "--age-groups",
            ",".join(map(str, ITP_AGE)),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    est = pd.read_csv(out / "estimates.csv")
    assert list(est.columns) == ["term", "coef", "se", "ratio", "ci_lower", "ci_upper", "p_value"]
    ref = pd.read_csv(DATA / "sccs_reference.csv")
    ref = ref[ref.model == "itp_mmr_15_35"]
    np.testing.assert_allclose(est.coef, ref.coef, rtol=1e-6)
    np.testing.assert_allclose(est.ratio, np.exp(ref.coef), rtol=1e-6)
    fit = json.loads((out / "fit.json").read_text())
    assert fit["converged"] and fit["events"] == 44
    assert fit["cases"] in (35, None)  # 44 - 35 = 9 repeated events: hidden where suppressed
    observation = fit["assumption_diagnostics"]["observation"]
    assert observation["interval_days"] == 30 and observation["share_limit"] == 0.1
    assert observation["event_dependent"] is False


def test_cli_pre_window_and_seasons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "int.csv"
    load("intdat").to_csv(src, index=False)  # dob as text with its leading zeros
    out = tmp_path / "out"
    code = main(
        [
            "fit",
            "sccs",
            "--data",
            str(src),
            "--case",
            "case",
            "--start",
            "sta",
            "--end",
            "end",
            "--event",
            "intus",
            "--exposure",
            "opv,opvd2",
            "--windows",
            "1-14,15-28",
            "--age-groups",
            ",".join(map(str, INT_AGE)),
            "--dob",
            "dob",
            "--dob-format",
            "%d%m%Y",
            "--seasons",
            "01-01,04-01,07-01,10-01",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    ref = pd.read_csv(DATA / "sccs_reference.csv")
    ref = ref[ref.model == "int_opv_season"]
    np.testing.assert_allclose(pd.read_csv(out / "estimates.csv").coef, ref.coef, rtol=1e-6)
    # midat's observation ends soon after the infarction (death): refused, the extension named
    src = tmp_path / "mi.csv"
    load("midat").to_csv(src, index=False)
    args = ["--case", "case", "--start", "sta", "--end", "end", "--event", "mi"]
    args += ["--exposure", "rti", "--windows", "1-7,8-28", "--pre-window", "-7--1"]
    code = main(["fit", "sccs", "--data", str(src), *args, "--out", str(tmp_path / "mi")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "observation ends within 30 days after the event for 24% of the 940 cases" in err
    assert "--event-dependent --censored COLUMN" in err
    assert not (tmp_path / "mi").exists()


def test_cli_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = load("itpdat")
    data.loc[2, "itp"] = 100
    src = tmp_path / "bad.csv"
    data.to_csv(src, index=False)
    args = [
        "fit",
        "sccs",
        "--data",
        str(src),
        "--case",
        "case",
        "--start",
        "sta",
        "--end",
        "end",
        "--event",
        "itp",
        "--exposure",
        "mmr",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main([*args, "--windows", "15-35"]) == 2
    assert "row 3, column 'itp'" in capsys.readouterr().err
    assert main([*args, "--windows", "15to35"]) == 2
    assert main([*args, "--windows", "15-35", "--age-groups", "500,x"]) == 2
    assert not (tmp_path / "o").exists()
