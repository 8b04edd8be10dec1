"""Synthetic cohorts of breast cancer survivors with a known, planted effect of infection.

:func:`simulate` draws one cohort in calendar time (days since 1970-01-01); the layout writers in
:mod:`reawaken.cohort.synth_layouts` write it as UK Biobank, Flatiron or OMOP files with
``truth.json`` (every generating parameter and the counts an import must reproduce).

Model (every number is in :func:`reawaken.cohort.synth_params.default_params` with its unit and
source, or marked assumed; the pathogens' incidence and ascertainment come from the pathogen
table, :mod:`reawaken.pathogens`):

* Entry, as each source's ``synthetic`` design says: UK Biobank at the assessment visit
  (diagnosis 0-15 years earlier, relapse-free and alive at entry); Flatiron at diagnosis; OMOP
  observation starts 0-1000 days before diagnosis. Age at diagnosis, stage (I-III) and
  receptors are drawn independently.
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
* ``infection_effect.acts_on``: ``relapse`` (default, as above) or ``cancer_death``: then relapse
  is not affected and the cancer-death hazard after relapse is multiplied by ``r`` instead (an
  effect planted on death itself, the UK Biobank analysis's outcome).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reawaken import pathogens
from reawaken.cohort import sources
from reawaken.cohort.schema import METASTASIS_SITES
from reawaken.cohort.sources.synthetic import EPOCH, Cohort, SyntheticDesign, day
from reawaken.cohort.synth_params import check_params, load_params, waves_key
from reawaken.errors import InputError


def _hazard_ratio(days_since: np.ndarray, windows: list[dict], after: float) -> np.ndarray:
    out = np.full(days_since.shape, float(after))
    for w in windows:
        inside = (days_since >= w["start_day"]) & (days_since < w["end_day"])
        out[inside] = w["ratio"]
    return out


def _people(n: int, design: SyntheticDesign, p: dict, rng: np.random.Generator) -> pd.DataFrame:
    a = p["age_at_diagnosis"]
    age = np.clip(rng.normal(a["mean"], a["sd"], n), a["min"], a["max"])
    end_all = day(p["data_end"]["value"])
    entry, dx = design.draw(n, rng)
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
    for pathogen in pathogens.table():
        if isinstance(pathogen.synthetic.incidence, pathogens.Waves):
            for w in p[waves_key(pathogen.id)]["waves"]:
                waves.append((pathogen.id, day(w["peak"]), w["sd_days"], w["attack_rate"]))
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
    """Every infection (persons, days, pathogens), then whether it was hospitalised and
    recorded (:func:`_ascertain`)."""
    return _ascertain(_draw_infections(people, vac, p, rng), p, rng)


def _draw_infections(
    people: pd.DataFrame, vac: pd.DataFrame, p: dict, rng: np.random.Generator
) -> pd.DataFrame:
    """Infections in each wave, less likely for the vaccinated, none within the immunity gap
    of a previous one with the same pathogen."""
    kind = np.asarray(pd.Categorical(vac["vaccine"], categories=["influenza", "sars-cov-2"]).codes)
    doses = {
        v: (vac["pid"].to_numpy()[kind == k], vac["day"].to_numpy()[kind == k])
        for k, v in enumerate(("influenza", "sars-cov-2"))
    }
    n = len(people)
    vp = p["vaccination"]
    ids = pathogens.ids()
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
        codes.append(np.full(hit.sum(), ids.index(pathogen), dtype=np.int8))
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
            "pathogen": pd.Categorical.from_codes(code, categories=list(ids)).astype(object),
            "birth": people["birth"].to_numpy()[pid],
        }
    )
    return inf


def _ascertain(inf: pd.DataFrame, p: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Hospitalised (by age; severe pathogens at the full rate), recorded (always when
    hospitalised, else by the pathogen's ascertainment), and the draws of a COVID-19 death."""
    h = p["hospitalisation"]
    age = (inf["day"].to_numpy() - inf["birth"].to_numpy()) / 365.25
    ph = np.minimum(0.5, h["p_at_60"] * np.exp(h["per_year_of_age"] * (age - 60)))
    severe = [row.id for row in pathogens.table() if row.synthetic.severe]
    ph = np.where(inf["pathogen"].isin(severe), ph, ph * h["other_ratio"])
    inf["hospitalised"] = rng.random(len(inf)) < ph
    asc = p["ascertainment"]
    prob = np.zeros(len(inf))
    for pathogen in pathogens.ids():
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


