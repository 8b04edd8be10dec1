"""Cox model equal to R's survival::coxph (3.5-3) to 1e-6 relative.

Fixtures: tests/data/cox/coxph_coef.csv, coxph_fit.csv and coxzph.csv, made by
tests/data/cox/make_reference.R from tests/data/survival/{heart,jasa1,lung,veteran}.csv (copies
of R survival's data sets, see the README.md there), e.g. for the heart model::

    coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart)

the six Kalbfleisch-Prentice models on jasa1 (survival's tests/jasa.R), e.g.::

    coxph(Surv(start, stop, event) ~ (age + surgery) * transplant, jasa1, method = "breslow")

lung with its one missing ph.ecog (R: "1 observation deleted due to missingness") and veteran
with strata::

    coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung)
    coxph(Surv(time, status) ~ trt + karno + age + strata(celltype), data = veteran)

and the proportional-hazards test of each, ``cox.zph(fit, transform = "km")`` (and other
transforms for some).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from reawaken.epi.cox import cox_zph, fit_cox
from reawaken.errors import InputError
from reference_data import SURVIVAL

DATA = Path(__file__).resolve().parents[1] / "data" / "cox"
COEF = pd.read_csv(DATA / "coxph_coef.csv")
FITS = pd.read_csv(DATA / "coxph_fit.csv").set_index("model")
ZPH = pd.read_csv(DATA / "coxzph.csv")


def heart() -> pd.DataFrame:
    frame = pd.read_csv(SURVIVAL / "heart.csv")
    frame["w"] = 1 + (frame["id"] % 4) / 4
    frame["wi"] = 1 + frame["id"] % 3
    return frame


def jasa1() -> pd.DataFrame:
    return pd.read_csv(SURVIVAL / "jasa1.csv")


def right_censored(name: str) -> pd.DataFrame:
    """R's lung or veteran, Surv(time, status), as intervals (0, time] with a 0/1 event."""
    frame = pd.read_csv(SURVIVAL / f"{name}.csv")
    return frame.assign(
        start=0.0, stop=frame["time"], event=frame["status"] == frame["status"].max()
    )


def model_options(model: str) -> dict:
    """fit_cox options reproducing the R model of the fixture row ``model``."""
    fit = FITS.loc[model]
    options: dict = {"ties": fit["ties"], "covariates": list(COEF[COEF.model == model].term)}
    if "cluster" in model:
        options["cluster"] = "id"
    if "strata" in model:
        options["strata"] = "celltype" if model.startswith("veteran") else "surgery"
    if isinstance(fit["weights"], str):
        options["weights"] = fit["weights"]
    return options


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


TOL = 1e-6


def _data(model: str) -> pd.DataFrame:
    if model.startswith(("lung", "veteran")):
        return right_censored(model.split("_")[0])
    return jasa1() if model.startswith("kp") else heart()


def _check(result, model: str) -> None:
    ref = COEF[COEF.model == model]
    fit = FITS.loc[model]
    assert result.terms == list(ref.term)
    assert rel(result.coef, ref.coef) < TOL
    assert rel(result.naive_se, ref.se) < TOL
    assert rel(result.loglik, fit.loglik) < TOL
    assert rel(result.loglik_null, fit.loglik_null) < TOL
    assert result.iterations == fit.iter
    assert result.converged
    assert result.n == fit.n and result.events == fit.nevent
    assert result.robust == bool(fit.robust)
    if result.robust:
        assert rel(result.se, ref.robust_se) < TOL
        assert rel(result.robust_score_test, fit.rscore) < TOL
    assert rel(result.wald_test, fit.wald) < TOL
    assert rel(result.score_test, fit.score) < TOL
    assert rel(result.lr_test, fit.lrt) < TOL
    assert result.missing["rows_deleted"] == fit.deleted
    # p-values and interval limits as summary(fit) prints them (robust se when R uses it)
    table = result.estimates()
    assert rel(table.p_value, ref.p) < TOL
    assert rel(table.ci_lower, ref.lower) < TOL
    assert rel(table.ci_upper, ref.upper) < TOL


@pytest.mark.parametrize("model", list(FITS.index))
def test_equals_r_coxph(model):
    result = fit_cox(
        _data(model), start="start", stop="stop", event="event", **model_options(model)
    )
    _check(result, model)


@pytest.mark.parametrize("model", ["heart_cluster", "kp5"])
def test_polars_input_gives_the_same_fit(model):
    result = fit_cox(
        pl.from_pandas(_data(model)),
        start="start",
        stop="stop",
        event="event",
        **model_options(model),
    )
    _check(result, model)


def test_estimates_table_from_r_values():
    result = fit_cox(
        heart(), start="start", stop="stop", event="event", **model_options("heart_cluster")
    )
    table = result.estimates()
    ref = COEF[COEF.model == "heart_cluster"]
    assert list(table.columns) == ["term", "coef", "se", "ratio", "ci_lower", "ci_upper", "p_value"]
    np.testing.assert_allclose(table["ratio"], np.exp(ref.coef), rtol=TOL)
    # R: summary(fit)$conf.int uses the robust se when a cluster is given
    np.testing.assert_allclose(
        table["ci_lower"], np.exp(ref.coef - 1.959963984540054 * ref.robust_se), rtol=TOL
    )


ZPH_CASES = sorted(set(zip(ZPH["model"], ZPH["transform"], strict=True)))


@pytest.mark.parametrize(("model", "transform"), ZPH_CASES)
def test_proportional_hazards_test_equals_r_cox_zph(model, transform):
    result = fit_cox(
        _data(model), start="start", stop="stop", event="event", **model_options(model)
    )
    ref = ZPH[(ZPH["model"] == model) & (ZPH["transform"] == transform)]
    table = cox_zph(result, transform=transform)
    assert list(table.term) == list(ref.term)
    assert list(table.df) == list(ref.df)
    assert rel(table.chisq, ref.chisq) < TOL
    assert rel(table.p, ref.p) < TOL
    if transform == "km":  # the default, written to fit.json
        written = result.summary()["proportional_hazards"]
        assert written["transform"] == "km"
        assert pd.DataFrame(written["table"]).equals(table)


def test_lung_drops_the_row_with_missing_ph_ecog_as_r():
    """R: coxph(Surv(time, status) ~ age + sex + ph.ecog, lung) prints "(1 observation deleted
    due to missingness)" and fits the 227 complete rows; the strict rule refuses row 14."""
    result = fit_cox(
        _data("lung"),
        start="start",
        stop="stop",
        event="event",
        covariates=["age", "sex", "ph.ecog"],
    )
    assert result.n == 227 and result.missing == {
        "rows_deleted": 1,
        "by_variable": {"ph.ecog": 1},
    }
    with pytest.raises(InputError, match="row 14.*ph.ecog|ph.ecog.*row 14"):
        fit_cox(
            _data("lung"),
            start="start",
            stop="stop",
            event="event",
            covariates=["age", "sex", "ph.ecog"],
            missing="error",
        )


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_frozen_fixtures_match_live_r(tmp_path):
    """R rewrites the three fixtures: coefficients, p-values and limits; log-likelihoods,
    iterations and tests; cox.zph."""
    subprocess.run(
        ["Rscript", str(DATA / "make_reference.R"), str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=DATA.parents[2],
    )
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "coxph_coef.csv"), COEF, rtol=1e-12)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "coxph_fit.csv").set_index("model"), FITS, rtol=1e-12
    )
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "coxzph.csv"), ZPH, rtol=1e-12)
