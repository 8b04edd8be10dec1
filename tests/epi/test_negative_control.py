"""The negative-control outcome other_site_metastasis: a first metastasis outside the lung, which
the study's mechanism (infection wakes dormant cells in the lung) does not raise."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reawaken.cli import main
from reawaken.cohort.store import CohortStore
from reawaken.cohort.synth_layouts import generate
from reawaken.epi import CoxSettings, run_design
from reawaken.epi import cohort_designs as designs


class Edited:
    """A cohort store whose tables are edited copies of another's."""

    def __init__(self, store: CohortStore, **tables: pd.DataFrame) -> None:
        self.path = store.path
        self._store = store
        self._tables = tables

    def __getattr__(self, name):
        if name in self._tables:
            return lambda source=None: self._tables[name].copy()
        return getattr(self._store, name)


@pytest.fixture(scope="module")
def flatiron(tmp_path_factory) -> tuple[CohortStore, dict]:
    tmp = tmp_path_factory.mktemp("flatiron")
    truth = generate("flatiron", 3000, 1, tmp / "files")
    store = CohortStore(tmp / "c.duckdb")
    store.import_source("flatiron", tmp / "files", **truth["import_options"])
    return store, truth


def _status(store, outcome: str) -> pd.Series:
    frame = designs.person_table(store, outcome).frame
    return frame.set_index("id")["status"]


def test_lung_and_other_sites_split_the_first_metastases(flatiron):
    store, truth = flatiron
    lung, other = _status(store, "lung_metastasis"), _status(store, "other_site_metastasis")
    distant = _status(store, "distant_metastasis")
    counts = truth["counts"]["outcomes"]
    assert (other == 1).sum() == counts["distant_metastasis"] - counts["lung_metastasis"] > 100
    # each first metastasis is the event of exactly one of the two site outcomes
    assert (((lung == 1) ^ (other == 1)) == (distant == 1)).all()
    # a first metastasis in the lung competes with the other sites, and death with both
    assert (other[lung == 1] == 2).all()
    assert (other[(distant == 2)] == 2).all()
    assert designs.competing_event_name("other_site_metastasis") == (
        "metastasis in the lung (or site unrecorded) or death"
    )


def test_a_first_metastasis_of_unrecorded_site_competes(flatiron):
    store, _ = flatiron
    out = store.outcome()
    met = out["outcome_type"] == "distant_metastasis"
    unsited = out.loc[met & (out["site"] == "bone"), "person_id"].iloc[:20]
    edited = out.copy()
    edited.loc[edited["person_id"].isin(unsited) & met, "site"] = None
    other = _status(Edited(store, outcome=edited), "other_site_metastasis")
    before = _status(store, "other_site_metastasis")
    ids = "flatiron/" + unsited
    assert (before[ids] == 1).all() and (other[ids] == 2).all()
    assert (other == 1).sum() == (before == 1).sum() - 20
    assert (_status(Edited(store, outcome=edited), "lung_metastasis")[ids] == 2).all()


def test_the_designs_accept_it():
    settings = CoxSettings(outcome="other_site_metastasis", exposure="any")
    assert settings.outcome in designs.OUTCOMES
    assert "other_site_metastasis" in designs.NEGATIVE_CONTROLS


@pytest.mark.slow
def test_mechanism_cohort_raises_lung_relapse_only(tmp_path):
    # ~35 s: 40,000 persons in the Flatiron layout with the bridge's mechanism planted (it
    # raises relapse in the lung only), imported; Cox and competing designs on both outcomes
    files, db = tmp_path / "mech", tmp_path / "mech.duckdb"
    synth = ["cohort", "synth", "--like", "flatiron", "--n", "40000", "--seed", "3"]
    assert main([*synth, "--effect", "mechanism", "--out", str(files)]) == 0
    assert main(["cohort", "import", "--source", "flatiron", str(files), "--db", str(db)]) == 0
    store = CohortStore(db)
    windows = "0-90,91-180,181-365,>365"
    hr = {}
    for outcome in ("lung_metastasis", "other_site_metastasis"):
        result = run_design(store, "cox", outcome=outcome, exposure="any", windows=windows)
        est = result.estimates.query("kind == 'exposure'").set_index("window")
        hr[outcome] = est[["ratio", "ci_lower", "ci_upper", "events"]]
    lung, other = hr["lung_metastasis"], hr["other_site_metastasis"]
    assert lung.loc["0-90", "ci_lower"] > 1.2  # planted: about 2-3.5 in the first 90 days
    covers = (other["ci_lower"] < 1) & (other["ci_upper"] > 1)
    assert covers.sum() >= 3, other
    assert (other["events"] >= 20).all()  # not covering 1 merely for want of events
    assert np.all(other["ratio"].between(0.7, 1.4))
    # the command line: the competing design names the negative control's competing event
    out = tmp_path / "est"
    args = ["estimate", "--db", str(db), "--design", "competing", "--out", str(out)]
    assert main([*args, "--outcome", "other_site_metastasis", "--exposure", "any"]) == 0
    curves = pd.read_csv(out / "cif.csv")
    assert set(curves["arm"]) == {
        "other_site_metastasis",
        "metastasis in the lung (or site unrecorded) or death",
    }
    fit = json.loads((out / "fit.json").read_text())
    assert fit["outcome"] == "other_site_metastasis"
    assert fit["outcome_events"] == int(
        (designs.person_table(store, "other_site_metastasis").frame["status"] == 1).sum()
    )
