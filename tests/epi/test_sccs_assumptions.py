"""The case series' assumptions checked, not trusted (issue 10, findings 1 to 4).

- finding 1: an outcome that ends observation is refused (or fitted by the extension when
  asked), never printed as a confident fit, and no numpy warning reaches stderr;
- finding 2: observation that ends soon after the event is refused, and every fit records the
  diagnostic in ``fit.json``;
- finding 3: rows of one case that disagree in an exposure column are refused, naming the case,
  the rows and the column; with each case's first-row exposure, ``febdat`` equals R's glm;
- finding 4: a term the data cannot inform is reported NA and the others equal the fit without
  it (and R); a fit that does not converge is marked and exits with status 3.

R references: tests/data/sccs/sccs_reference.csv (make_sccs_reference.R: glm with case fixed
effects and offset log(days) on a day-level expansion) and tests/data/sccs_eventdep
(R's SCCS::eventdepenobs).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import NOT_CONVERGED, main
from reawaken.epi.sccs import check_observation, fit_case_series, fit_sccs, split_case_series
from reawaken.errors import InputError

DATA = Path(__file__).parents[1] / "data"
FEB = dict(
    case="case",
    start="sta",
    end="end",
    event="conv",
    exposures=["mmr"],
    windows=[(0, 5), (6, 11), (12, 15)],
)


def reference(model: str) -> pd.DataFrame:
    ref = pd.read_csv(DATA / "sccs" / "sccs_reference.csv")
    return ref[ref.model == model].reset_index(drop=True)


def febdat() -> pd.DataFrame:
    """R's febdat without case 484, whose only convulsion lies after its observation ends."""
    frame = pd.read_csv(DATA / "sccs" / "febdat.txt.gz", sep="\t")
    return frame[frame["case"] != 484].reset_index(drop=True)


def febdat_first() -> pd.DataFrame:
    """febdat with each case's first-row MMR age on all its rows (as the R fixture)."""
    frame = febdat()
    return frame.assign(mmr=frame.groupby("case")["mmr"].transform("first"))


def cli(frame: pd.DataFrame, tmp_path: Path, *args: str, name: str = "out") -> int:
    src = tmp_path / f"{name}.csv"
    frame.to_csv(src, index=False)
    return main(["fit", "sccs", "--data", str(src), *args, "--out", str(tmp_path / name)])


FEB_ARGS = ("--case", "case", "--start", "sta", "--end", "end", "--event", "conv")
FEB_ARGS += ("--exposure", "mmr", "--windows", "0-5,6-11,12-15")


# ----- finding 3: one exposure value per case column -------------------------------------


def test_febdat_first_row_exposure_equals_r_glm() -> None:
    ref = reference("feb_mmr_first")
    fit = fit_sccs(febdat_first(), **FEB, age_groups=[457, 548, 639])
    assert fit.converged and fit.cases == 893 and fit.events == 987
    np.testing.assert_allclose(fit.coef, ref.coef, rtol=1e-6)
    np.testing.assert_allclose(fit.se, ref.se, rtol=1e-6)


def test_raw_febdat_is_refused_naming_case_rows_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # case 14 has two convulsions, listed with MMR ages 381 and 380: not two doses
    with pytest.raises(InputError) as err:
        fit_sccs(febdat(), **FEB)
    message = str(err.value)
    assert message.startswith("row 15, column 'mmr': case 14 has mmr 381 here and 380 on row 16")
    assert "--" not in message
    assert cli(febdat(), tmp_path, *FEB_ARGS) == 2
    stderr = capsys.readouterr().err.strip()
    assert len(stderr.splitlines()) == 1 and "case 14 has mmr 381 here and 380 on row 16" in stderr
    assert not (tmp_path / "out").exists()


def test_stacked_layout_with_several_exposures_per_event_is_kept() -> None:
    # one event listed once with each of two exposures (midat's layout) is one case, two doses
    frame = pd.DataFrame(
        {"case": [1, 1, 2], "sta": 0, "end": 99, "ev": [30, 30, 50], "x": [20, 60, 45]}
    )
    series = split_case_series(
        frame, case="case", start="sta", end="end", event="ev", exposures=["x"], windows=[(0, 9)]
    )
    assert series.intervals["events"].sum() == 2
    assert series.intervals.query("case == 1")["window"].tolist() == [0, 1, 0, 1, 0]


def test_start_or_end_differing_names_both_rows() -> None:
    frame = febdat_first()
    frame.loc[15, "end"] = 700  # case 14's second row
    with pytest.raises(InputError, match=r"row 16, column 'end'.*case 14: 700 here, 730 on row 15"):
        fit_sccs(frame, **FEB)


# ----- finding 4: terms the data cannot inform --------------------------------------------


