"""From an infection's IL-6 course to the excess hazard of a detected lung metastasis.

The chain (docs/bridge.md gives it with every assumption):

1. **Within host.** The human parameter set of the pathogen (:mod:`reawaken.model.parameters`),
   drawn per person around its values (lognormal, ``infection_cv``), is solved by the ensemble
   engine for a year after infection. The model's DCC pool (dormant plus awake) grows by the
   fold change ``F(u)`` by day ``u``: IL-6 wakes dormant cells, they divide, and most return to
   dormancy as IL-6 falls.
2. **Growing lesions.** A survivor's clinically detected lung metastases come from lesions that
   left dormancy earlier and grow with doubling time ``Td`` (lognormal across lesions) until
   ``detection_cells``: a lesion seeded by one cell is found ``T = Td log2(detection_cells)``
   days later. Lesions arise at the rate that gives the baseline hazard ``h0``
   (:mod:`reawaken.bridge.baseline`). An infection multiplies every existing lesion by
   ``G(u) = F(u) ** lesion_response`` (the calibrated human-only scale: how strongly a growing
   lesion follows the DCC pool), which brings its detection forward by
   ``Delta(u) = Td log2 G(u)`` days. Lesions due within ``Delta`` are found early: an excess
   hazard ``h0 dDelta/du`` in the weeks after infection. Lesions seeded after the infection are
   not advanced, so ``T - Delta`` to ``T`` days later the stream of existing lesions is spent
   before new ones arrive (a deficit of the same size), and the enlarged dormant pool seeds
   ``F - 1`` more lesions from then on (a late excess).
3. **Diagnosis and death.** A lesion of detectable size is diagnosed after an exponential delay
   (``detection_delay``); a lung metastasis leads to cancer death after an exponential lag
   (median ``survival_after_lung_metastasis``).

So the excess hazard is proportional to the survivor's baseline lung hazard ``h0``:
``excess(u) = h0 r(u)``, and ``1 + r(u)`` is the hazard ratio ``u`` days after infection.
:func:`compute_kernel` gives ``r`` per parameter draw; :func:`kernel_table` and
:func:`hr_by_window` summarise it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reawaken import pathogens
from reawaken.bridge.assumptions import value
from reawaken.errors import InputError

COURSE_DAYS = 365
"""Days after infection the within-host model is solved for (the DCC pool has settled)."""
DEFAULT_HORIZON = 3653
"""Days after infection the kernel covers (ten years)."""
WINDOWS: tuple[tuple[int, float], ...] = ((0, 30), (31, 90), (91, 180), (181, 365), (366, math.inf))
"""The estimate command's default time-since-infection windows (inclusive days)."""
OPEN_WINDOW_END = 1826
"""The last day averaged for the open window ``>365`` (five years after infection)."""
QUADRATURE_NODES = 24


