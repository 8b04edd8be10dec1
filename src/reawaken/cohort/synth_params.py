"""Parameters of the synthetic cohort generator: defaults (with units and sources), a user's
JSON file of changes, and their checks.

:func:`default_params` gives every parameter; :func:`load_params` updates them from a JSON
object key by key; :func:`check_params` refuses a parameter of the wrong shape or out of range,
naming it (``infection_effect.windows[0].ratio``), its value and the accepted range.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from reawaken import pathogens
from reawaken.cohort import sources
from reawaken.cohort.schema import METASTASIS_SITES
from reawaken.errors import InputError


def default_params() -> dict:
    """The generator's default parameters (a fresh copy), each with its unit and source.

    The incidence and ascertainment of each pathogen come from the pathogen table
    (:mod:`reawaken.pathogens`); the rate of loss to follow-up of each layout from its source
    (:mod:`reawaken.cohort.sources`).

    Returns
    -------
    dict
        Parameter groups (``relapse``, ``infection_effect``, ``seasonal``, ``vaccination``,
        ...), each leaf with its ``unit`` and ``source`` beside it; change values in it and
        pass it to :func:`simulate`.

    Raises
    ------
    None
        Building the defaults raises no error.

    Examples
    --------
    The planted effect: hazard ratios of relapse by days since an infection.

    >>> from reawaken.cohort import default_params
    >>> params = default_params()
    >>> [(w["start_day"], w["end_day"], w["ratio"]) for w in params["infection_effect"]["windows"]]
    [(0, 91, 2.0), (91, 365, 1.5)]
    >>> params["infection_effect"]["pathogens"], params["immunity_days"]["value"]
    (['influenza', 'sars-cov-2'], 120)
    """
    rows = pathogens.table()

    def constant(p: pathogens.Pathogen) -> bool:
        return not isinstance(p.synthetic.ascertainment, tuple)

    return {
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
            "multiplier_by_calendar_year": [],
            "calendar_source": "none by default; e.g. [{year: 2020, ratio: 0.75}] for relapses "
            "found less often while care was disrupted (a direct effect of the calendar on the "
            "outcome: calendar-time confounding)",
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
            "pathogens": list(pathogens.exposure_groups()["any"]),
            "windows": [
                {"start_day": 0, "end_day": 91, "ratio": 2.0},
                {"start_day": 91, "end_day": 365, "ratio": 1.5},
            ],
            "ratio_after": 1.0,
            "windows_by_pathogen": {p.id: [] for p in rows},
            "site": "any",
            "acts_on": "relapse",
            "source": "planted effect (Chia et al., Nature 2025: awakening in the months after)",
        },
        "immunity_days": {"value": 120, "source": "assumption: no reinfection within 120 days"},
        "seasonal": {
            p.id: p.synthetic.incidence.as_params()
            for p in rows
            if isinstance(p.synthetic.incidence, pathogens.Seasonal)
        },
        **{
            waves_key(p.id): p.synthetic.incidence.as_params()
            for p in rows
            if isinstance(p.synthetic.incidence, pathogens.Waves)
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
            # by calendar period first, then constant (the order truth.json has always had)
            **{p.id: p.synthetic.ascertainment_params() for p in rows if not constant(p)},
            **{p.id: p.synthetic.ascertainment_params() for p in rows if constant(p)},
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
            **{kind: sources.get(kind).synthetic.loss_per_year for kind in sources.kinds()},
            "unit": "per year",
            "source": "assumption",
        },
    }


def waves_key(pathogen_id: str) -> str:
    """The parameter holding the dated waves of a pathogen (``sars_cov_2_waves``)."""
    return pathogen_id.replace("-", "_") + "_waves"


def load_params(path: str | Path | None = None) -> dict:
    """The default parameters, updated (key by key, recursively) from a JSON file if given.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A JSON file holding an object of the parameters to change, in the shape of
        :func:`default_params` (``{"immunity_days": {"value": 90}}``); a list given there
        replaces the default list.

    Returns
    -------
    dict
        The checked parameters (see :func:`check_params`).

    Raises
    ------
    InputError
        If the file cannot be read or is not a JSON object, or a parameter is unknown, has the
        wrong type or is out of range (the message names it and the file).

    Examples
    --------
    >>> import json
    >>> from pathlib import Path
    >>> from reawaken.cohort import load_params
    >>> change = {"infection_effect": {"windows": [{"start_day": 0, "end_day": 91, "ratio": 3.0}]}}
    >>> _ = Path("stronger.json").write_text(json.dumps(change))
    >>> load_params("stronger.json")["infection_effect"]["windows"]
    [{'start_day': 0, 'end_day': 91, 'ratio': 3.0}]
    >>> _ = Path("typo.json").write_text('{"immunity_day": 90}')
    >>> load_params("typo.json")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: file typo.json: unknown parameter immunity_day
    """
    params = default_params()
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


# ----- parameter checks: each leaf of the defaults has a kind with an accepted range ------

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
        lambda v: isinstance(v, list) and all(x in pathogens.ids() for x in v),
        "a list of pathogens among {pathogens}",
    ),
    "text": (lambda v: isinstance(v, str), "text"),
    "acts_on": (
        lambda v: v in ("relapse", "cancer_death"),
        "relapse (the first distant relapse) or cancer_death (death after relapse)",
    ),
    "site": (
        lambda v: v in ("any", *METASTASIS_SITES),
        "any, or a metastasis site: " + ", ".join(METASTASIS_SITES),
    ),
}

_RULES: tuple[tuple[str, str], ...] = (
    ("*.source", "text"),
    ("*.unit", "text"),
    ("*.multiplier_source", "text"),
    ("*.calendar_source", "text"),
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
    ("infection_effect.windows_by_pathogen.*.[].ratio", "ratio"),
    ("infection_effect.ratio_after", "ratio"),
    ("infection_effect.site", "site"),
    ("infection_effect.acts_on", "acts_on"),
    ("immunity_days.value", "days"),
    ("seasonal.*.attack_rate", "attack_rate"),
    ("seasonal.*.peak", "day_of_year"),
    ("seasonal.*.sd_days", "spread"),
    ("seasonal.*.skip_seasons", "years"),
    ("*_waves.waves.[].peak", "date"),
    ("*_waves.waves.[].sd_days", "spread"),
    ("*_waves.waves.[].attack_rate", "attack_rate"),
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
    """Refuse generator parameters of the wrong shape or out of range.

    Parameters
    ----------
    params : object
        Parameters of the shape of :func:`default_params` (every key present, none added).
    file : str or pathlib.Path, optional
        The file they came from, named in the error.

    Returns
    -------
    dict
        ``params``, unchanged.

    Raises
    ------
    InputError
        If a parameter is missing, unknown, of the wrong type or out of range; shares add up
        to 0; the minimum age is above the maximum; or a window ends before it starts. The
        message names the parameter (``infection_effect.windows[0].ratio``), its value and
        the accepted range.

    Examples
    --------
    >>> from reawaken import InputError
    >>> from reawaken.cohort import check_params, default_params
    >>> params = default_params()
    >>> params["infection_effect"]["windows"][0]["ratio"] = -1
    >>> try:
    ...     check_params(params)
    ... except InputError as err:
    ...     print(err)
    parameter infection_effect.windows[0].ratio = -1 is out of range; accepted: a hazard ratio,
    a finite number >= 0
    """

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
            shown = accepted.format(pathogens=", ".join(pathogens.ids()))
            fail(path, value, f"is out of range; accepted: {shown}")

    walk(default_params(), params, "")
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
    for i, c in enumerate(checked["relapse"]["multiplier_by_calendar_year"]):
        where = f"relapse.multiplier_by_calendar_year.[{i}]"
        if not isinstance(c, dict) or set(c) != {"year", "ratio"}:
            fail(where, c, 'has the wrong shape; accepted: {"year": 2020, "ratio": 0.75}')
        if not (_whole(c["year"]) and 1900 <= c["year"] <= 2100):
            fail(f"{where}.year", c["year"], "is out of range; accepted: a year from 1900 to 2100")
        if not (_number(c["ratio"]) and c["ratio"] >= 0):
            fail(f"{where}.ratio", c["ratio"], "is out of range; accepted: a multiplier >= 0")
    by_pathogen = checked["infection_effect"]["windows_by_pathogen"]
    for pathogen, windows in by_pathogen.items():
        where = f"infection_effect.windows_by_pathogen.{pathogen}"
        if not isinstance(windows, list):
            fail(where, windows, "has the wrong type; accepted: a JSON list [...]")
        for i, w in enumerate(windows):
            walk(default_params()["infection_effect"]["windows"][0], w, f"{where}.[{i}]")
    paths = [("relapse", "multiplier_by_days_since_diagnosis"), ("infection_effect", "windows")]
    paths += [("infection_effect", "windows_by_pathogen", k) for k in by_pathogen]
    for keys in paths:
        path = ".".join(keys)
        group = checked
        for key in keys:
            group = group[key]
        for i, w in enumerate(group):
            if not w["start_day"] < w["end_day"]:
                raise InputError(
                    f"parameter {path}[{i}]: end_day {w['end_day']} must be after start_day "
                    f"{w['start_day']}",
                    file=file,
                )
    return checked
