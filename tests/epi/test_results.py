"""One contract for every ratio fit (Cox, SCCS, Fine-Gray, emulation): the same methods, the
same columns, intervals that widen with the level, and the same files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_emulation import simulate
from test_sccs import load

from reawaken.epi.cox import fit_cox
from reawaken.epi.emulation import emulate
from reawaken.epi.finegray import fit_fine_gray
from reawaken.epi.sccs import fit_sccs
from reawaken.epi.tables import ESTIMATE_COLUMNS, RatioResult
from reference_data import DATA, SURVIVAL

COMPETING = DATA / "competing"


def _cox():
    heart = pd.read_csv(SURVIVAL / "heart.csv")
    return fit_cox(heart, start="start", stop="stop", event="event",
                   covariates=["age", "year", "surgery", "transplant"])  # fmt: skip


def _sccs():
    return fit_sccs(load("itpdat"), case="case", start="sta", end="end", event="itp",
                    exposures=["mmr"], windows=[(15, 35)], age_groups=[427, 488, 549])  # fmt: skip


def _fine_gray():
    data = pd.read_csv(COMPETING / "cr_ties.csv")
    return fit_fine_gray(data, time="time", event="event", covariates=["x1", "x2", "x3"])


def _emulation():
    return emulate(simulate(3000, seed=2), match_on=["x"], bootstrap=40, seed=1)


FITS = {"cox": _cox, "sccs": _sccs, "fine-gray": _fine_gray, "emulation": _emulation}


@pytest.fixture(scope="module", params=list(FITS))
def fit(request) -> RatioResult:
    return FITS[request.param]()


def test_estimates_have_the_standard_columns_and_ratios(fit):
    assert isinstance(fit, RatioResult)
    table = fit.estimates()
    assert list(table.columns) == ESTIMATE_COLUMNS and len(table) > 0
    np.testing.assert_allclose(table["ratio"], np.exp(table["coef"]), rtol=1e-12)
    assert (table["ci_lower"] <= table["ratio"]).all() and (
        table["ratio"] <= table["ci_upper"]
    ).all()
    assert table["p_value"].between(0, 1).all() and (table["se"] > 0).all()


def test_intervals_widen_with_the_level(fit):
    narrow, wide = fit.estimates(level=0.8), fit.estimates(level=0.99)
    pd.testing.assert_series_equal(narrow["ratio"], wide["ratio"])
    assert (wide["ci_lower"] <= narrow["ci_lower"]).all()
    assert (wide["ci_upper"] >= narrow["ci_upper"]).all()
    assert (wide["ci_upper"] / wide["ci_lower"] > narrow["ci_upper"] / narrow["ci_lower"]).any()
    pd.testing.assert_frame_equal(fit.estimates(), fit.estimates(level=0.95))


def test_summary_and_files(fit, tmp_path):
    summary = fit.summary()
    assert json.loads(json.dumps(summary)) == summary
    written = fit.write(tmp_path, level=0.9, warnings=["a warning"])
    assert [p.name for p in written] == ["estimates.csv", "fit.json"]
    table = pd.read_csv(tmp_path / "estimates.csv")
    np.testing.assert_allclose(table["ci_lower"], fit.estimates(level=0.9)["ci_lower"], rtol=1e-12)
    saved = json.loads((tmp_path / "fit.json").read_text())
    assert saved["terms"] == list(table["term"]) and saved["warnings"] == ["a warning"]
    assert saved["data"] is None
    # what fit.json holds is the summary, with counts that could reveal a small one hidden
    assert _equal_or_hidden({k: saved[k] for k in summary}, summary)


def _equal_or_hidden(saved: object, summary: object) -> bool:
    """``saved`` equals ``summary`` except for values hidden (None) by suppression."""
    if saved is None:
        return True
    if isinstance(summary, dict):
        return (
            isinstance(saved, dict)
            and saved.keys() == summary.keys()
            and all(_equal_or_hidden(saved[k], summary[k]) for k in summary)
        )
    if isinstance(summary, list):
        return (
            isinstance(saved, list)
            and len(saved) == len(summary)
            and all(_equal_or_hidden(a, b) for a, b in zip(saved, summary, strict=True))
        )
    return saved == summary
