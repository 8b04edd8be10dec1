"""Cox model equal to R's survival::coxph (3.5-3) to 1e-6 relative.

Fixtures: tests/data/cox/coxph_coef.csv and coxph_fit.csv, made by
tests/data/cox/make_reference.R from tests/data/survival/{heart,jasa1}.csv (copies of R
survival's data sets, see the README.md there), e.g. for the heart model::

    coxph(Surv(start, stop, event) ~ age + year + surgery + transplant, data = heart)

and the six Kalbfleisch-Prentice models on jasa1 (survival's tests/jasa.R), e.g.::

    coxph(Surv(start, stop, event) ~ (age + surgery) * transplant, jasa1, method = "breslow")
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from reawaken.epi.cox import fit_cox
from reference_data import SURVIVAL

DATA = Path(__file__).resolve().parents[1] / "data" / "cox"
COEF = pd.read_csv(DATA / "coxph_coef.csv")
FITS = pd.read_csv(DATA / "coxph_fit.csv").set_index("model")


def heart() -> pd.DataFrame:
    frame = pd.read_csv(SURVIVAL / "heart.csv")
    frame["w"] = 1 + (frame["id"] % 4) / 4
    frame["wi"] = 1 + frame["id"] % 3
    return frame


def jasa1() -> pd.DataFrame:
    return pd.read_csv(SURVIVAL / "jasa1.csv")


def model_options(model: str) -> dict:
    """fit_cox options reproducing the R model of the fixture row ``model``."""
    fit = FITS.loc[model]
    options: dict = {"ties": fit["ties"], "covariates": list(COEF[COEF.model == model].term)}
    if "cluster" in model:
        options["cluster"] = "id"
    if "strata" in model:
        options["strata"] = "surgery"
    if isinstance(fit["weights"], str):
        options["weights"] = fit["weights"]
    return options


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


TOL = 1e-6


def _data(model: str) -> pd.DataFrame:
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


@pytest.mark.needs_r
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not installed")
def test_frozen_fixtures_match_live_r(tmp_path):
    subprocess.run(
        ["Rscript", str(DATA / "make_reference.R"), str(tmp_path)],
        check=True,
        capture_output=True,
        cwd=DATA.parents[2],
    )
    live = pd.read_csv(tmp_path / "coxph_coef.csv")
    pd.testing.assert_frame_equal(live, COEF, rtol=1e-12)
