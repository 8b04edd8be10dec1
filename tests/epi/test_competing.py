"""Competing risks against R's cmprsk (cuminc, timepoints, crr) and survival (coxph).

Fixtures: tests/data/competing/*.csv, made by tests/data/competing/make_competing_reference.R
(``cuminc(time, event)``, ``timepoints(ci, at)``, ``crr(time, event, cbind(x1, x2, x3),
failcode = c, gtol = 1e-9)`` with ``summary()``'s p-values and limits,
``coxph(Surv(time, event == c) ~ x1 + x2 + x3)``); the live check reruns the script.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import NOT_CONVERGED, main
from reawaken.epi._estimable import INFINITE
from reawaken.epi.competing import cause_specific_cox, cif_curve, cumulative_incidence
from reawaken.epi.finegray import fine_gray, fit_fine_gray
from reawaken.errors import ConvergenceWarning, InputError

DATA = Path(__file__).parents[1] / "data" / "competing"
AT = [0, 0.5, 1, 2.5, 5, 7.25, 10, 15, 19.5, 25]
COVARIATES = ["x1", "x2", "x3"]


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"cr_{name}.csv")


@pytest.mark.parametrize("name", ["ties", "fine"])
@pytest.mark.parametrize("cause", [1, 2])
def test_cif_curve_equals_cuminc(name: str, cause: int) -> None:
    d = load(name)
    ref = pd.read_csv(DATA / "cuminc_curve.csv")
    ref = ref[(ref.data == name) & (ref.cause == cause)]
    corners = ref.iloc[2:-1:2]  # cuminc lists each jump twice; the second holds the new value
    mine = cif_curve(d.time.to_numpy(), d.event.to_numpy(), cause)
    np.testing.assert_array_equal(mine.time.to_numpy(), corners.time.to_numpy())
    np.testing.assert_allclose(mine.cif, corners.est, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(mine.variance, corners["var"], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name", ["ties", "fine"])
def test_cif_at_times_equals_timepoints(name: str) -> None:
    d = load(name)
    ref = pd.read_csv(DATA / "cuminc_timepoints.csv")
    ref = ref[ref.data == name]
    mine = cumulative_incidence(d.time.to_numpy(), d.event.to_numpy(), AT)
    merged = mine.merge(ref, on=["time", "cause"], validate="one_to_one")
    assert len(merged) == 2 * len(AT)
    np.testing.assert_array_equal(merged.cif.isna(), merged.est.isna())
    ok = merged.est.notna()
    np.testing.assert_allclose(merged.cif[ok], merged.est[ok], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(merged.variance[ok], merged["var"][ok], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(merged.ci_lower[ok], merged.lower[ok], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(merged.ci_upper[ok], merged.upper[ok], rtol=1e-9, atol=1e-14)


def test_cif_without_competing_events_is_one_minus_kaplan_meier() -> None:
    time = np.array([1.0, 2, 2, 3, 4, 4, 5, 6])
    event = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    out = cumulative_incidence(time, event, [1, 2, 3, 4, 5, 6])
    # Kaplan-Meier by hand: at risk 8, 7, 5, 4, 2 at times 1, 2, 3, 4, 5
    km = np.cumprod([7 / 8, 6 / 7, 4 / 5, 3 / 4, 1 / 2])
    np.testing.assert_allclose(out.cif.to_numpy()[:5], 1 - km)
    assert out.cif.iloc[5] == pytest.approx(1 - km[-1])
    assert (out.ci_lower <= out.cif).all() and (out.cif <= out.ci_upper).all()


def test_cif_invariants_sum_below_one_and_non_decreasing() -> None:
    rng = np.random.default_rng(7)
    time = np.ceil(rng.exponential(5, 500))
    event = rng.integers(0, 3, 500)
    out = cumulative_incidence(time, event, np.arange(0, 30))
    wide = out.pivot(index="time", columns="cause", values="cif").dropna()
    assert (wide.sum(axis=1) <= 1 + 1e-12).all()
    assert (np.diff(wide.to_numpy(), axis=0) >= -1e-15).all()


@pytest.mark.parametrize("name", ["ties", "fine"])
@pytest.mark.parametrize("cause", [1, 2])
def test_fine_gray_equals_crr(name: str, cause: int) -> None:
    d = load(name)
    ref = pd.read_csv(DATA / "crr_reference.csv")
    ref = ref[(ref.data == name) & (ref.failcode == cause)]
    fit = fit_fine_gray(d, time="time", event="event", covariates=COVARIATES, cause=cause)
    assert fit.converged
    np.testing.assert_allclose(fit.coef, ref.coef, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.se, ref.se, rtol=1e-6)
    assert fit.loglik == pytest.approx(ref.loglik.iloc[0], rel=1e-9)
    assert fit.loglik_null == pytest.approx(ref.loglik_null.iloc[0], rel=1e-9)
    # crr's own default stopping point is within 1e-4 of the maximiser
    np.testing.assert_allclose(fit.coef, ref.coef_default, atol=1e-4)
    # p-values and 95% limits as summary(crr) prints them
    table = fit.estimates()
    # (R computes p as 1 - pnorm(|z|): 0 below 1e-16, hence the absolute tolerance)
    np.testing.assert_allclose(table.p_value, ref.p, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(table.ci_lower, ref.lower, rtol=1e-6)
    np.testing.assert_allclose(table.ci_upper, ref.upper, rtol=1e-6)


def test_fine_gray_without_competing_events_is_breslow_cox() -> None:
    # no competing failures: the subdistribution is the cause-specific hazard, Breslow ties;
    # with no censoring either, psi vanishes and the sandwich is the Cox robust variance
    d = load("ties")
    d = d[d.event != 2]
    fg = fit_fine_gray(d, time="time", event="event", covariates=COVARIATES)
    cox = cause_specific_cox(d, time="time", event="event", covariates=COVARIATES, ties="breslow")
    np.testing.assert_allclose(fg.coef, cox.coef, rtol=1e-7)
    np.testing.assert_allclose(fg.information, np.linalg.inv(cox.naive_var), rtol=1e-7)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cause_specific_cox_equals_coxph(ties: str) -> None:
    ref = pd.read_csv(DATA / "cause_specific_cox.csv")
    for name in ("ties", "fine"):
        d = load(name)
        for cause in (1, 2):
            r = ref[(ref.data == name) & (ref.cause == cause) & (ref.ties == ties)]
            fit = cause_specific_cox(
                d, time="time", event="event", covariates=COVARIATES, cause=cause, ties=ties
            )
            np.testing.assert_allclose(fit.coef, r.coef, rtol=1e-6)
            np.testing.assert_allclose(fit.se, r.se, rtol=1e-6)
            assert fit.loglik == pytest.approx(r.loglik.iloc[0], rel=1e-9)


def test_fine_gray_order_and_scale_equivariance() -> None:
    d = load("ties")
    fit = fit_fine_gray(d, time="time", event="event", covariates=COVARIATES)
    shuffled = d.sample(frac=1.0, random_state=3)
    shuffled = shuffled.assign(x1=2 * shuffled.x1 + 5)
    fit2 = fit_fine_gray(shuffled, time="time", event="event", covariates=COVARIATES)
    np.testing.assert_allclose(fit2.coef * [2, 1, 1], fit.coef, rtol=1e-8)
    np.testing.assert_allclose(fit2.se * [2, 1, 1], fit.se, rtol=1e-8)


def test_fine_gray_errors_name_rows_and_columns(tmp_path: Path) -> None:
    d = load("ties")
    bad = d.copy()
    bad.loc[4, "time"] = -1.0
    with pytest.raises(InputError, match=r"row 5, column 'time'.*negative"):
        fit_fine_gray(bad, time="time", event="event", covariates=COVARIATES)
    bad = d.copy()
    bad["event"] = bad.event.astype(float)
    bad.loc[2, "event"] = 1.5
    with pytest.raises(InputError, match=r"row 3, column 'event'"):
        fit_fine_gray(bad, time="time", event="event", covariates=COVARIATES)
    with pytest.raises(InputError, match=r"column 'x9'"):
        fit_fine_gray(d, time="time", event="event", covariates=["x1", "x9"])
    with pytest.raises(InputError, match="no failures of cause 3: the failure codes present"):
        fit_fine_gray(d, time="time", event="event", covariates=COVARIATES, cause=3)
    with pytest.raises(InputError, match="no failures"):
        fine_gray(np.array([1.0, 2.0]), np.array([0, 2]), np.array([0.0, 1.0]))


def test_cause_must_be_a_failure_code_not_censoring() -> None:
    """cause=0 modelled censoring as the failure of interest."""
    d = load("ties")
    with pytest.raises(InputError, match="cause 0 is the censoring code.*present: 1, 2"):
        fit_fine_gray(d, time="time", event="event", covariates=COVARIATES, cause=0)
    with pytest.raises(InputError, match="cause 0 is the censoring code"):
        fine_gray(d.time.to_numpy(), d.event.to_numpy(), d[COVARIATES].to_numpy(), cause=0)


@pytest.mark.parametrize(
    ("extra", "covariates", "term", "reason"),
    [
        ({"k": 1.0}, ["x1", "k"], "k", "constant"),
        (
            {"x4": lambda f: f.x1 - 2 * f.x2},
            ["x1", "x2", "x4"],
            "x4",
            "aliased: a linear combination of 'x1', 'x2'",
        ),
    ],
)
def test_fine_gray_term_that_cannot_be_estimated_is_na(extra, covariates, term, reason) -> None:
    """As R reports an aliased coefficient: NA, and the others equal the fit without it."""
    d = load("ties").assign(**extra)
    fit = fit_fine_gray(d, time="time", event="event", covariates=covariates)
    alone = fit_fine_gray(
        d, time="time", event="event", covariates=[c for c in covariates if c != term]
    )
    assert fit.not_estimable == {term: reason} and fit.converged
    table = fit.estimates()
    assert table.set_index("term").loc[term, "status"] == "not estimable"
    assert np.isnan(table.set_index("term").loc[term, "ratio"])
    kept = table[table.term != term].reset_index(drop=True)
    np.testing.assert_allclose(kept.coef, alone.coef, rtol=1e-12)
    np.testing.assert_allclose(kept.se, alone.se, rtol=1e-12)


def test_fine_gray_leaves_out_rows_with_missing_covariates() -> None:
    d = load("ties")
    holes = d.assign(x2=d.x2.where(d.index % 50 != 3))  # 8 missing values
    fit = fit_fine_gray(holes, time="time", event="event", covariates=COVARIATES)
    complete = fit_fine_gray(
        d[d.index % 50 != 3], time="time", event="event", covariates=COVARIATES
    )
    assert fit.missing == {"rows_deleted": 8, "by_variable": {"x2": 8}} and fit.n == 392
    np.testing.assert_allclose(fit.coef, complete.coef, rtol=1e-12)
    with pytest.raises(InputError, match="row 4, column 'x2': missing covariate value"):
        fit_fine_gray(holes, time="time", event="event", covariates=COVARIATES, missing="error")


def test_cli_cif_and_finegray(tmp_path: Path) -> None:
    src = DATA / "cr_ties.csv"
    before = src.read_bytes()
    out = tmp_path / "out"
    assert (
        main(
            [
                "fit",
                "cif",
                "--data",
                str(src),
                "--time",
                "time",
                "--event",
                "event",
                "--at",
                "1,5,10",
                "--out",
                str(out),
                "--min-cell",
                "0",
            ]
        )
        == 0
    )
    table = pd.read_csv(out / "cif.csv")
    assert list(table.columns) == ["time", "cause", "cif", "ci_lower", "ci_upper"]
    ref = pd.read_csv(DATA / "cuminc_timepoints.csv")
    ref = ref[(ref.data == "ties") & ref.time.isin([1, 5, 10])]
    merged = table.merge(ref, on=["time", "cause"])
    assert len(merged) == len(table) == 6
    np.testing.assert_allclose(merged.cif, merged.est, rtol=1e-10)
    assert (
        main(
            [
                "fit",
                "finegray",
                "--data",
                str(src),
                "--time",
                "time",
                "--event",
                "event",
                "--covariates",
                "x1,x2,x3",
                "--out",
                str(out / "fg"),
            ]
        )
        == 0
    )
    out = out / "fg"
    est = pd.read_csv(out / "estimates.csv")
    assert list(est.columns) == ["term", "coef", "se", "ratio", "ci_lower", "ci_upper", "p_value"]
    ref = pd.read_csv(DATA / "crr_reference.csv")
    ref = ref[(ref.data == "ties") & (ref.failcode == 1)]
    np.testing.assert_allclose(est.coef, ref.coef, rtol=1e-6)
    np.testing.assert_allclose(est.ratio, np.exp(ref.coef), rtol=1e-6)
    fit = json.loads((out / "fit.json").read_text())
    assert fit["converged"] and fit["events"] == int((pd.read_csv(src).event == 1).sum())
    assert src.read_bytes() == before


def test_cli_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = load("ties")
    d.loc[6, "time"] = np.nan
    bad = tmp_path / "bad.csv"
    d.to_csv(bad, index=False)
    code = main(
        [
            "fit",
            "cif",
            "--data",
            str(bad),
            "--time",
            "time",
            "--event",
            "event",
            "--at",
            "1,5",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "row 7, column 'time'" in capsys.readouterr().err
    code = main(
        [
            "fit",
            "cif",
            "--data",
            str(bad),
            "--time",
            "time",
            "--event",
            "event",
            "--at",
            "1,x",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    code = main(
        [
            "fit",
            "finegray",
            "--data",
            str(DATA / "cr_ties.csv"),
            "--time",
            "time",
            "--event",
            "nope",
            "--covariates",
            "x1",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 2
    assert "column 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


FIXTURES = [
    "cr_ties",
    "cr_fine",
    "cuminc_timepoints",
    "cuminc_curve",
    "crr_reference",
    "cause_specific_cox",
]


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_frozen_fixtures_match_live_r(tmp_path: Path) -> None:
    """R (cmprsk's cuminc, timepoints and crr; survival's coxph) rewrites every frozen fixture:
    the data sets, the cumulative incidence, crr's estimates, p-values and limits."""
    subprocess.run(
        ["Rscript", str(DATA / "make_competing_reference.R"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for name in FIXTURES:
        live = pd.read_csv(tmp_path / f"{name}.csv")
        pd.testing.assert_frame_equal(live, pd.read_csv(DATA / f"{name}.csv"), rtol=1e-12)


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_live_crr_cross_check(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    n = 300
    x = rng.normal(size=(n, 2)).round(3)
    t = np.ceil(rng.exponential(4, n) * 2) / 2
    e = rng.integers(0, 3, n)
    pd.DataFrame({"time": t, "event": e, "a": x[:, 0], "b": x[:, 1]}).to_csv(
        tmp_path / "d.csv", index=False
    )
    script = (
        "suppressMessages(library(cmprsk)); d <- read.csv(commandArgs(TRUE)[1]);"
        "f <- crr(d$time, d$event, cbind(d$a, d$b), gtol = 1e-9, maxiter = 100);"
        "cat(format(c(f$coef, sqrt(diag(f$var))), digits = 15), sep = '\\n')"
    )
    res = subprocess.run(
        ["Rscript", "-e", script, str(tmp_path / "d.csv")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    r = np.array(res.stdout.split(), dtype=float)
    fit = fine_gray(t, e, x)
    np.testing.assert_allclose(fit.coef, r[:2], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.se, r[2:], rtol=1e-6)


def test_fine_gray_non_convergence_is_reported(tmp_path: Path) -> None:
    # a covariate that is 1 exactly for the failures of interest: the estimate runs to infinity
    d = load("ties")
    d = d.assign(sep=(d.event == 1).astype(float))
    with pytest.warns(ConvergenceWarning):
        fit = fit_fine_gray(d, time="time", event="event", covariates=["sep"], max_iter=8)
    assert not fit.converged
    src = tmp_path / "sep.csv"
    d.to_csv(src, index=False)
    out = tmp_path / "out"
    code = main(
        [
            "fit",
            "finegray",
            "--data",
            str(src),
            "--time",
            "time",
            "--event",
            "event",
            "--covariates",
            "sep,x1",
            "--out",
            str(out),
        ]
    )
    assert code == 0  # the likelihood converged; sep is reported as NA, x1 estimated
    summary = json.loads((out / "fit.json").read_text())
    assert summary["converged"] is True and summary["not_estimable"] == {"sep": INFINITE}
    assert any("sep infinite" in w for w in summary["warnings"])
    table = pd.read_csv(out / "estimates.csv")
    assert list(table.status) == ["not estimable", "estimated"] and table.coef.isna()[0]


def test_cli_fit_stopped_by_its_iteration_limit_exits_3(tmp_path, monkeypatch, capsys):
    """Written, marked in fit.json and estimates.csv, exit status 3 (it was 0)."""
    import reawaken.epi.finegray as finegray

    monkeypatch.setattr(finegray, "fit_fine_gray", partial(fit_fine_gray, max_iter=1))
    out = tmp_path / "out"
    args = ["--time", "time", "--event", "event", "--covariates", "x1,x2", "--out", str(out)]
    code = main(["fit", "finegray", "--data", str(DATA / "cr_ties.csv"), *args])
    assert code == NOT_CONVERGED
    summary = json.loads((out / "fit.json").read_text())
    assert (
        summary["converged"] is False and "did not converge in 1 iterations" in summary["notes"][0]
    )
    assert list(pd.read_csv(out / "estimates.csv").status) == ["not converged"] * 2
    assert "did not converge" in capsys.readouterr().err


def test_cli_finegray_missing_drop_and_error(tmp_path, capsys):
    """Incomplete rows are left out and counted (--missing drop, the default) or refused."""
    d = load("ties")
    src = tmp_path / "holes.csv"
    d.assign(x2=d.x2.where(d.index % 50 != 3)).to_csv(src, index=False)
    args = ["fit", "finegray", "--data", str(src), "--time", "time", "--event", "event"]
    args += ["--covariates", "x1,x2,x3"]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0
    assert "(8 observations deleted due to missingness; x2: 8)" in capsys.readouterr().out
    fit = json.loads((tmp_path / "o" / "fit.json").read_text())
    assert fit["missing"] == {"rows_deleted": 8, "by_variable": {"x2": 8}} and fit["n"] == 392
    assert main([*args, "--missing", "error", "--out", str(tmp_path / "e")]) == 2
    assert "row 4, column 'x2': missing covariate value" in capsys.readouterr().err


def test_cli_cif_shows_no_step_of_a_few_events(tmp_path: Path) -> None:
    """By default a time is shown only where each cause's events since the last time shown
    are none or at least 10: the steps times n give no small count."""
    src = DATA / "cr_fine.csv"
    data = pd.read_csv(src)
    at = "0.01,0.02,0.05,1,2,4,8,16,40"
    argv = ["fit", "cif", "--data", str(src), "--time", "time", "--event", "event", "--at", at]
    assert main([*argv, "--out", str(tmp_path / "all"), "--min-cell", "0"]) == 0
    assert main([*argv, "--out", str(tmp_path / "out")]) == 0
    full = pd.read_csv(tmp_path / "all" / "cif.csv")
    shown = pd.read_csv(tmp_path / "out" / "cif.csv")
    assert 0 < len(shown) < len(full)
    for cause, rows in shown.groupby("cause"):
        times = np.sort(data.loc[data["event"] == cause, "time"].to_numpy())
        cum = np.searchsorted(times, rows["time"].to_numpy(), side="right")
        gaps = np.diff(np.concatenate([[0], cum]))  # cif.csv holds no total to end on
        assert ((gaps == 0) | (gaps >= 10)).all(), (cause, gaps)
        kept = full[full["cause"] == cause].merge(rows, on=["time", "cause"])
        np.testing.assert_allclose(kept["cif_x"], kept["cif_y"], rtol=1e-12)
