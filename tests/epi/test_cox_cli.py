"""``reawaken fit cox`` writes estimates.csv and fit.json equal to R's coxph."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pandas as pd
from test_cox_reference import COEF, FITS, ZPH, rel

from reawaken.cli import NOT_CONVERGED, main
from reawaken.epi._estimable import INFINITE
from reawaken.epi.tables import ESTIMATE_COLUMNS
from reference_data import SURVIVAL

HEART = str(SURVIVAL / "heart.csv")
ARGS = [
    "fit",
    "cox",
    "--start",
    "start",
    "--stop",
    "stop",
    "--event",
    "event",
    "--covariates",
    "age,year,surgery,transplant",
]


def test_cli_cluster_model_equals_r(tmp_path, capsys):
    out = tmp_path / "fit"
    code = main([*ARGS, "--data", HEART, "--cluster", "id", "--id", "id", "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out / "estimates.csv")
    assert list(table.columns) == ESTIMATE_COLUMNS
    ref = COEF[COEF.model == "heart_cluster"]
    assert list(table.term) == list(ref.term)
    assert rel(table.coef, ref.coef) < 1e-6
    assert rel(table.se, ref.robust_se) < 1e-6
    fit = json.loads((out / "fit.json").read_text())
    r = FITS.loc["heart_cluster"]
    assert rel(fit["loglik"], r.loglik) < 1e-6 and rel(fit["loglik_null"], r.loglik_null) < 1e-6
    assert (fit["n"], fit["events"], fit["iterations"]) == (172, 75, 4)
    assert fit["converged"] is True and fit["variance"] == "robust"
    assert rel(fit["wald_test"]["statistic"], r.wald) < 1e-6
    assert rel(fit["score_test"]["statistic"], r.score) < 1e-6
    assert rel(fit["robust_score_test"]["statistic"], r.rscore) < 1e-6
    assert rel(fit["likelihood_ratio_test"]["statistic"], r.lrt) < 1e-6
    assert fit["likelihood_ratio_test"]["df"] == 4
    assert "converged=True" in capsys.readouterr().out


def test_cli_parquet_strata_breslow(tmp_path):
    path = tmp_path / "heart.parquet"
    pd.read_csv(HEART).to_parquet(path)
    out = tmp_path / "o"
    args = [a if a != "age,year,surgery,transplant" else "age,year,transplant" for a in ARGS]
    assert main([*args, "--data", str(path), "--strata", "surgery", "--out", str(out)]) == 0
    ref = COEF[COEF.model == "heart_strata"]
    assert rel(pd.read_csv(out / "estimates.csv").coef, ref.coef) < 1e-6
    out2 = tmp_path / "b"
    assert main([*ARGS, "--data", HEART, "--ties", "breslow", "--out", str(out2)]) == 0
    table = pd.read_csv(out2 / "estimates.csv")
    assert rel(table.coef, COEF[COEF.model == "heart_breslow"].coef) < 1e-6


def test_cli_non_convergence_is_reported_not_silent(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 60
    frame = pd.DataFrame(
        {
            "start": 0.0,
            "stop": rng.exponential(10, n),
            "event": rng.binomial(1, 0.6, n),
            "x": rng.normal(size=n),
        }
    )
    frame["g"] = frame["event"].astype(float)  # separation: coefficient of g is infinite
    path = tmp_path / "sep.csv"
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
            "x,g",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert err.startswith("warning:") and "g" in err
    fit = json.loads((tmp_path / "o" / "fit.json").read_text())
    assert fit["infinite_terms"] == ["g"] and fit["warnings"]
    assert fit["not_estimable"] == {"g": INFINITE}
    table = pd.read_csv(tmp_path / "o" / "estimates.csv")
    assert list(table.status) == ["estimated", "not estimable"] and table.ratio.isna()[1]


def test_cli_fit_that_did_not_converge_exits_3(tmp_path, monkeypatch, capsys):
    """Written, marked in fit.json and estimates.csv, exit status 3 (it was 0)."""
    import reawaken.epi.cox as cox

    monkeypatch.setattr(cox, "fit_cox", partial(cox.fit_cox, max_iter=1))
    out = tmp_path / "o"
    assert main([*ARGS, "--data", HEART, "--out", str(out)]) == NOT_CONVERGED
    fit = json.loads((out / "fit.json").read_text())
    assert fit["converged"] is False and "did not converge in 1 iterations" in fit["notes"][0]
    assert fit["proportional_hazards"] is None
    assert list(pd.read_csv(out / "estimates.csv").status) == ["not converged"] * 4
    assert "did not converge" in capsys.readouterr().err


def test_cli_lung_leaves_out_the_row_with_missing_ph_ecog_as_r(tmp_path, capsys):
    """R: "(1 observation deleted due to missingness)"; the strict mode refuses row 14."""
    lung = pd.read_csv(SURVIVAL / "lung.csv")
    path = tmp_path / "lung.csv"
    lung.assign(start=0, dead=(lung.status == 2).astype(int)).to_csv(path, index=False)
    args = [
        "fit",
        "cox",
        "--data",
        str(path),
        "--start",
        "start",
        "--stop",
        "time",
        "--event",
        "dead",
        "--covariates",
        "age,sex,ph.ecog",
    ]
    assert main([*args, "--out", str(tmp_path / "o")]) == 0
    assert "(1 observation deleted due to missingness; ph.ecog: 1)" in capsys.readouterr().out
    fit = json.loads((tmp_path / "o" / "fit.json").read_text())
    assert fit["n"] == FITS.loc["lung"].n == 227
    assert fit["missing"] == {"rows_deleted": 1, "by_variable": {"ph.ecog": 1}}
    table = pd.read_csv(tmp_path / "o" / "estimates.csv")
    ref = COEF[COEF.model == "lung"]
    assert rel(table.coef, ref.coef) < 1e-6 and rel(table.p_value, ref.p) < 1e-6
    zph = pd.DataFrame(fit["proportional_hazards"]["table"])
    ref = ZPH[(ZPH["model"] == "lung") & (ZPH["transform"] == "km")]
    assert rel(zph.chisq, ref.chisq) < 1e-6 and rel(zph.p, ref.p) < 1e-6
    assert main([*args, "--missing", "error", "--out", str(tmp_path / "e")]) == 2
    assert "row 14, column 'ph.ecog': missing value" in capsys.readouterr().err


def test_cli_weights_option(tmp_path):
    frame = pd.read_csv(HEART)
    frame["w"] = 1 + (frame["id"] % 4) / 4
    path = tmp_path / "hw.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "o"
    assert main([*ARGS, "--data", str(path), "--weights", "w", "--out", str(out)]) == 0
    ref = COEF[COEF.model == "heart_weights"]
    table = pd.read_csv(out / "estimates.csv")
    assert rel(table.coef, ref.coef) < 1e-6 and rel(table.se, ref.robust_se) < 1e-6
