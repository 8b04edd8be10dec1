"""Property: whatever an extract holds, no imported person has an event outside follow-up."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reawaken.cohort.store import read_source

DAY0 = date(1995, 1, 1)
days = st.integers(min_value=0, max_value=28 * 365)
codes = st.sampled_from(["C509", "C780", "C795", "C61", "D050", "C787"])
causes = st.sampled_from(["", "C509", "U071", "I219"])


def _d(n: int | None) -> str:
    return "" if n is None else (DAY0 + timedelta(days=n)).isoformat()


person = st.fixed_dictionaries(
    {
        "birth": st.integers(1920, 2000),
        "start": days,
        "death": st.one_of(st.none(), days),
        "cause": causes,
        "lost": st.one_of(st.none(), days),
        "registry": st.lists(st.tuples(days, codes), max_size=2),
        "tests": st.lists(
            st.tuples(days, st.sampled_from([0, 1]), st.sampled_from([0, 1])), max_size=3
        ),
    }
)


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(people=st.lists(person, min_size=1, max_size=5), censor=st.one_of(st.none(), days))
def test_no_event_outside_follow_up(people, censor):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ukb"
        folder.mkdir()
        part, tests = [], []
        for i, p in enumerate(people):
            row = {
                "eid": 100 + i,
                "p31": 0,
                "p34": p["birth"],
                "p53_i0": _d(p["start"]),
                "p40000_i0": _d(p["death"]),
                "p40001_i0": p["cause"] if p["death"] else "",
                "p191": _d(p["lost"]),
            }
            for k in range(2):
                reg = p["registry"][k] if k < len(p["registry"]) else None
                row[f"p40005_i{k}"] = _d(reg[0]) if reg else ""
                row[f"p40006_i{k}"] = reg[1] if reg else ""
            part.append(row)
            tests += [
                {"eid": 100 + i, "specdate": _d(t), "origin": o, "result": r}
                for t, r, o in p["tests"]
            ]
        pd.DataFrame(part).to_csv(folder / "participant.csv", index=False)
        pd.DataFrame(tests, columns=["eid", "specdate", "origin", "result"]).to_csv(
            folder / "covid19_result.csv", index=False
        )
        # exactly the tables an import stores (read_source is the store's validated input)
        _, tables, issues = read_source(
            "ukb", folder, lenient=True, censor_date=None if censor is None else _d(censor)
        )
        fu = tables["follow_up"].set_index("person_id")
        assert (fu["start_date"] <= fu["end_date"]).all()
        for table, column in (("infection", "infection_date"), ("outcome", "outcome_date")):
            events = tables[table].join(fu, on="person_id")
            assert events["start_date"].notna().all()
            assert (events[column] >= events["start_date"]).all()
            assert (events[column] <= events["end_date"]).all()
        deaths = tables["outcome"].query("outcome_type == 'death'")
        assert (
            deaths.set_index("person_id")["outcome_date"] == fu.loc[deaths["person_id"], "end_date"]
        ).all()
        # every person of the extract is either kept or named in the quarantine
        kept = set(tables["person"]["person_id"])
        quarantined = set(issues.frame()["person_id"].dropna())
        assert {str(100 + i) for i in range(len(people))} <= kept | quarantined