def _segments(
    start: np.ndarray, stop: np.ndarray, pts_pid: list[np.ndarray], pts_t: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each person's time from ``start`` to ``stop`` cut at the breakpoints given: the
    segments' person, start and end, sorted by person and time."""
    pid = np.concatenate([np.arange(len(start)), *pts_pid])
    t = np.concatenate([start, *pts_t])
    keep = (t >= start[pid]) & (t < stop[pid])
    pid, t = pid[keep], t[keep]
    order = np.lexsort((t, pid))
    pid, t = pid[order], t[order]
    uniq = np.concatenate([[True], (pid[1:] != pid[:-1]) | (t[1:] != t[:-1])])
    pid, t = pid[uniq], t[uniq]
    last = np.concatenate([pid[1:] != pid[:-1], [True]])
    t_end = np.where(last, stop[pid], np.roll(t, -1))
    return pid, t, t_end


class _Effect:
    """The planted effect: the step function of days since the most recent infection with an
    effect pathogen (each pathogen with its windows), looked up for segments."""

    def __init__(self, inf: pd.DataFrame, p: dict) -> None:
        eff = p["infection_effect"]
        e = inf[inf["pathogen"].isin(eff["pathogens"])].sort_values(["pid", "day"])
        self.pid, self.day = e["pid"].to_numpy(), e["day"].to_numpy().astype(float)
        self.pathogen = e["pathogen"].to_numpy()
        self.windows = {
            k: eff["windows_by_pathogen"].get(k) or eff["windows"] for k in eff["pathogens"]
        }
        self.after = eff["ratio_after"]

    def breakpoints(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        edges = {(w["start_day"], w["end_day"]) for ws in self.windows.values() for w in ws}
        points = sorted({edge for pair in edges for edge in pair})
        return [self.pid] * len(points), [self.day + edge for edge in points]

    def ratio(self, pid: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The hazard ratio on segments starting at ``t`` (1 before any infection)."""
        ratio = np.ones(len(t))
        if not len(self.pid):
            return ratio
        big = 1e6
        idx = np.searchsorted(self.pid * big + self.day, pid * big + t, side="right") - 1
        at = np.clip(idx, 0, None)
        has = (idx >= 0) & (self.pid[at] == pid)
        since = np.where(has, t - self.day[at], np.inf)
        for pathogen, windows in self.windows.items():
            mine = has & (self.pathogen[at] == pathogen)
            ratio[mine] = _hazard_ratio(since[mine], windows, self.after)
        return ratio


def _first_crossing(
    pid: np.ndarray, t: np.ndarray, t_end: np.ndarray, rate: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where each person's cumulative hazard over their segments reaches ``target`` (a unit
    exponential draw): the time (inf if not within the segments) and the segment's index."""
    n = len(target)
    cum = np.cumsum(rate * (t_end - t))
    first_of = np.searchsorted(pid, np.arange(n), side="left")
    offset = np.where(first_of > 0, cum[np.maximum(first_of - 1, 0)], 0.0)
    offset[first_of == 0] = 0.0
    goal = offset + target
    hit = np.searchsorted(cum, goal, side="left")
    out = np.full(n, np.inf)
    ok = (hit < len(pid)) & (pid[np.minimum(hit, len(pid) - 1)] == np.arange(n))
    k = hit[ok]
    out[ok] = t_end[k] - (cum[k] - goal[ok]) / rate[k]
    segment = np.full(n, -1)
    segment[ok] = k
    return out, segment


def _relapse_times(
    people: pd.DataFrame, inf: pd.DataFrame, p: dict, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Exact draw of the first relapse time (fractional day; inf if none before the horizon)
    and the planted hazard ratio at it."""
    n = len(people)
    rel = p["relapse"]
    eff = p["infection_effect"]
    start = np.maximum(people["entry"].to_numpy(), people["dx"].to_numpy()).astype(float)
    stop = people["horizon"].to_numpy().astype(float) + 1.0
    dx = people["dx"].to_numpy().astype(float)
    base = people["stage"].map(rel["annual_hazard_by_stage"]).to_numpy() / 365.25
    effect = _Effect(inf, p) if eff["acts_on"] == "relapse" else None
    pts_pid: list[np.ndarray] = []
    pts_t: list[np.ndarray] = []
    for w in rel["multiplier_by_days_since_diagnosis"]:
        for edge in (w["start_day"], w["end_day"]):
            pts_pid.append(np.arange(n))
            pts_t.append(dx + edge)
    if effect is not None:
        more_pid, more_t = effect.breakpoints()
        pts_pid += more_pid
        pts_t += more_t
    calendar = rel["multiplier_by_calendar_year"]
    for year in sorted({y for c in calendar for y in (c["year"], c["year"] + 1)}):
        pts_pid.append(np.arange(n))
        pts_t.append(np.full(n, float(day(f"{year}-01-01"))))
    pid, t, t_end = _segments(start, stop, pts_pid, pts_t)
    ysd = t - dx[pid]
    mult = np.ones(len(t))
    for w in rel["multiplier_by_days_since_diagnosis"]:
        mult[(ysd >= w["start_day"]) & (ysd < w["end_day"])] = w["ratio"]
    for c in calendar:  # the calendar acting on the outcome itself (e.g. care disrupted)
        lo, hi = day(f"{c['year']}-01-01"), day(f"{c['year'] + 1}-01-01")
        mult[(t >= lo) & (t < hi)] *= c["ratio"]
    ratio = np.ones(len(t)) if effect is None else effect.ratio(pid, t)
    if eff["site"] != "any":  # the effect acts on relapse at that site only
        share = _site_shares(p)[eff["site"]]
        ratio = 1.0 + share * (ratio - 1.0)
    out, segment = _first_crossing(pid, t, t_end, base[pid] * mult * ratio, rng.exponential(1.0, n))
    at_event = np.where(segment >= 0, ratio[segment], 1.0)
    return out, at_event


def _cancer_death_times(
    relapse_t: np.ndarray, draw: np.ndarray, stop: np.ndarray, inf: pd.DataFrame, p: dict
) -> np.ndarray:
    """Cancer death after relapse: ``relapse + draw`` (``draw`` exponential with the constant
    hazard), or, when the planted effect acts on cancer death, the same draw carried through
    the hazard multiplied by the effect's step function of days since the last infection."""
    if p["infection_effect"]["acts_on"] != "cancer_death":
        return relapse_t + draw
    hazard = p["cancer_death_after_relapse"]["annual_hazard"] / 365.25
    relapsed = np.isfinite(relapse_t)
    start = np.where(relapsed, relapse_t, 0.0)
    end = np.where(relapsed, np.maximum(stop, start + 1.0), 1.0)
    effect = _Effect(inf, p)
    pid, t, t_end = _segments(start, end, *effect.breakpoints())
    out, _ = _first_crossing(pid, t, t_end, hazard * effect.ratio(pid, t), draw * hazard)
    return np.where(relapsed, out, np.inf)


def _site_shares(p: dict) -> dict[str, float]:
    probs = np.array([p["metastasis_site"][s] for s in METASTASIS_SITES], dtype=float)
    return dict(zip(METASTASIS_SITES, probs / probs.sum(), strict=True))


def _sites(ratio: np.ndarray, p: dict, rng: np.random.Generator) -> np.ndarray:
    """Site of each first metastasis: drawn from the site shares, or, when the infection effect
    acts on one site, with that site's share raised by the hazard ratio at the event
    (``ratio`` is the all-site ratio ``1 + share (r - 1)`` then)."""
    shares = _site_shares(p)
    sites = np.array(METASTASIS_SITES)
    probs = np.array([shares[s] for s in METASTASIS_SITES])
    u = rng.random(len(ratio))
    target = p["infection_effect"]["site"]
    if target == "any":
        return sites[np.minimum(np.searchsorted(np.cumsum(probs), u, side="right"), len(sites) - 1)]
    k = list(sites).index(target)
    boost = (ratio - 1.0 + shares[target]) / shares[target]  # r at the event
    weights = np.tile(probs, (len(ratio), 1))
    weights[:, k] *= boost
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    return sites[np.minimum((cum < u[:, None]).sum(axis=1), len(sites) - 1)]


def simulate(n: int, seed: int, like: str, params: dict | None = None) -> Cohort:
    """Simulate a cohort of breast cancer survivors with a planted effect of infection.

    The model is in the module docstring; nothing is written (see :func:`generate`, or
    :func:`write_cohort` for a cohort simulated here).

    Parameters
    ----------
    n : int
        Number of persons (at least 1).
    seed : int
        Seed of the random numbers: the same seed gives the same cohort.
    like : str
        The source kind whose synthetic design sets entry into follow-up and the rate of loss
        (:func:`reawaken.cohort.sources.kinds`: ``ukb``, ``flatiron``, ``omop``).
    params : dict, optional
        Generator parameters of the shape of :func:`default_params` (checked with
        :func:`check_params`); default: :func:`load_params` (the defaults).

    Returns
    -------
    Cohort
        Persons, infections (recorded or not) and vaccinations, in days since 1970-01-01,
        with the parameters used.

    Raises
    ------
    InputError
        If ``like`` is not a source kind, ``n`` is below 1, or a parameter has the wrong shape
        or is out of range (the message names it).

    Examples
    --------
    >>> from reawaken.cohort import simulate
    >>> cohort = simulate(300, 1, "flatiron")
    >>> len(cohort.people), len(cohort.infections), int(cohort.infections["recorded"].sum())
    (300, 496, 70)
    >>> cohort.people["end_reason"].value_counts().to_dict()
    {'end_of_data': 181, 'lost': 75, 'death': 44}
    """
    if like not in sources.kinds():
        raise InputError(f"unknown layout {like!r} (expected one of {', '.join(sources.kinds())})")
    if n < 1:
        raise InputError(f"cohort size must be positive, got {n}")
    p = check_params(params) if params is not None else load_params()
    rng = np.random.default_rng(seed)
    people = _people(n, sources.get(like).synthetic, p, rng)
    vac = _vaccinations(people, p, rng)
    inf = _infections(people, vac, p, rng)
    relapse_t, ratio_at_relapse = _relapse_times(people, inf, p, rng)

    start = np.maximum(people["entry"].to_numpy(), people["dx"].to_numpy())
    g = p["other_death"]
    a0 = (start - people["birth"].to_numpy()) / 365.25
    e = rng.exponential(1.0, n)
    alpha, beta = g["log_rate_at_age_0"], g["per_year_of_age"]
    age_death = np.log(np.exp(beta * a0) + beta * e * np.exp(-alpha)) / beta
    other = np.floor(people["birth"].to_numpy() + age_death * 365.25)
    after_relapse = rng.exponential(365.25 / p["cancer_death_after_relapse"]["annual_hazard"], n)
    horizon_end = people["horizon"].to_numpy().astype(float) + 1.0
    cancer = np.floor(_cancer_death_times(relapse_t, after_relapse, horizon_end, inf, p))
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
    site = _sites(ratio_at_relapse, p, rng)
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
