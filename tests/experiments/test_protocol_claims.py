"""The mouse-lung protocol with the default (calibrated) parameters meets every claim of the
study as the issue states them. Each claim is also checked here directly from the summary, not
only through its slack function, so a wrong slack cannot hide a failure."""

import pytest

from reawaken.experiments.claims import CLAIMS, check_claims, fold, proliferating_fraction
from reawaken.experiments.protocols import MOUSE_LUNG
from reawaken.experiments.run import run_protocol
from reawaken.simulate.summary import SUMMARY_COLUMNS, summarise

ARMS = (
    "mock",
    "influenza",
    "influenza+il6_ko",
    "influenza+anti_il6",
    "influenza+cd4_depleted",
    "influenza+cd4_cd8_depleted",
    "sars-cov-2",
)


@pytest.fixture(scope="module")
def summary():
    return summarise(run_protocol(MOUSE_LUNG))


def test_protocol_has_the_papers_arms_and_days():
    assert MOUSE_LUNG.arm_names == ARMS
    assert MOUSE_LUNG.days == (0, 3, 6, 9, 15, 28, 60, 270)


def test_summary_layout(summary):
    assert list(summary.columns[: len(SUMMARY_COLUMNS)]) == SUMMARY_COLUMNS
    assert len(summary) == len(ARMS) * len(MOUSE_LUNG.days)
    assert (summary["status"] == "ok").all()
    mock = summary[summary["arm"] == "mock"]
    assert (mock["fold_vs_mock"] == 1.0).all()


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_holds(summary, claim):
    assert claim.slack(summary) >= 0, claim.text


def test_claims_directly(summary):
    f = lambda arm, day: fold(summary, arm, day)  # noqa: E731
    assert f("influenza", 3) >= 2
    assert 100 <= f("influenza", 15) <= 1000
    assert f("influenza", 60) >= 10 and f("influenza", 270) >= 10
    frac = lambda day: proliferating_fraction(summary, "influenza", day)  # noqa: E731
    assert frac(9) > frac(3) and frac(9) > frac(28)
    assert f("influenza+il6_ko", 15) <= 10
    assert f("influenza+anti_il6", 15) <= 0.5 * f("influenza", 15)
    assert 0.5 <= f("influenza+cd4_depleted", 9) / f("influenza", 9) <= 2
    assert f("influenza+cd4_depleted", 28) <= f("influenza", 28) / 5
    assert 0.5 <= f("influenza+cd4_cd8_depleted", 28) / f("influenza", 28) <= 2
    assert f("sars-cov-2", 15) >= 10
    assert check_claims(summary)["holds"].all()
