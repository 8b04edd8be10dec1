"""Synthetic cohorts of breast cancer survivors with a known, planted effect of infection.

:func:`simulate` draws one cohort in calendar time (days since 1970-01-01); the layout writers in
:mod:`reawaken.cohort.synth_layouts` write it as UK Biobank, Flatiron or OMOP files with
``truth.json`` (every generating parameter and the counts an import must reproduce).

Model (every number is in :data:`DEFAULT_PARAMS` with its unit and source, or marked assumed):

* Entry: UK Biobank at the assessment visit (diagnosis 0-15 years earlier, relapse-free and alive
  at entry); Flatiron at diagnosis; OMOP observation starts 0-1000 days before diagnosis. Age at
  diagnosis, stage (I-III) and receptors are drawn independently.
* Distant relapse: from ``max(entry, diagnosis)``, hazard per day
  ``h(t) = h_stage / 365.25 * m(t - diagnosis) * r(t - last infection)``, constant between
  breakpoints; ``m`` steps by days since diagnosis, ``r`` is the planted step function of days
  since the most recent infection with an effect pathogen (default x2 on days 0-90, x1.5 on
  91-364, x1 after). Relapse time is drawn exactly by inverting the cumulative hazard.
* Site of the first metastasis: independent draw (lung about 27%).
* Infections: each pathogen comes in waves (influenza, RSV and other respiratory infections each
  winter, SARS-CoV-2 in dated waves); in each wave a person is infected with probability
  ``1 - exp(-lambda * v)``, ``lambda = -log(1 - attack_rate)``, ``v = 1 - VE`` if vaccinated in
  time, on a day drawn around the peak; a second infection with the same pathogen within
  ``immunity_days`` is not drawn (assumed immunity). Exposure is thus confounded with calendar
  time, as in real data.
* Ascertainment: a hospitalised infection is always recorded; others with a probability by
  pathogen and calendar period. Only recorded infections reach the files.
* Deaths: other causes by a Gompertz hazard of age; COVID-19 after a SARS-CoV-2 infection with an
  age-dependent probability; cancer death after relapse at a constant hazard. Loss to follow-up
  at a constant hazard; administrative end at ``data_end``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reawaken.cohort.schema import METASTASIS_SITES, PATHOGENS
from reawaken.errors import InputError

EPOCH = np.datetime64("1970-01-01", "D")
LAYOUTS = ("ukb", "flatiron", "omop")

DEFAULT_PARAMS: dict = {
    "data_end": {"value": "2022-12-31", "source": "assumption: extract end date"},
    "age_at_diagnosis": {
        "mean": 61.0,
        "sd": 12.0,
        "min": 25.0,
        "max": 89.0,
        "unit": "years",
        "source": "assumption, after CRUK breast cancer incidence (most cases at 50-79)",
    },
    "female_fraction": {"value": 0.99, "source": "CRUK: about 1% of breast cancers in men"},
    "stage_mix": {
        "I": 0.45,
        "II": 0.40,
        "III": 0.15,
        "source": "assumption, approximate stage mix of early breast cancer (NCRAS)",
    },
    "receptors": {
        "er_positive": 0.80,
        "pr_positive_if_er_positive": 0.80,
        "pr_positive_if_er_negative": 0.05,
        "her2_positive": 0.15,
        "source": "assumption, approximate hormone-receptor and HER2 prevalence",
    },
    "relapse": {
        "annual_hazard_by_stage": {"I": 0.010, "II": 0.020, "III": 0.035},
        "unit": "per year",
        "source": "Pan et al., NEJM 2017: distant recurrence about 1-3.5% a year by stage",
        "multiplier_by_days_since_diagnosis": [
            {"start_day": 0, "end_day": 730, "ratio": 1.5},
            {"start_day": 730, "end_day": 1826, "ratio": 1.2},
        ],
        "multiplier_source": "assumption: higher hazard in the first five years",
    },
    "metastasis_site": {
        "lung": 0.27,
        "bone": 0.40,
        "liver": 0.18,
        "brain": 0.05,
        "other": 0.10,
        "source": "assumption: lung share of breast cancer metastases about 25-30%",
    },
    "infection_effect": {
        "pathogens": ["influenza", "sars-cov-2"],
        "windows": [
            {"start_day": 0, "end_day": 91, "ratio": 2.0},
            {"start_day": 91, "end_day": 365, "ratio": 1.5},
        ],
        "ratio_after": 1.0,
        "source": "planted effect (Chia et al., Nature 2025: awakening in the months after)",
    },
    "immunity_days": {"value": 120, "source": "assumption: no reinfection within 120 days"},
    "seasonal": {
        "influenza": {
            "attack_rate": 0.08,
            "peak": "01-15",
            "sd_days": 21,
            "skip_seasons": [2021],
            "source": "Somes et al., Vaccine 2018: about 8% a season; no 2020/21 season",
        },
        "rsv": {
            "attack_rate": 0.03,
            "peak": "12-15",
            "sd_days": 21,
            "skip_seasons": [2021],
            "source": "assumption",
        },
        "other-respiratory": {
            "attack_rate": 0.20,
            "peak": "11-15",
            "sd_days": 45,
            "skip_seasons": [],
            "source": "assumption",
        },
    },
    "sars_cov_2_waves": {
        "waves": [
            {"peak": "2020-04-10", "sd_days": 18, "attack_rate": 0.05},
            {"peak": "2021-01-10", "sd_days": 20, "attack_rate": 0.08},
            {"peak": "2021-07-20", "sd_days": 25, "attack_rate": 0.06},
            {"peak": "2022-01-05", "sd_days": 20, "attack_rate": 0.25},
            {"peak": "2022-07-10", "sd_days": 25, "attack_rate": 0.15},
        ],
        "source": "assumption, shaped after the English waves (ONS infection survey)",
    },
    "vaccination": {
        "influenza": {
            "coverage_under_65": 0.45,
            "coverage_65_plus": 0.75,
            "start": "10-01",
            "spread_days": 60,
            "effectiveness": 0.4,
            "source": "assumption after UKHSA uptake; VE about 40%",
        },
        "sars-cov-2": {
            "coverage": 0.9,
            "first_dose": ["2021-01-01", "2021-06-30"],
            "second_dose_gap_days": 77,
            "booster": ["2021-10-01", "2021-12-31"],
            "booster_coverage": 0.8,
            "effectiveness": 0.5,
            "protection_days": 180,
            "source": "assumption after the UK programme; VE against infection 50%",
        },
    },
    "ascertainment": {
        "sars-cov-2": [
            {"from": "2020-01-01", "to": "2020-06-30", "p": 0.10},
            {"from": "2020-07-01", "to": "2022-03-31", "p": 0.60},
            {"from": "2022-04-01", "to": "2100-01-01", "p": 0.20},
        ],
        "influenza": 0.15,
        "rsv": 0.05,
        "other-respiratory": 0.05,
        "source": "assumption: most infections are never tested; hospitalised always recorded",
    },
    "hospitalisation": {
        "p_at_60": 0.02,
        "per_year_of_age": 0.05,
        "other_ratio": 0.2,
        "source": "assumption",
    },
    "repeat_test": {"probability": 0.3, "max_gap_days": 10, "source": "assumption"},
    "other_death": {
        "log_rate_at_age_0": -11.5,
        "per_year_of_age": 0.105,
        "unit": "per year",
        "source": "assumption: Gompertz fit to ONS life tables 2017-19, females",
    },
    "covid_death": {
        "ifr_at_60": 0.005,
        "per_year_of_age": 0.08,
        "max": 0.3,
        "vaccinated_ratio": 0.3,
        "source": "assumption after Levin et al. 2020",
    },
    "cancer_death_after_relapse": {
        "annual_hazard": 0.25,
        "unit": "per year",
        "source": "assumption: median survival about 2.8 years",
    },
    "loss_to_follow_up": {
        "ukb": 0.002,
        "flatiron": 0.05,
        "omop": 0.03,
        "unit": "per year",
        "source": "assumption",
    },
}


def load_params(path: str | Path | None = None) -> dict:
    """Default parameters, updated (key by key, recursively) from a JSON file if given."""
    params = copy.deepcopy(DEFAULT_PARAMS)
    if path is None:
        return params
    try:
        update = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read parameter file: {exc}", file=path) from exc

    if not isinstance(update, dict):
        kind = "a list" if isinstance(update, list) else f"a JSON {type(update).__name__}"
        raise InputError(
            f"the parameter file holds {kind}; it must hold a JSON object of the parameters to "
            'change, e.g. {"immunity_days": {"value": 90}}',
            file=path,
        )

    def merge(base: dict, new: dict, where: str) -> None:
        for key, value in new.items():
            if key not in base:
                raise InputError(f"unknown parameter {where}{key}", file=path)
            if isinstance(value, dict) and isinstance(base[key], dict):
                merge(base[key], value, f"{where}{key}.")
            else:
                base[key] = value

    merge(params, update, "")
    check_params(params, file=path)
    return params


# ----- parameter checks: each leaf of DEFAULT_PARAMS has a kind with an accepted range -------

_KINDS: dict[str, tuple] = {
    # kind: (test, accepted range as the message says it)
    "probability": (lambda v: _number(v) and 0 <= v <= 1, "a probability between 0 and 1"),
    "attack_rate": (lambda v: _number(v) and 0 <= v < 1, "an attack rate from 0 to below 1"),
    "ratio": (lambda v: _number(v) and v >= 0, "a hazard ratio, a finite number >= 0"),
    "multiplier": (lambda v: _number(v) and v >= 0, "a multiplier, a finite number >= 0"),
    "rate": (lambda v: _number(v) and v >= 0, "a rate per year, a finite number >= 0"),
    "positive_rate": (lambda v: _number(v) and v > 0, "a rate per year, a finite number > 0"),
    "positive": (lambda v: _number(v) and v > 0, "a finite number > 0"),
    "number": (lambda v: _number(v), "a finite number"),
    "spread": (lambda v: _number(v) and v >= 0, "a spread in days, a finite number >= 0"),
    "days": (lambda v: _whole(v) and v >= 0, "a whole number of days >= 0"),
    "gap_days": (lambda v: _whole(v) and v >= 1, "a whole number of days >= 1"),
    "age": (lambda v: _number(v) and 0 <= v <= 120, "an age in years from 0 to 120"),
    "age_sd": (lambda v: _number(v) and v >= 0, "a standard deviation in years >= 0"),
    "date": (lambda v: _date(v), "a date YYYY-MM-DD"),
    "day_of_year": (lambda v: _day_of_year(v), "a calendar day MM-DD"),
    "date_pair": (
        lambda v: isinstance(v, list) and len(v) == 2 and all(map(_date, v)) and v[0] <= v[1],
        "two dates [first, last] YYYY-MM-DD, in order",
    ),
    "years": (
        lambda v: isinstance(v, list) and all(_whole(y) for y in v),
        "a list of years, e.g. [2021]",
    ),
    "pathogens": (
        lambda v: isinstance(v, list) and all(x in PATHOGENS for x in v),
        f"a list of pathogens among {', '.join(PATHOGENS)}",
    ),
    "text": (lambda v: isinstance(v, str), "text"),
}

_RULES: tuple[tuple[str, str], ...] = (
    ("*.source", "text"),
    ("*.unit", "text"),
    ("*.multiplier_source", "text"),
    ("data_end.value", "date"),
    ("age_at_diagnosis.sd", "age_sd"),
    ("age_at_diagnosis.*", "age"),
    ("female_fraction.value", "probability"),
    ("stage_mix.*", "probability"),
    ("receptors.*", "probability"),
    ("relapse.annual_hazard_by_stage.*", "rate"),
    ("relapse.multiplier_by_days_since_diagnosis.[].ratio", "multiplier"),
    ("*.start_day", "days"),
    ("*.end_day", "days"),
    ("metastasis_site.*", "probability"),
    ("infection_effect.pathogens", "pathogens"),
    ("infection_effect.windows.[].ratio", "ratio"),
    ("infection_effect.ratio_after", "ratio"),
    ("immunity_days.value", "days"),
    ("seasonal.*.attack_rate", "attack_rate"),
    ("seasonal.*.peak", "day_of_year"),
    ("seasonal.*.sd_days", "spread"),
    ("seasonal.*.skip_seasons", "years"),
    ("sars_cov_2_waves.waves.[].peak", "date"),
    ("sars_cov_2_waves.waves.[].sd_days", "spread"),
    ("sars_cov_2_waves.waves.[].attack_rate", "attack_rate"),
    ("vaccination.*.start", "day_of_year"),
    ("vaccination.*.spread_days", "spread"),
    ("vaccination.*.first_dose", "date_pair"),
    ("vaccination.*.booster", "date_pair"),
    ("vaccination.*.second_dose_gap_days", "days"),
    ("vaccination.*.protection_days", "days"),
    ("vaccination.*", "probability"),
    ("ascertainment.*.[].from", "date"),
    ("ascertainment.*.[].to", "date"),
    ("ascertainment.*.[].p", "probability"),
    ("ascertainment.*", "probability"),
    ("hospitalisation.p_at_60", "probability"),
    ("hospitalisation.per_year_of_age", "number"),
    ("hospitalisation.other_ratio", "multiplier"),
    ("repeat_test.probability", "probability"),
    ("repeat_test.max_gap_days", "gap_days"),
    ("other_death.log_rate_at_age_0", "number"),
    ("other_death.per_year_of_age", "positive"),
    ("covid_death.per_year_of_age", "number"),
    ("covid_death.vaccinated_ratio", "multiplier"),
    ("covid_death.*", "probability"),
    ("cancer_death_after_relapse.annual_hazard", "positive_rate"),
    ("loss_to_follow_up.*", "positive_rate"),
)


def _number(value: object) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))
    )


def _whole(value: object) -> bool:
    return _number(value) and float(value) == int(value)  # type: ignore[arg-type]


def _date(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        np.datetime64(value, "D")
    except ValueError:
        return False
    return True


def _day_of_year(value: object) -> bool:
    return isinstance(value, str) and len(value) == 5 and _date(f"2001-{value}")


def _kind(path: str) -> str | None:
    """The kind of the first rule matching ``path`` (``*`` stands for one or more keys)."""
    generic = ".".join("[]" if part.startswith("[") else part for part in path.split("."))
    for pattern, kind in _RULES:
        if re.fullmatch(re.escape(pattern).replace(r"\*", ".+"), generic):
            return kind
    return None


def _dotted(path: str) -> str:
    return path.replace(".[", "[")


def check_params(params: object, *, file: str | Path | None = None) -> dict:
    """Refuse generator parameters of the wrong shape or out of range: the message names the
    parameter (``infection_effect.windows[0].ratio``), its value and the accepted range."""

    def fail(path: str, value: object, why: str) -> None:
        shown = json.dumps(value, default=str)
        raise InputError(f"parameter {_dotted(path)} = {shown} {why}", file=file)

    def walk(template: object, value: object, path: str) -> None:
        if isinstance(template, dict):
            if not isinstance(value, dict):
                fail(path, value, "has the wrong type; accepted: a JSON object {...}")
            for key in value:  # type: ignore[union-attr]
                if key not in template:
                    where = _dotted(f"{path}.{key}" if path else key)
                    raise InputError(f"unknown parameter {where}", file=file)
            for key, sub in template.items():
                where = f"{path}.{key}" if path else key
                if key not in value:  # type: ignore[operator]
                    raise InputError(f"parameter {_dotted(where)} is missing", file=file)
                walk(sub, value[key], where)  # type: ignore[index]
            return
        if isinstance(template, list) and template and isinstance(template[0], dict):
            if not isinstance(value, list):
                fail(path, value, "has the wrong type; accepted: a JSON list [...]")
            for i, item in enumerate(value):  # type: ignore[arg-type]
                walk(template[0], item, f"{path}.[{i}]")
            return
        kind = _kind(path)
        if kind is None:  # a leaf without a rule: same JSON type as the default
            if type(value) is not type(template):
                fail(path, value, f"has the wrong type; accepted: {type(template).__name__}")
            return
        test, accepted = _KINDS[kind]
        if not test(value):
            fail(path, value, f"is out of range; accepted: {accepted}")

    walk(DEFAULT_PARAMS, params, "")
    checked: dict = params  # type: ignore[assignment]
    for group in ("stage_mix", "metastasis_site"):
        shares = [v for k, v in checked[group].items() if k != "source"]
        if sum(shares) <= 0:
            raise InputError(f"parameter {group}: the shares add up to 0", file=file)
    a = checked["age_at_diagnosis"]
    if not a["min"] <= a["max"]:
        raise InputError(
            f"parameter age_at_diagnosis: min {a['min']} is above max {a['max']}", file=file
        )
    for path in ("relapse.multiplier_by_days_since_diagnosis", "infection_effect.windows"):
        group, key = path.split(".")
        for i, w in enumerate(checked[group][key]):
            if not w["start_day"] < w["end_day"]:
                raise InputError(
                    f"parameter {path}[{i}]: end_day {w['end_day']} must be after start_day "
                    f"{w['start_day']}",
                    file=file,
                )
    return checked


def day(text: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return int((np.datetime64(text, "D") - EPOCH).astype(int))


@dataclass
class Cohort:
    """A simulated cohort (integer days since 1970-01-01; -1 where an event did not happen)."""

    people: pd.DataFrame  # pid, sex, birth_year, dx, stage, er, pr, her2, entry, end, end_reason,
    # relapse (day or -1), site, death (day or -1), cause
    infections: pd.DataFrame  # pid, day, pathogen, hospitalised, recorded
    vaccinations: pd.DataFrame  # pid, day, vaccine
    params: dict


def _hazard_ratio(days_since: np.ndarray, windows: list[dict], after: float) -> np.ndarray:
    out = np.full(days_since.shape, float(after))
    for w in windows:
        inside = (days_since >= w["start_day"]) & (days_since < w["end_day"])
        out[inside] = w["ratio"]
    return out


def _people(n: int, like: str, p: dict, rng: np.random.Generator) -> pd.DataFrame:
    a = p["age_at_diagnosis"]
    age = np.clip(rng.normal(a["mean"], a["sd"], n), a["min"], a["max"])
    end_all = day(p["data_end"]["value"])
    if like == "ukb":
        entry = rng.integers(day("2006-03-13"), day("2010-10-01") + 1, n)
        dx = entry - rng.integers(0, 15 * 365, n)
    elif like == "flatiron":
        dx = rng.integers(day("2011-01-01"), day("2021-12-31") + 1, n)
        entry = dx.copy()
    else:
        dx = rng.integers(day("2008-01-01"), day("2021-12-31") + 1, n)
        entry = dx - rng.integers(0, 1001, n)
    birth = dx - np.round(age * 365.25).astype(np.int64)
    stages = np.array(["I", "II", "III"])
    mix = np.array([p["stage_mix"][s] for s in stages])
    stage = stages[rng.choice(3, n, p=mix / mix.sum())]
    r = p["receptors"]
    er = rng.random(n) < r["er_positive"]
    pr = rng.random(n) < np.where(
        er, r["pr_positive_if_er_positive"], r["pr_positive_if_er_negative"]
    )
    her2 = rng.random(n) < r["her2_positive"]
    pos = np.array(["negative", "positive"])
    return pd.DataFrame(
        {
            "pid": np.arange(n),
            "sex": np.where(rng.random(n) < p["female_fraction"]["value"], "female", "male"),
            "birth": birth,
            "birth_year": (EPOCH + birth.astype("timedelta64[D]"))
            .astype("datetime64[Y]")
            .astype(int)
            + 1970,
            "dx": dx,
            "stage": stage,
            "er": pos[er.astype(int)],
            "pr": pos[pr.astype(int)],
            "her2": pos[her2.astype(int)],
            "entry": entry,
            "horizon": np.full(n, end_all),
        }
    )


def _vaccinations(people: pd.DataFrame, p: dict, rng: np.random.Generator) -> pd.DataFrame:
    n = len(people)
    vp = p["vaccination"]
    pids, days, kinds = [], [], []
    fl = vp["influenza"]
    birth = people["birth"].to_numpy()
    first_year = _year(int(people["entry"].min())) - 1
    last_year = _year(int(people["horizon"].max()))
    everyone = np.arange(n)
    for year in range(first_year, last_year + 1):
        start = day(f"{year}-{fl['start']}")
        cover = np.where(
            (start - birth) / 365.25 >= 65, fl["coverage_65_plus"], fl["coverage_under_65"]
        )
        hit = rng.random(n) < cover
        when = start + rng.integers(0, fl["spread_days"] + 1, n)
        pids.append(everyone[hit])
        days.append(when[hit])
        kinds.append(np.zeros(hit.sum(), dtype=np.int8))
    cv = vp["sars-cov-2"]
    dosed = rng.random(n) < cv["coverage"]
    lo, hi = day(cv["first_dose"][0]), day(cv["first_dose"][1])
    age = people["entry"].to_numpy() - birth
    rank = np.argsort(np.argsort(-age)) / max(n - 1, 1)  # older people first
    first = lo + np.round(rank * (hi - lo)).astype(np.int64)
    second = first + cv["second_dose_gap_days"]
    boost = rng.random(n) < cv["booster_coverage"]
    blo, bhi = day(cv["booster"][0]), day(cv["booster"][1])
    third = rng.integers(blo, bhi + 1, n)
    for when, sel in ((first, dosed), (second, dosed), (third, dosed & boost)):
        pids.append(everyone[sel])
        days.append(when[sel])
        kinds.append(np.ones(sel.sum(), dtype=np.int8))
    pid, dd, kind = np.concatenate(pids), np.concatenate(days), np.concatenate(kinds)
    inside = (dd >= people["entry"].to_numpy()[pid]) & (dd <= people["horizon"].to_numpy()[pid])
    pid, dd, kind = pid[inside], dd[inside], kind[inside]
    order = np.lexsort((dd, pid))
    vaccine = pd.Categorical.from_codes(kind[order], categories=["influenza", "sars-cov-2"])
    return pd.DataFrame({"pid": pid[order], "day": dd[order], "vaccine": vaccine})


def _year(d: int) -> int:
    """Calendar year of day ``d`` (days since 1970-01-01)."""
    return int((EPOCH + d).astype("datetime64[Y]").astype(int)) + 1970


def _waves(people: pd.DataFrame, p: dict) -> list[tuple[str, int, int, float]]:
    """(pathogen, peak day, sd in days, attack rate) for every wave in the simulated period."""
    waves = []
    y0 = int((EPOCH + int(people["entry"].min())).astype("datetime64[Y]").astype(int)) + 1970
    y1 = int((EPOCH + int(people["horizon"].max())).astype("datetime64[Y]").astype(int)) + 1970
    for pathogen, s in p["seasonal"].items():
        for year in range(y0, y1 + 2):
            season_year = year if s["peak"] < "07-01" else year + 1  # season named by its January
            if season_year in s["skip_seasons"]:
                continue
            waves.append((pathogen, day(f"{year}-{s['peak']}"), s["sd_days"], s["attack_rate"]))
    for w in p["sars_cov_2_waves"]["waves"]:
        waves.append(("sars-cov-2", day(w["peak"]), w["sd_days"], w["attack_rate"]))
    return waves


def _protected(doses: tuple[np.ndarray, np.ndarray], n: int, lo: int, hi: int) -> np.ndarray:
    """Persons with a dose (``doses`` = (person ids, days)) on a day in [lo, hi]."""
    pids, days = doses
    out = np.zeros(n, dtype=bool)
    out[pids[(days >= lo) & (days <= hi)]] = True
    return out


def _infections(
    people: pd.DataFrame, vac: pd.DataFrame, p: dict, rng: np.random.Generator
) -> pd.DataFrame:
    n = len(people)
    vp = p["vaccination"]
    kind = np.asarray(pd.Categorical(vac["vaccine"], categories=["influenza", "sars-cov-2"]).codes)
    doses = {
        v: (vac["pid"].to_numpy()[kind == k], vac["day"].to_numpy()[kind == k])
        for k, v in enumerate(("influenza", "sars-cov-2"))
    }
    pids, days, codes = [], [], []
    everyone = np.arange(n)
    for pathogen, peak, sd, attack in _waves(people, p):
        rate = -np.log1p(-attack)
        mult = np.ones(n)
        if pathogen == "influenza":
            mult[_protected(doses["influenza"], n, peak - 120, peak - 14)] = (
                1 - vp["influenza"]["effectiveness"]
            )
        elif pathogen == "sars-cov-2":
            cv = vp["sars-cov-2"]
            mult[_protected(doses["sars-cov-2"], n, peak - cv["protection_days"], peak - 14)] = (
                1 - cv["effectiveness"]
            )
        hit = rng.random(n) < -np.expm1(-rate * mult)
        when = peak + np.round(rng.normal(0.0, sd, n)).astype(np.int64)
        pids.append(everyone[hit])
        days.append(when[hit])
        codes.append(np.full(hit.sum(), PATHOGENS.index(pathogen), dtype=np.int8))
    pid, dd, code = np.concatenate(pids), np.concatenate(days), np.concatenate(codes)
    inside = (dd >= people["entry"].to_numpy()[pid]) & (dd <= people["horizon"].to_numpy()[pid])
    pid, dd, code = pid[inside], dd[inside], code[inside]
    order = np.lexsort((dd, code, pid))
    pid, dd, code = pid[order], dd[order], code[order]
    gap = p["immunity_days"]["value"]
    while True:
        same = (pid[1:] == pid[:-1]) & (code[1:] == code[:-1])
        close = np.concatenate([[False], same & (np.diff(dd) <= gap)])
        prev_close = np.concatenate([[False], close[:-1]])
        drop = close & ~prev_close  # drop the later of a close pair; chains resolve next round
        if not drop.any():
            break
        pid, dd, code = pid[~drop], dd[~drop], code[~drop]
    inf = pd.DataFrame(
        {
            "pid": pid,
            "day": dd,
            "pathogen": pd.Categorical.from_codes(code, categories=list(PATHOGENS)).astype(object),
            "birth": people["birth"].to_numpy()[pid],
        }
    )
    h = p["hospitalisation"]
    age = (inf["day"].to_numpy() - inf["birth"].to_numpy()) / 365.25
    ph = np.minimum(0.5, h["p_at_60"] * np.exp(h["per_year_of_age"] * (age - 60)))
    ph = np.where(inf["pathogen"].isin(["influenza", "sars-cov-2"]), ph, ph * h["other_ratio"])
    inf["hospitalised"] = rng.random(len(inf)) < ph
    asc = p["ascertainment"]
    prob = np.zeros(len(inf))
    for pathogen in PATHOGENS:
        sel = (inf["pathogen"] == pathogen).to_numpy()
        spec = asc[pathogen]
        if isinstance(spec, list):
            for period in spec:
                inside = (
                    sel
                    & (inf["day"].to_numpy() >= day(period["from"]))
                    & (inf["day"].to_numpy() <= day(period["to"]))
                )
                prob[inside] = period["p"]
        else:
            prob[sel] = spec
    inf["recorded"] = inf["hospitalised"].to_numpy() | (rng.random(len(inf)) < prob)
    inf["u_covid_death"] = rng.random(len(inf))
    inf["covid_death_delay"] = rng.integers(7, 29, len(inf))
    return inf


def _relapse_times(
    people: pd.DataFrame, inf: pd.DataFrame, p: dict, rng: np.random.Generator
) -> np.ndarray:
    """Exact draw of the first relapse time (fractional day; inf if none before the horizon)."""
    n = len(people)
    rel = p["relapse"]
    eff = p["infection_effect"]
    start = np.maximum(people["entry"].to_numpy(), people["dx"].to_numpy()).astype(float)
    stop = people["horizon"].to_numpy().astype(float) + 1.0
    dx = people["dx"].to_numpy().astype(float)
    base = people["stage"].map(rel["annual_hazard_by_stage"]).to_numpy() / 365.25
    e = inf[inf["pathogen"].isin(eff["pathogens"])].sort_values(["pid", "day"])
    e_pid, e_day = e["pid"].to_numpy(), e["day"].to_numpy().astype(float)
    pts_pid = [np.arange(n)]
    pts_t = [start]
    for w in rel["multiplier_by_days_since_diagnosis"]:
        for edge in (w["start_day"], w["end_day"]):
            pts_pid.append(np.arange(n))
            pts_t.append(dx + edge)
    for w in eff["windows"]:
        for edge in (w["start_day"], w["end_day"]):
            pts_pid.append(e_pid)
            pts_t.append(e_day + edge)
    pid = np.concatenate(pts_pid)
    t = np.concatenate(pts_t)
    keep = (t >= start[pid]) & (t < stop[pid])
    pid, t = pid[keep], t[keep]
    order = np.lexsort((t, pid))
    pid, t = pid[order], t[order]
    uniq = np.concatenate([[True], (pid[1:] != pid[:-1]) | (t[1:] != t[:-1])])
    pid, t = pid[uniq], t[uniq]
    last = np.concatenate([pid[1:] != pid[:-1], [True]])
    t_end = np.where(last, stop[pid], np.roll(t, -1))
    ysd = t - dx[pid]
    mult = np.ones(len(t))
    for w in rel["multiplier_by_days_since_diagnosis"]:
        mult[(ysd >= w["start_day"]) & (ysd < w["end_day"])] = w["ratio"]
    big = 1e6
    keys_inf = e_pid * big + e_day
    keys_seg = pid * big + t
    idx = np.searchsorted(keys_inf, keys_seg, side="right") - 1
    has = (
        (idx >= 0) & (e_pid[np.clip(idx, 0, None)] == pid) if len(e_pid) else np.zeros(len(t), bool)
    )
    since = np.where(has, t - e_day[np.clip(idx, 0, None)] if len(e_pid) else 0.0, np.inf)
    ratio = _hazard_ratio(since, eff["windows"], eff["ratio_after"])
    ratio[~has] = 1.0
    rate = base[pid] * mult * ratio
    seg = rate * (t_end - t)
    cum = np.cumsum(seg)
    first_of = np.searchsorted(pid, np.arange(n), side="left")
    offset = np.where(first_of > 0, cum[np.maximum(first_of - 1, 0)], 0.0)
    offset[first_of == 0] = 0.0
    target = offset + rng.exponential(1.0, n)
    hit = np.searchsorted(cum, target, side="left")
    out = np.full(n, np.inf)
    ok = (hit < len(pid)) & (pid[np.minimum(hit, len(pid) - 1)] == np.arange(n))
    k = hit[ok]
    out[ok] = t_end[k] - (cum[k] - target[ok]) / rate[k]
    return out


def simulate(n: int, seed: int, like: str, params: dict | None = None) -> Cohort:
    """Simulate ``n`` breast cancer survivors for layout ``like`` with a fixed ``seed``."""
    if like not in LAYOUTS:
        raise InputError(f"unknown layout {like!r} (expected one of {', '.join(LAYOUTS)})")
    if n < 1:
        raise InputError(f"cohort size must be positive, got {n}")
    p = check_params(params) if params is not None else load_params()
    rng = np.random.default_rng(seed)
    people = _people(n, like, p, rng)
    vac = _vaccinations(people, p, rng)
    inf = _infections(people, vac, p, rng)
    relapse_t = _relapse_times(people, inf, p, rng)

    start = np.maximum(people["entry"].to_numpy(), people["dx"].to_numpy())
    g = p["other_death"]
    a0 = (start - people["birth"].to_numpy()) / 365.25
    e = rng.exponential(1.0, n)
    alpha, beta = g["log_rate_at_age_0"], g["per_year_of_age"]
    age_death = np.log(np.exp(beta * a0) + beta * e * np.exp(-alpha)) / beta
    other = np.floor(people["birth"].to_numpy() + age_death * 365.25)
    cancer = np.floor(
        relapse_t + rng.exponential(365.25 / p["cancer_death_after_relapse"]["annual_hazard"], n)
    )
    cd = p["covid_death"]
    covid = np.full(n, np.inf)
    sc = inf[
        (inf["pathogen"] == "sars-cov-2") & (inf["day"].to_numpy() >= start[inf["pid"].to_numpy()])
    ]
    if len(sc):
        age = (sc["day"].to_numpy() - sc["birth"].to_numpy()) / 365.25
        ifr = np.minimum(cd["max"], cd["ifr_at_60"] * np.exp(cd["per_year_of_age"] * (age - 60)))
        cv = p["vaccination"]["sars-cov-2"]
        protected = np.zeros(len(sc), bool)
        vs = vac[vac["vaccine"] == "sars-cov-2"].merge(
            sc[["pid", "day"]].reset_index(), on="pid", suffixes=("_v", "")
        )
        vs = vs[
            (vs["day_v"] <= vs["day"] - 14) & (vs["day_v"] >= vs["day"] - cv["protection_days"])
        ]
        protected[sc.index.get_indexer(vs["index"].unique())] = True
        ifr = np.where(protected, ifr * cd["vaccinated_ratio"], ifr)
        dies = sc["u_covid_death"].to_numpy() < ifr
        when = (sc["day"] + sc["covid_death_delay"]).to_numpy()[dies]
        np.minimum.at(covid, sc["pid"].to_numpy()[dies], when)
    loss_rate = p["loss_to_follow_up"][like] / 365.25
    lost = np.floor(start + rng.exponential(1.0 / loss_rate, n))
    horizon = people["horizon"].to_numpy().astype(float)
    candidates = np.vstack([other, covid, cancer, lost, horizon])
    which = np.argmin(candidates, axis=0)
    end = candidates[which, np.arange(n)].astype(np.int64)
    reasons = np.array(["other", "covid", "cancer", "lost", "end_of_data"])[which]
    relapse_day = np.floor(relapse_t)
    relapsed = relapse_day <= end
    sites = np.array(METASTASIS_SITES)
    probs = np.array([p["metastasis_site"][s] for s in METASTASIS_SITES])
    site = sites[rng.choice(len(sites), n, p=probs / probs.sum())]
    people["end"] = end
    people["end_reason"] = np.where(
        np.isin(reasons, ["other", "covid", "cancer"]), "death", reasons
    )
    people["death"] = np.where(people["end_reason"] == "death", end, -1)
    people["cause"] = np.where(people["end_reason"] == "death", reasons, None)
    people["relapse"] = np.where(relapsed, relapse_day, -1).astype(np.int64)
    people["site"] = np.where(relapsed, site, None)
    inf = inf[inf["day"].to_numpy() <= end[inf["pid"].to_numpy()]]
    inf = inf.drop(columns=["u_covid_death", "covid_death_delay"])
    vac = vac[vac["day"].to_numpy() <= end[vac["pid"].to_numpy()]]
    return Cohort(people, inf.reset_index(drop=True), vac.reset_index(drop=True), p)