def test_empty_first_age_group_is_na_and_the_rest_equals_r_and_the_fit_without_it(
    tmp_path: Path,
) -> None:
    # every observation starts on day 366 or later: the age group before 366 has no
    # person-time, so 366-548 becomes the reference (R's first level present) and is NA
    ref = reference("feb_mmr_empty_age")
    fit = fit_sccs(febdat_first(), **FEB, age_groups=[366, 549])
    assert fit.converged and fit.iterations < 10
    assert list(fit.not_estimable) == ["age[366,548]"]
    estimated = [0, 1, 2, 4]
    np.testing.assert_allclose(fit.coef[estimated], ref.coef, rtol=1e-6)
    np.testing.assert_allclose(fit.se[estimated], ref.se, rtol=1e-6)
    without = fit_sccs(febdat_first(), **FEB, age_groups=[549])
    np.testing.assert_allclose(fit.coef[estimated], without.coef, rtol=1e-12)
    np.testing.assert_allclose(fit.se[estimated], without.se, rtol=1e-12)
    # the command line: converged, the row empty and marked, a note; exit 0
    assert cli(febdat_first(), tmp_path, *FEB_ARGS, "--age-groups", "366,549") == 0
    table = pd.read_csv(tmp_path / "out" / "estimates.csv")
    row = table[table["term"] == "age[366,548]"].iloc[0]
    assert row[["coef", "se", "ratio", "ci_lower", "ci_upper", "p_value"]].isna().all()
    assert row["status"] == "not estimable"
    assert (table.loc[table["term"] != "age[366,548]", "status"] == "estimated").all()
    summary = json.loads((tmp_path / "out" / "fit.json").read_text())
    assert summary["converged"] is True
    assert any("age[366,548]" in note for note in summary["notes"])


def test_aliased_age_group_is_na_and_the_rest_equals_the_fit_without_it() -> None:
    # every case exposed on day 500: the window 0-30 and the age group 500-530 are one column
    rng = np.random.default_rng(4)
    n = 200
    event = np.where(rng.random(n) < 0.3, 500 + rng.integers(0, 31, n), rng.integers(366, 731, n))
    frame = pd.DataFrame({"case": np.arange(n), "sta": 366, "end": 730, "ev": event, "x": 500})
    options = dict(case="case", start="sta", end="end", event="ev", exposures=["x"])
    fit = fit_sccs(frame, **options, windows=[(0, 30)], age_groups=[500, 531, 600])
    assert fit.converged
    assert list(fit.not_estimable) == ["age[500,530]"]
    assert "aliased" in fit.not_estimable["age[500,530]"]
    without = fit_sccs(frame, **options, windows=[(0, 30)], age_groups=[531, 600])
    np.testing.assert_allclose(fit.coef[[0, 2, 3]], without.coef, rtol=1e-10)
    np.testing.assert_allclose(fit.se[[0, 2, 3]], without.se, rtol=1e-10)


def test_window_without_events_equals_the_fit_without_its_time() -> None:
    itp = pd.read_csv(DATA / "sccs" / "itpdat.txt.gz", sep="\t")
    options = dict(case="case", start="sta", end="end", event="itp", exposures=["mmr"])
    fit = fit_sccs(itp, **options, windows=[(1, 3), (15, 35)], age_groups=[427, 488])
    series = split_case_series(itp, **options, windows=[(1, 3), (15, 35)], age_groups=[427, 488])
    outside = (series.intervals["window"] != 1).to_numpy()
    reduced = type(series)(
        intervals=series.intervals[outside].reset_index(drop=True),
        design=series.design[outside][:, 1:],
        terms=series.terms[1:],
        cases=series.cases,
    )
    without = fit_case_series(reduced)
    np.testing.assert_allclose(fit.coef[1:], without.coef, rtol=1e-10)
    np.testing.assert_allclose(fit.se[1:], without.se, rtol=1e-10)


def test_exposure_that_cannot_be_estimated_is_refused_naming_it() -> None:
    itp = pd.read_csv(DATA / "sccs" / "itpdat.txt.gz", sep="\t")
    options = dict(case="case", start="sta", end="end", event="itp", exposures=["mmr"])
    for age_groups in ([427, 488], []):  # with other terms, and as the only term
        with pytest.raises(InputError) as err:
            fit_sccs(itp, **options, windows=[(1, 3)], age_groups=age_groups)
        assert str(err.value).startswith("exposure mmr cannot be estimated: no risk window can")
        assert "mmr[1,3]: no events" in str(err.value)


