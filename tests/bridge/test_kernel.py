"""The excess-hazard kernel against an independent lesion-level simulation, and its invariants."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from reawaken.bridge.kernel import (
    WINDOWS,
    Kernel,
    LesionBiology,
    compute_kernel,
    convolve,
    delay_pmf,
    excess_ratio,
    hr_by_window,
    infection_fold,
    kernel_table,
    pathogen_of,
)
from reawaken.errors import InputError

BIOLOGY = LesionBiology(
    doubling_time=60.0,
    doubling_time_cv=0.5,
    detection_cells=2.0**20,
    detection_delay=30.0,
    lesion_response=3.0,
    survival_after_lung_metastasis=1.5,
)
G = 1.5  # the pool's final fold change in the test course


def fold_course(u: np.ndarray) -> np.ndarray:
    """A smooth DCC pool course: rises to G with a 5-day time constant."""
    return 1.0 + (G - 1.0) * -np.expm1(-np.asarray(u, dtype=float) / 5.0)


def simulate_detections(
    seed: int, rate: float = 150.0, horizon: int = 2000
) -> tuple[np.ndarray, float]:
    """Lesion by lesion (not the kernel's algebra): seeds arrive at ``rate`` per day before the
    infection at day 0 and at ``rate`` times the pool's fold change after it, grow with
    lognormal doubling times to 2^20 cells, existing lesions are multiplied by F(t)^theta,
    and each detection is diagnosed after an exponential delay. Returns the diagnosis days
    after the infection."""
    rng = np.random.default_rng(seed)
    b = BIOLOGY
    sigma = math.sqrt(math.log1p(b.doubling_time_cv**2))
    span = 40.0 * b.doubling_time * math.exp(4 * sigma)  # older seeds are long detected
    before = rng.uniform(-span, 0.0, rng.poisson(rate * span))
    after = rng.uniform(0.0, horizon, rng.poisson(rate * G * horizon))
    after = after[rng.random(after.size) < fold_course(after) / G]  # thinned to rate F(s)
    s = np.concatenate([before, after])
    td = b.doubling_time * np.exp(sigma * rng.standard_normal(s.size))
    due = s + td * math.log2(b.detection_cells)  # detection without the infection
    t = due.copy()
    existing = (s < 0) & (due > 0)
    # boosted: first t with t + theta td log2 F(t) >= due
    grid = np.arange(0.0, 200.0, 0.02)
    log2f = np.log2(fold_course(grid))
    idx = np.flatnonzero(existing)
    for chunk in np.array_split(idx, max(1, idx.size // 20000)):
        lhs = grid[None, :] + b.lesion_response * td[chunk, None] * log2f[None, :]
        first = (lhs < due[chunk, None]).sum(axis=1)
        late = first >= grid.size
        t[chunk] = np.where(
            late,
            due[chunk] - b.lesion_response * td[chunk] * math.log2(G),
            grid[np.minimum(first, grid.size - 1)],
        )
    diagnosed = t + rng.exponential(b.detection_delay, t.size)  # found before: not boosted
    diagnosed = diagnosed[diagnosed > 0]
    return diagnosed, rate


def kernel_windows(windows) -> dict[str, float]:
    r = excess_ratio(fold_course(np.arange(366.0))[None, :], BIOLOGY, 2000)
    k = Kernel("test", "none", fold_course(np.arange(366.0))[None, :], r, r)
    return {f"{lo}-{hi}": float(k.window_ratio(lo, hi, end=1999)[0]) for lo, hi in windows}


@pytest.mark.slow
def test_kernel_matches_a_lesion_level_simulation():
    windows = [(0, 30), (31, 90), (91, 180), (181, 365), (366, 700), (701, 1999)]
    expected = kernel_windows(windows)
    counts = np.zeros(len(windows))
    rate = 0.0
    for seed in range(3):
        diagnosed, rate = simulate_detections(seed, rate=60.0)
        for j, (lo, hi) in enumerate(windows):
            counts[j] += ((diagnosed >= lo) & (diagnosed < hi + 1)).sum()
    for j, (lo, hi) in enumerate(windows):
        days = hi + 1 - lo
        hr = counts[j] / (3 * rate * days)
        se = math.sqrt(counts[j]) / (3 * rate * days)
        key = f"{lo}-{hi}"
        assert abs(hr - expected[key]) < 4 * se + 0.01 * expected[key], (key, hr, expected[key], se)
    # the infection matters: the first months are far above 1, a method without it fails
    assert expected["0-30"] > 1.5 and expected["31-90"] > 1.5


def test_early_excess_integrates_to_the_shift_of_detection():
    # one doubling time, no deficit or late seeding inside the horizon: the excess integrates
    # to theta * Td * log2 F (days of baseline hazard brought forward)
    b = replace(BIOLOGY, doubling_time_cv=0.0, detection_cells=2.0**40)
    r = excess_ratio(fold_course(np.arange(366.0))[None, :], b, 1500)
    assert r.sum() == pytest.approx(b.lesion_response * b.doubling_time * math.log2(G), rel=1e-3)


def test_harvesting_deficit_balances_the_early_excess():
    # without late seeding (the pool back to 1 at the end), what is found early is missing later
    course = fold_course(np.arange(366.0))
    course[-1] = 1.0 + 1e-12
    course[200:] = np.linspace(course[199], 1.0 + 1e-12, 166)
    b = replace(BIOLOGY, doubling_time_cv=0.0, detection_cells=2.0**10)
    r = excess_ratio(course[None, :], b, 2000)
    assert abs(r.sum()) < 1e-6 * np.abs(r).sum() + 1e-9


def test_the_delay_spreads_without_losing_mass():
    pmf = delay_pmf(40.0, 4000)
    x = np.zeros((1, 4000))
    x[0, 10] = 1.0
    y = convolve(x, pmf)
    assert y.sum() == pytest.approx(1.0 - math.exp(-3990 / 40.0), abs=1e-9)
    assert y[0, :10] == pytest.approx(0.0, abs=1e-12)
    assert (y[0, 10:] * np.arange(3990)).sum() == pytest.approx(40.0 - 0.5, rel=0.02)


def test_the_excess_grows_with_the_lesion_response():
    fold = infection_fold("sars-cov-2", 20, 3)
    hr = [
        float(
            compute_kernel("sars-cov-2", 20, 3, replace(BIOLOGY, lesion_response=x), fold=fold)
            .window_ratio(0, 90)
            .mean()
        )
        for x in (0.5, 1.0, 2.0, 4.0)
    ]
    assert all(a < b for a, b in zip(hr, hr[1:], strict=False))


def test_treatments_attenuate_the_kernel():
    from reawaken.model import AntiIL6, Vaccination

    plain = compute_kernel("influenza", 30, 2).window_ratio(0, 180).mean()
    vaccinated = (
        compute_kernel("influenza", 30, 2, interventions=[Vaccination(0.0)])
        .window_ratio(0, 180)
        .mean()
    )
    blocked = (
        compute_kernel("influenza", 30, 2, interventions=[AntiIL6(((0.0, 8.0),))])
        .window_ratio(0, 180)
        .mean()
    )
    assert 1.0 <= vaccinated < plain and 1.0 <= blocked < plain


def test_tables_have_the_documented_columns_and_windows():
    k = compute_kernel("influenza", 10, 1)
    table = kernel_table([k], 1e-5)
    assert list(table.columns) == ["pathogen", "day", "excess_hazard", "lower", "upper"]
    assert (table["lower"] <= table["excess_hazard"] + 1e-18).all()
    hr = hr_by_window([k])
    assert list(hr["window"]) == ["0-30", "31-90", "91-180", "181-365", ">365"]
    assert len(WINDOWS) == 5 and (hr["lower"] <= hr["hr"]).all() and (hr["hr"] <= hr["upper"]).all()


def test_bad_inputs_name_what_is_wrong():
    with pytest.raises(InputError, match="not a human parameter set"):
        pathogen_of("mouse-influenza")
    with pytest.raises(InputError, match="doubling_time"):
        LesionBiology(doubling_time=-1.0)
    with pytest.raises(InputError, match="detection_cells"):
        LesionBiology(detection_cells=1.0)