@dataclass(frozen=True)
class LesionBiology:
    """The human lesion biology of the kernel (defaults from :mod:`reawaken.bridge.assumptions`).

    Parameters
    ----------
    doubling_time : float
        Median doubling time of a growing lung lesion (days).
    doubling_time_cv : float
        Coefficient of variation of the doubling times (lognormal).
    detection_cells : float
        Cells at clinical detection (a lesion starts from one cell).
    detection_delay : float
        Mean days from detectable size to diagnosis (exponential).
    lesion_response : float
        Exponent on the DCC fold change felt by a growing lesion (calibrated).
    survival_after_lung_metastasis : float
        Median years from a lung metastasis to cancer death (exponential lag).

    Raises
    ------
    InputError
        If a value is not a finite number > 0 (``detection_cells`` > 1, the cv >= 0).

    Examples
    --------
    >>> from reawaken.bridge import LesionBiology
    >>> b = LesionBiology()
    >>> b.doubling_time, b.detection_cells
    (78.0, 1000000000.0)
    >>> round(float(b.growth_days(b.doubling_time)))  # one cell to detection, median lesion
    2332
    """

    doubling_time: float = field(default_factory=lambda: value("doubling_time"))
    doubling_time_cv: float = field(default_factory=lambda: value("doubling_time_cv"))
    detection_cells: float = field(default_factory=lambda: value("detection_cells"))
    detection_delay: float = field(default_factory=lambda: value("detection_delay"))
    lesion_response: float = field(default_factory=lambda: value("lesion_response"))
    survival_after_lung_metastasis: float = field(
        default_factory=lambda: value("survival_after_lung_metastasis")
    )

    def __post_init__(self) -> None:
        for name, x in vars(self).items():
            ok = math.isfinite(x) and (x >= 0 if name == "doubling_time_cv" else x > 0)
            if name == "detection_cells":
                ok = ok and x > 1
            if not ok:
                raise InputError(f"{name} {x!r} is not accepted (a finite number > 0)", column=name)

    def growth_days(self, doubling: np.ndarray) -> np.ndarray:
        """Days for a lesion of one cell to reach detection at each doubling time."""
        return doubling * math.log2(self.detection_cells)

    def doubling_nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Gauss-Hermite nodes and weights of the lognormal doubling time."""
        x, w = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
        sigma = math.sqrt(math.log1p(self.doubling_time_cv**2))
        return self.doubling_time * np.exp(sigma * math.sqrt(2.0) * x), w / math.sqrt(math.pi)


def human_parameter_set(pathogen: str) -> str:
    """The human parameter set of ``pathogen`` (from the pathogen table); InputError if none."""
    sets = [s for s in pathogens.get(pathogen).parameter_sets if s.startswith("human-")]
    if not sets:
        raise InputError(f"pathogen {pathogen!r} has no human parameter set", column="pathogen")
    return sets[0]


def pathogen_of(parameter_set: str) -> str:
    """The pathogen whose human parameter set is ``parameter_set``; InputError if none."""
    for p in pathogens.table():
        if parameter_set in p.parameter_sets and parameter_set.startswith("human-"):
            return p.id
    known = [s for p in pathogens.table() for s in p.parameter_sets if s.startswith("human-")]
    raise InputError(
        f"{parameter_set!r} is not a human parameter set (accepted: {', '.join(known)})",
        column="params",
    )


def infection_fold(
    pathogen: str,
    draws: int,
    seed: int,
    interventions: Sequence[object] = (),
    cv: float | None = None,
    days: int = COURSE_DAYS,
) -> np.ndarray:
    """The DCC pool's fold change ``F[k, u]`` on days ``u = 0..days`` after infection, for
    ``draws`` persons drawn around the pathogen's human parameter set (seeded by ``seed``;
    person ``k`` is the same draw whatever the interventions, so scenarios are paired).

    Raises
    ------
    InputError
        If a solve fails (the message says how many; nothing is reported as numbers then).
    """
    from reawaken.model import apply_interventions, parameter_set
    from reawaken.model.parameters import PARAMETER_NAMES
    from reawaken.simulate import lognormal_factors, solve
    from reawaken.simulate.ode import SolverSettings

    ps = parameter_set(human_parameter_set(pathogen))
    values, forcing = apply_interventions(ps.values(), list(interventions))
    vector = np.array([values[name] for name in PARAMETER_NAMES])
    cv = value("infection_cv") if cv is None else cv
    batch = vector[None, :] * lognormal_factors(draws, cv, seed)
    sol = solve(batch, forcing, np.arange(days + 1.0), SolverSettings(threads=1))
    if not sol.ok.all():
        raise InputError(
            f"{int((~sol.ok).sum())} of {draws} within-host solves for {pathogen} failed"
        )
    from reawaken.model.states import STATE_IDS

    pool = sol.ys[:, :, STATE_IDS.index("dcc_dormant")] + sol.ys[:, :, STATE_IDS.index("dcc_awake")]
    return pool / pool[:, :1]


def _overlap(lo: np.ndarray, hi: np.ndarray, horizon: int) -> np.ndarray:
    """Length of the overlap of day ``[u, u + 1)`` with ``[lo, hi)``, for ``u < horizon``;
    ``lo``/``hi`` of shape ``(n,)`` give ``(n, horizon)``."""
    u = np.arange(horizon, dtype=float)[None, :]
    return np.clip(np.minimum(u + 1.0, hi[:, None]) - np.maximum(u, lo[:, None]), 0.0, 1.0)


def delay_pmf(mean_days: float, horizon: int) -> np.ndarray:
    """Probability that an exponential delay of mean ``mean_days`` falls on day ``d`` (whole
    days ``0..horizon-1``)."""
    d = np.arange(horizon + 1, dtype=float)
    cdf = -np.expm1(-d / mean_days)
    return np.diff(cdf)


def convolve(x: np.ndarray, pmf: np.ndarray) -> np.ndarray:
    """Each row of ``x`` spread over later days by the delay ``pmf`` (same length as the rows)."""
    n = x.shape[-1]
    size = 1 << (2 * n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(pmf, size), size)[..., :n]
    return out


def excess_ratio(fold: np.ndarray, biology: LesionBiology, horizon: int) -> np.ndarray:
    """The excess hazard of a diagnosed lung metastasis over the baseline, ``r[k, u]`` on days
    ``u = 0..horizon-1`` after infection, for each row of fold changes ``fold[k, :]``
    (module docstring, step 2 and 3).

    Examples
    --------
    No change of the DCC pool, no excess:

    >>> import numpy as np
    >>> from reawaken.bridge.kernel import LesionBiology, excess_ratio
    >>> r = excess_ratio(np.ones((1, 366)), LesionBiology(lesion_response=5.0), 3653)
    >>> float(abs(r).max())
    0.0
    """
    fold = np.asarray(fold, dtype=float)
    n, course = fold.shape
    log2f = np.log2(np.maximum(fold, 1e-300))
    theta = biology.lesion_response
    nodes, weights = biology.doubling_nodes()
    r = np.zeros((n, horizon))
    final = fold[:, -1]
    for td, w in zip(nodes, weights, strict=True):
        grow = float(biology.growth_days(np.asarray(td)))
        shift = np.minimum(theta * td * np.maximum(log2f, 0.0), grow)  # Delta(u), days
        early = np.zeros((n, horizon))
        m = min(course - 1, horizon)
        early[:, :m] = np.diff(shift, axis=1)[:, :m]
        late = np.full(n, grow)
        deficit = _overlap(grow - shift[:, -1], late, horizon)
        seeded = (final - 1.0)[:, None] * _overlap(late, np.full(n, np.inf), horizon)
        r += w * (early - deficit + seeded)
    return convolve(r, delay_pmf(biology.detection_delay, horizon))


def death_ratio(ratio: np.ndarray, biology: LesionBiology) -> np.ndarray:
    """Excess cancer-death hazard per unit of baseline lung hazard: the lung excess ``ratio``
    spread by the exponential lag from lung metastasis to death."""
    mean = biology.survival_after_lung_metastasis * 365.25 / math.log(2.0)
    return convolve(ratio, delay_pmf(mean, ratio.shape[-1]))


@dataclass(frozen=True)
class Kernel:
    """The excess-hazard kernel of one pathogen (and treatment), per parameter draw.

    Parameters
    ----------
    pathogen : str
        The pathogen id.
    label : str
        What was given with the infection (``"none"``, ``"vaccinated"``, ``"anti-il6 day 4"``).
    fold : numpy.ndarray
        ``(draws, COURSE_DAYS + 1)``: the DCC pool's fold change after infection.
    ratio : numpy.ndarray
        ``(draws, horizon)``: excess hazard of a diagnosed lung metastasis over the baseline
        lung hazard, by day since infection (``1 + ratio`` is the hazard ratio).
    death : numpy.ndarray
        ``(draws, horizon)``: excess cancer-death hazard per unit of baseline lung hazard.

    Examples
    --------
    >>> from reawaken.bridge import compute_kernel
    >>> k = compute_kernel("sars-cov-2", 20, 1)
    >>> k.ratio.shape, k.horizon
    ((20, 3653), 3653)
    >>> bool(k.window_ratio(0, 90).mean() > k.window_ratio(181, 365).mean() > 1)
    True
    """

    pathogen: str
    label: str
    fold: np.ndarray
    ratio: np.ndarray
    death: np.ndarray

    @property
    def horizon(self) -> int:
        return self.ratio.shape[1]

    def window_ratio(self, lo: float, hi: float, end: int = OPEN_WINDOW_END) -> np.ndarray:
        """Mean hazard ratio over days ``lo..hi`` (inclusive; ``hi`` inf: to ``end``), per draw."""
        last = min(int(end) if math.isinf(hi) else int(hi), self.horizon - 1)
        return 1.0 + self.ratio[:, int(lo) : last + 1].mean(axis=1)


def compute_kernel(
    pathogen: str,
    draws: int,
    seed: int,
    biology: LesionBiology | None = None,
    interventions: Sequence[object] = (),
    label: str = "none",
    horizon: int = DEFAULT_HORIZON,
    fold: np.ndarray | None = None,
) -> Kernel:
    """The kernel of ``pathogen`` for ``draws`` parameter draws (``seed``), or from fold
    changes already solved (``fold``).

    Parameters
    ----------
    pathogen : str
        A pathogen with a human parameter set (``influenza``, ``sars-cov-2``).
    draws : int
        Persons drawn around the parameter set (the kernel's spread).
    seed : int
        Seed of the draws.
    biology : LesionBiology, optional
        The lesion biology (default: the assumptions, with the calibrated lesion response).
    interventions : sequence, optional
        Interventions of :mod:`reawaken.model` given with the infection (``Vaccination``,
        ``AntiIL6``, ``Antiviral``), on the model's days after infection.
    label : str, default "none"
        What was given, for the tables.
    horizon : int, default 3653
        Days after infection the kernel covers.
    fold : numpy.ndarray, optional
        ``(draws, 366)`` fold changes already solved (:func:`infection_fold`).

    Returns
    -------
    Kernel
        The excess ratios of lung metastasis and cancer death per draw and day.

    Raises
    ------
    InputError
        If the pathogen has no human parameter set or a within-host solve fails.

    Examples
    --------
    >>> from reawaken.bridge import compute_kernel
    >>> from reawaken.model import AntiIL6
    >>> plain = compute_kernel("influenza", 20, 1)
    >>> blocked = compute_kernel("influenza", 20, 1, interventions=[AntiIL6(((0.0, 8.0),))])
    >>> bool(blocked.window_ratio(0, 90).mean() < plain.window_ratio(0, 90).mean())
    True
    """
    biology = biology or LesionBiology()
    if fold is None:
        fold = infection_fold(pathogen, draws, seed, interventions)
    ratio = excess_ratio(fold, biology, horizon)
    return Kernel(pathogen, label, fold, ratio, death_ratio(ratio, biology))


def _interval(x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1.0 - level) / 2.0
    return np.quantile(x, a, axis=0), np.quantile(x, 1.0 - a, axis=0)


def kernel_table(
    kernels: Sequence[Kernel], baseline_per_day: float, level: float = 0.95, death: bool = False
) -> pd.DataFrame:
    """``pathogen, day, excess_hazard, lower, upper``: the excess hazard per person-day of a
    diagnosed lung metastasis (``death``: of cancer death) for a survivor whose baseline lung
    hazard is ``baseline_per_day``, the mean over draws and the ``level`` interval.

    Parameters
    ----------
    kernels : sequence of Kernel
        One kernel per pathogen.
    baseline_per_day : float
        The survivor's baseline lung hazard per day.
    level : float, default 0.95
        Share of the draws inside ``lower``-``upper``.
    death : bool, default False
        Tabulate the cancer-death kernel instead.

    Returns
    -------
    pandas.DataFrame
        One row per pathogen and day.

    Raises
    ------
    ValueError
        If ``level`` is not between 0 and 1.

    Examples
    --------
    >>> from reawaken.bridge import compute_kernel, kernel_table
    >>> table = kernel_table([compute_kernel("influenza", 20, 1)], baseline_per_day=1e-5)
    >>> list(table.columns), len(table)
    (['pathogen', 'day', 'excess_hazard', 'lower', 'upper'], 3653)
    """
    frames = []
    for k in kernels:
        x = (k.death if death else k.ratio) * baseline_per_day
        lo, hi = _interval(x, level)
        frames.append(
            pd.DataFrame(
                {
                    "pathogen": k.pathogen,
                    "day": np.arange(k.horizon),
                    "excess_hazard": x.mean(axis=0),
                    "lower": lo,
                    "upper": hi,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def window_label(lo: float, hi: float) -> str:
    """``"0-30"``, or ``">365"`` for an open window."""
    return f">{int(lo) - 1}" if math.isinf(hi) else f"{int(lo)}-{int(hi)}"


def hr_by_window(
    kernels: Sequence[Kernel],
    windows: Sequence[tuple[float, float]] = WINDOWS,
    level: float = 0.95,
    end: int = OPEN_WINDOW_END,
) -> pd.DataFrame:
    """``pathogen, window, hr, lower, upper``: the mean hazard ratio of a diagnosed lung
    metastasis over each window of days since infection (the open window averaged to day
    ``end``), mean over draws and the ``level`` interval.

    Parameters
    ----------
    kernels : sequence of Kernel
        One kernel per pathogen.
    windows : sequence of (first, last) days, default :data:`WINDOWS`
        Inclusive windows; ``last`` inf for an open window.
    level : float, default 0.95
        Share of the draws inside ``lower``-``upper``.
    end : int, default 1826
        The last day averaged for an open window.

    Returns
    -------
    pandas.DataFrame
        One row per pathogen and window.

    Raises
    ------
    ValueError
        If ``level`` is not between 0 and 1.

    Examples
    --------
    >>> from reawaken.bridge import compute_kernel, hr_by_window
    >>> table = hr_by_window([compute_kernel("sars-cov-2", 20, 1)])
    >>> table["window"].tolist()
    ['0-30', '31-90', '91-180', '181-365', '>365']
    """
    rows = []
    for k in kernels:
        for lo, hi in windows:
            x = k.window_ratio(lo, hi, end)
            a, b = _interval(x, level)
            rows.append(
                {
                    "pathogen": k.pathogen,
                    "window": window_label(lo, hi),
                    "hr": float(x.mean()),
                    "lower": float(a),
                    "upper": float(b),
                }
            )
    return pd.DataFrame(rows)
