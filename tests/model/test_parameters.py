import pytest

from reawaken.errors import InputError
from reawaken.model.parameters import (
    PARAMETER_NAMES,
    PARAMETER_SET_NAMES,
    calibrated_values,
    parameter_set,
)


def test_the_four_sets_exist_and_are_complete():
    assert PARAMETER_SET_NAMES == (
        "mouse-influenza",
        "mouse-sars-cov-2",
        "human-influenza",
        "human-sars-cov-2",
    )
    for name in PARAMETER_SET_NAMES:
        table = parameter_set(name).table()
        assert tuple(table["name"]) == PARAMETER_NAMES
        assert (table["value"] >= 0).all()
        assert table["unit"].str.len().gt(0).all()
        assert table["source"].str.len().gt(0).all()
        # every parameter either cites a source or says it is assumed
        unsourced = table[~table["assumed"]]
        assert unsourced["source"].str.contains(r"\d{4}").all()


def test_calibrated_values_are_used_and_marked():
    cal = calibrated_values()
    mouse = parameter_set("mouse-influenza")
    human = parameter_set("human-influenza")
    for name, value in cal.items():
        assert mouse[name] == value
        assert "calibrated" in mouse.get(name).source
    assert "transferred from the mouse" in human.get("awakening_max").source
    assert human.get("awakening_max").assumed


def test_il6_clearance_is_of_the_order_of_an_hour():
    half_life_h = 0.6931471805599453 / parameter_set("mouse-influenza")["il6_clearance"] * 24
    assert half_life_h == pytest.approx(1.0)


def test_overrides_and_their_errors():
    base = parameter_set("mouse-influenza")
    changed = base.with_values(dcc_proliferation=0.5)
    assert changed["dcc_proliferation"] == 0.5
    assert changed.get("dcc_proliferation").source == "user override"
    with pytest.raises(InputError, match="unknown parameter 'dcc_prolif'"):
        base.with_values(dcc_prolif=1.0)
    with pytest.raises(InputError, match="negative"):
        base.with_values(dcc_proliferation=-1.0)
    with pytest.raises(InputError, match="not a number"):
        base.with_values(dcc_proliferation="fast")
    with pytest.raises(InputError, match="not finite"):
        base.with_values(dcc_proliferation=float("inf"))


def test_unknown_set_lists_known_ones():
    with pytest.raises(InputError, match="unknown parameter set 'rat-influenza'.*mouse-influenza"):
        parameter_set("rat-influenza")