def test_fit_that_does_not_converge_is_marked_and_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # every event inside the window: the relative incidence runs off to +infinity
    n = 40
    frame = pd.DataFrame(
        {"case": np.arange(n), "sta": 0, "end": 364, "ev": 100 + np.arange(n) % 20, "x": 95}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no "invalid value in sqrt"
        with pytest.warns(Warning, match="did not converge"):
            fit = fit_sccs(
                frame, case="case", start="sta", end="end", event="ev", exposures=["x"],
                windows=[(0, 30)],
            )  # fmt: skip
    assert not fit.converged
    assert (fit.estimates()["status"] == "not converged").all()
    args = ("--case", "case", "--start", "sta", "--end", "end", "--event", "ev")
    code = cli(frame, tmp_path, *args, "--exposure", "x", "--windows", "0-30")
    assert code == NOT_CONVERGED == 3
    stderr = capsys.readouterr().err
    assert "not converged" in stderr and "invalid value" not in stderr
    summary = json.loads((tmp_path / "out" / "fit.json").read_text())
    assert summary["converged"] is False
    assert any("did not converge" in note for note in summary["notes"])
    assert (pd.read_csv(tmp_path / "out" / "estimates.csv")["status"] == "not converged").all()


# ----- findings 1 and 2: observation that the event ends or shortens ------------------------


def fatal_outcome(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Cases whose observation ends with the event (a death), exposed on a uniform day."""
    rng = np.random.default_rng(seed)
    start = rng.integers(18000, 20000, n)
    event = start + rng.integers(10, 700, n)
    exposure = start + rng.integers(0, 700, n)
    return pd.DataFrame(
        {
            "case": np.arange(n),
            "sta": start,
            "end": event,
            "ev": event,
            "x": np.where(exposure <= event, exposure, np.nan),
            "died": 1,
        }
    )


OUTCOME = dict(case="case", start="sta", end="end", event="ev", exposures=["x"])
OUTCOME_ARGS = ("--case", "case", "--start", "sta", "--end", "end", "--event", "ev")
OUTCOME_ARGS += ("--exposure", "x", "--windows", "0-90,91-364")


def test_outcome_that_ends_observation_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = fatal_outcome()
    check = check_observation(frame, case="case", start="sta", end="end", event="ev")
    assert check.event_dependent and check.ended_soon == 1.0
    assert check.expected == pytest.approx(
        np.mean(np.minimum(31, frame.end - frame.sta + 1) / (frame.end - frame.sta + 1))
    )
    with pytest.raises(InputError, match="event may end or shorten observation"):
        fit_sccs(frame, **OUTCOME, windows=[(0, 90), (91, 364)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert cli(frame, tmp_path, *OUTCOME_ARGS) == 2
    stderr = capsys.readouterr().err.strip()
    assert len(stderr.splitlines()) == 1
    assert stderr.startswith(
        "error: observation ends within 30 days after the event for 100% of the 300 cases"
    )
    assert "--event-dependent --censored COLUMN" in stderr and "invalid value" not in stderr
    assert not (tmp_path / "out").exists()


def test_censored_share_above_the_limit_is_refused(tmp_path: Path) -> None:
    # febdat's ends do not follow the convulsions; an indicator saying that observation ended
    # early for one case in five is enough to refuse the standard fit
    frame = febdat_first().assign(gone=lambda f: (f["case"] % 5 == 0).astype(int))
    share = (frame.groupby("case")["gone"].first()).mean()
    options = dict(case="case", start="sta", end="end", event="conv")
    check = check_observation(frame, **options, censored="gone")
    assert check.censored == pytest.approx(share) and 0.19 < share < 0.21
    assert check.reason.startswith("observation ended early for 20% of the 893 cases:")
    assert not check_observation(frame, **options).event_dependent  # the interval rule alone
    assert cli(frame, tmp_path, *FEB_ARGS, "--censored", "gone") == 2
    assert cli(frame, tmp_path, *FEB_ARGS, name="plain") == 0  # without the indicator


def test_event_dependent_cli_equals_r_eventdepenobs(tmp_path: Path) -> None:
    # nrtdat with the call of R's help page: windows 0-7, 8-14, 15-21, 22-28 after nrt
    nrt = pd.read_csv(DATA / "sccs_eventdep" / "nrtdat.txt.gz", sep="\t")
    args = ("--case", "case", "--start", "nrt", "--end", "act", "--event", "mi")
    args += ("--exposure", "nrt", "--windows", "0-7,8-14,15-21,22-28", "--censored", "cen")
    assert cli(nrt, tmp_path, *args, "--event-dependent", name="ext") == 0
    summary = json.loads((tmp_path / "ext" / "fit.json").read_text())
    models = pd.read_csv(DATA / "sccs_eventdep" / "censoring_models.csv").query("data == 'nrtdat'")
    assert [m["model"] for m in summary["censoring_models"]] == list(models["model"])
    for entry, (loglik, aic) in zip(
        summary["censoring_models"], models[["loglik", "aic"]].to_numpy(), strict=True
    ):
        assert entry["loglik"] == pytest.approx(loglik, abs=1e-4)
        assert entry["aic"] == pytest.approx(aic, abs=1e-4)
    assert summary["censoring_model_chosen"] == "EWI"
    assert summary["assumption_diagnostics"]["observation"]["event_dependent"] is True
    ref = pd.read_csv(DATA / "sccs_eventdep" / "estimates.csv").query("data == 'nrtdat'")
    table = pd.read_csv(tmp_path / "ext" / "estimates.csv")
    np.testing.assert_allclose(table["coef"], ref["coef"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(table["se"], ref["se"], atol=1e-4, rtol=0)


def test_event_dependent_needs_the_censoring_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(fatal_outcome(), tmp_path, *OUTCOME_ARGS, "--event-dependent") == 2
    assert "--event-dependent needs --censored" in capsys.readouterr().err
