"""One vocabulary of accepted values: a setting and its option refuse a value alike, the
library naming the setting, the command line naming the option."""

from __future__ import annotations

import pytest

from reawaken.accepts import FLAG, NAME, Refused, choice, parsed, whole
from reawaken.cli import main
from reawaken.cli.estimate import settings_options
from reawaken.epi import DESIGNS, EmulationSettings
from reawaken.epi.settings import WINDOWS
from reawaken.errors import InputError

ACCEPTED = "a whole number from 1 to 20; beyond ~5 controls per case precision barely improves"


def test_a_setting_and_its_option_refuse_a_value_alike(capsys):
    with pytest.raises(InputError) as caught:
        EmulationSettings(outcome="cancer_death", exposure="any", controls=30)
    assert str(caught.value) == f"controls 30: out of range (accepted: {ACCEPTED})"
    # the option is checked before the others (in the order given): no store is needed
    assert main(["estimate", "--controls", "30", "--db", "x.duckdb", "--design", "emulation"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --controls 30: out of range (accepted: {ACCEPTED})"


def test_the_constructors_convert_and_refuse():
    assert whole(0, 9).check("n", "7") == 7 and whole(0, 9).check("n", 7.0) == 7
    for bad, reason in [("x", "not a whole number"), (7.5, "not a whole number"),
                        (True, "not a whole number"), (10, "out of range")]:  # fmt: skip
        with pytest.raises(InputError, match=f"^n {bad}: {reason} \\(accepted: a whole"):
            whole(0, 9).check("n", bad)
    assert choice(["a", "b"]).kind == '{"a", "b"}'
    with pytest.raises(InputError, match=r"^pick c: unknown \(accepted: one of a, b\)$"):
        choice(["a", "b"]).check("pick", "c")
    assert NAME.check("source", "site-a.2") == "site-a.2"
    for bad in ("", "two words", "../x", "x" * 65, 3):
        with pytest.raises(InputError, match="not a name"):
            NAME.check("source", bad)
    assert FLAG.check("on", True) is True
    with pytest.raises(InputError, match="^on yes: not true or false"):
        FLAG.check("on", "yes")
    assert WINDOWS.text(WINDOWS.check("windows", "0-30,>30")) == "0-30,>30"


def test_a_library_parser_refuses_with_its_reason():
    def parse(text: str) -> int:
        if text == "odd":
            raise InputError("odd numbers are not pairs")
        if text == "three":
            raise Refused("a word")
        return 2

    pairs = parsed("a pair", parse, bad=("odd",), example="2")
    assert pairs.check("pairs", "2") == 2
    with pytest.raises(InputError, match=r"^pairs odd: odd numbers are not pairs \(accepted"):
        pairs.check("pairs", "odd")
    with pytest.raises(InputError, match=r"^pairs three: a word \(accepted: a pair\)$"):
        pairs.check("pairs", "three")


def test_options_follow_the_registered_designs():
    options, applies = settings_options(DESIGNS)
    assert list(options)[:3] == ["outcome", "exposure", "source"]
    assert applies["controls"] == ("emulation",) and "outcome" not in applies
    assert applies["windows"] == ("cox", "sccs", "competing")
    only_cox, applies = settings_options({"cox": DESIGNS["cox"]})
    assert "controls" not in only_cox and applies == {}
