"""Fine-Gray with case weights, clusters and censoring by arm against R's survival (finegray +
coxph with cluster(), Breslow ties), and against crr where they must agree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reawaken.epi.finegray import fit_fine_gray
from reawaken.epi.finegray_weighted import finegray_rows, fit_fine_gray_weighted
from reawaken.errors import InputError

DATA = Path(__file__).parent.parent / "data" / "competing"
OPTIONS = {
    "plain": {},
    "weighted": {"weights": "w"},
    "weighted_censoring_by_arm": {"weights": "w", "censoring_strata": "arm"},
}


@pytest.mark.parametrize("name", list(OPTIONS))
def test_equals_r_finegray_and_coxph_with_cluster(name: str) -> None:
    data = pd.read_csv(DATA / "fgw_data.csv")
    ref = pd.read_csv(DATA / "fgw_reference.csv")
    ref = ref[ref["fit"] == name]
    fit = fit_fine_gray_weighted(
        data, time="time", event="event", covariates=["arm", "age"], cluster="id", **OPTIONS[name]
    )
    est = fit.estimates().set_index("term")
    np.testing.assert_allclose(est.loc[ref["term"], "coef"], ref["coef"], rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(est.loc[ref["term"], "se"], ref["se"], rtol=1e-6)
    if ref["rows"].notna().all():  # finegray's own rows: the same number
        rows = finegray_rows(data["time"].to_numpy(), data["event"].to_numpy())
        assert len(rows) == int(ref["rows"].iloc[0])


def test_without_weights_or_ties_the_coefficients_are_crr_s() -> None:
    """crr and finegray differ only in how a censoring tied with a failure is counted (crr keeps
    the failure in the censoring's risk set): on untied times they agree."""
    data = pd.read_csv(DATA / "fgw_data.csv")
    data["time"] = data["time"] - np.random.default_rng(3).uniform(0, 0.9, len(data))
    crr = fit_fine_gray(data, time="time", event="event", covariates=["arm", "age"])
    fit = fit_fine_gray_weighted(data, time="time", event="event", covariates=["arm", "age"])
    np.testing.assert_allclose(fit.estimates()["coef"], crr.estimates()["coef"], rtol=1e-8)


def test_a_duplicated_person_in_one_cluster_changes_nothing() -> None:
    """Every row twice, clustered by the original row: the same estimates and robust standard
    errors (the sandwich sees one cluster where it saw one row); unclustered, the standard
    errors shrink by about sqrt(2)."""
    data = pd.read_csv(DATA / "fgw_data.csv").reset_index(names="row")
    twice = pd.concat([data, data], ignore_index=True)
    one = fit_fine_gray_weighted(
        data, time="time", event="event", covariates=["arm", "age"], cluster="row"
    ).estimates()
    two = fit_fine_gray_weighted(
        twice, time="time", event="event", covariates=["arm", "age"], cluster="row"
    ).estimates()
    np.testing.assert_allclose(two["coef"], one["coef"], rtol=1e-9)
    np.testing.assert_allclose(two["se"], one["se"], rtol=1e-9)
    apart = fit_fine_gray_weighted(
        twice, time="time", event="event", covariates=["arm", "age"]
    ).estimates()
    np.testing.assert_allclose(apart["se"] * np.sqrt(2), one["se"], rtol=0.05)


def test_rows_keep_a_competing_failure_at_risk_with_the_censoring_weight() -> None:
    rows = finegray_rows(np.array([1.0, 2, 3, 4]), np.array([2, 0, 1, 0]))
    extra = rows[(rows["row"] == 0) & (rows["start"] > 0)]
    # at risk of censoring at day 2: the three followed to day 2 or beyond, one censored
    assert extra["weight"].tolist() == pytest.approx([2 / 3])
    assert (extra["start"].iloc[0], extra["stop"].iloc[0]) == (2.0, 4.0)


def test_bad_times_and_codes_are_refused() -> None:
    with pytest.raises(InputError, match="> 0"):
        finegray_rows(np.array([0.0, 2.0]), np.array([1, 0]))
    with pytest.raises(InputError):
        finegray_rows(np.array([1.0, 2.0]), np.array([0, 0]))  # no failure of the cause


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R not installed")
def test_frozen_fixtures_match_live_r(tmp_path: Path) -> None:
    subprocess.run(
        ["Rscript", str(DATA / "make_finegray_weighted_reference.R"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    for name in ("fgw_data", "fgw_reference"):
        live = pd.read_csv(tmp_path / f"{name}.csv")
        pd.testing.assert_frame_equal(live, pd.read_csv(DATA / f"{name}.csv"), rtol=1e-12)
