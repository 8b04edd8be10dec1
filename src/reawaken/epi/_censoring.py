"""Models of the end of observation after the event, for the SCCS with event-dependent observation.

Farrington, Anaya-Izquierdo, Whitaker, Hocine & Douglas, "Self-controlled case series analysis
with event-dependent observation periods", JASA 106:417-426 (2011), section 5.4, as R's SCCS
package (``eventdepenobs``, version 1.7) fits them. For a case with its event at age ``t`` and
observation ending at age ``e`` (both in years of 365.25 days), the end is modelled by a mixture
of an exponential on the interval scale (``e - t``, mean ``rho``) with probability ``pi`` and,
with probability ``1 - pi``, one of:

- ``EWA``: a Weibull on the age scale, conditional on survival to ``t`` (scale ``mu``, shape
  ``nu``): survival ``exp(-((e/mu)^nu - (t/mu)^nu))``;
- ``EWI``: a Weibull on the interval scale: survival ``exp(-((e - t)/mu)^nu)``;
- ``EGA``: a gamma on the age scale (shape ``nu``, mean ``mu``), conditional on survival to
  ``t``: ``Q(e) / Q(t)`` with ``Q`` its upper tail (``Q(t)`` below 1e-9 taken as 1e-9, as in R);
- ``EGI``: a gamma on the interval scale.

A case whose observation ended early (``censored``, for example by death) contributes the
density of ``e`` given ``t``, the others the survival beyond ``e``. The four parameters are R's:
``log rho``, ``log mu``, ``logit pi`` and ``log nu``.

The weight of an SCCS interval of a case is the integral, over the ages ``s`` of the interval,
of the same density or survival with the event placed at ``s``: what the interval's length is
in the standard SCCS. As in R, the integral runs from the interval's first day to its last day
(so a one-day interval has no width), and a weight below 1e-15 is taken as 1e-15. The
exponential part and the interval-scale parts are integrated in closed form, the age-scale
Weibull and gamma parts by Gauss-Legendre quadrature.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

YEAR = 365.25
MODELS = ("EWA", "EWI", "EGA", "EGI")
DESCRIPTIONS = {
    "EWA": "exponential and Weibull mixture, age scale",
    "EWI": "exponential and Weibull mixture, interval scale",
    "EGA": "exponential and gamma mixture, age scale",
    "EGI": "exponential and gamma mixture, interval scale",
}
PARAMETERS = ("log_rho", "log_mu", "logit_pi", "log_nu")
SMALLEST_WEIGHT = 1e-15
_TAIL_FLOOR = 1e-9
_NODES, _NODE_WEIGHTS = np.polynomial.legendre.leggauss(20)
_PIECE = 0.5  # years: the longest piece integrated by one Gauss-Legendre rule


def _unpack(p: np.ndarray) -> tuple[float, float, float, float]:
    """Rates of the exponential and of the other component, mixing probability and shape."""
    with np.errstate(over="ignore", invalid="ignore"):
        lam_a = math.exp(-p[0]) if -p[0] < 709 else math.inf
        lam_b = math.exp(-p[1]) if -p[1] < 709 else math.inf
        odds = math.exp(p[2]) if p[2] < 709 else math.inf
        pi = odds / (1.0 + odds)  # NaN when the odds overflow, as in R
        nu = math.exp(p[3]) if p[3] < 709 else math.inf
    return lam_a, lam_b, pi, nu


def _gamma_density(x: np.ndarray, shape: float, rate: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        log_density = (
            special.xlogy(shape - 1.0, x) + shape * np.log(rate) - rate * x - special.gammaln(shape)
        )
        return np.where(x < 0, 0.0, np.exp(log_density))


def _upper_tail(shape: float, x: np.ndarray) -> np.ndarray:
    """The regularised upper incomplete gamma ``Q(shape, x)``, down to subnormal values.

    Where scipy's value underflows to 0 (far tail, ``x`` above about 700), ``log Q`` is taken
    from Legendre's continued fraction and exponentiated, as R's ``pgamma(lower.tail = FALSE)``
    keeps subnormal values.
    """
    x = np.asarray(x, dtype=float)
    tail = special.gammaincc(shape, x)
    far = (tail == 0.0) & (x > shape + 1.0)
    if not far.any():
        return tail
    z = x[far]
    b = z + 1.0 - shape  # modified Lentz for 1 / (z + 1 - a - 1(1-a) / (z + 3 - a - ...))
    c = np.full_like(z, 1e300)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, 200):
        an = -i * (i - shape)
        b = b + 2.0
        d = an * d + b
        d = 1.0 / np.where(np.abs(d) < 1e-300, 1e-300, d)
        c = b + an / c
        c = np.where(np.abs(c) < 1e-300, 1e-300, c)
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) < 1e-16):
            break
    with np.errstate(under="ignore"):
        tail[far] = np.exp(-z + shape * np.log(z) - special.gammaln(shape) + np.log(h))
    return tail


def _floored_tail(shape: float, rate: float, x: np.ndarray) -> np.ndarray:
    tail = _upper_tail(shape, rate * x)
    return np.where(tail == 0.0, _TAIL_FLOOR, tail)


def _other_component(
    model: str, t: np.ndarray, e: np.ndarray, lam_b: float, nu: float
) -> tuple[np.ndarray, np.ndarray]:
    """Density and survival of the end ``e`` given the event at ``t``, Weibull or gamma part."""
    with np.errstate(all="ignore"):
        if model == "EWA":
            survival = np.exp(-((e * lam_b) ** nu - (t * lam_b) ** nu))
            density = nu * lam_b * (e * lam_b) ** (nu - 1) * survival
        elif model == "EWI":
            s = e - t
            survival = np.exp(-((s * lam_b) ** nu))
            density = nu * lam_b * (s * lam_b) ** (nu - 1) * survival
        elif model == "EGA":
            rate = nu * lam_b
            start = _floored_tail(nu, rate, t)
            density = _gamma_density(e, nu, rate) / start
            survival = _upper_tail(nu, rate * e) / start
        else:
            rate = nu * lam_b
            s = e - t
            density = _gamma_density(s, nu, rate)
            survival = _upper_tail(nu, rate * s)
    return density, survival


def neg2_loglik(
    model: str, p: np.ndarray, event: np.ndarray, end: np.ndarray, censored: np.ndarray
) -> float:
    """Minus twice the log-likelihood of the ends of observation (years) under ``model``.

    ``p`` holds R's four parameters (:data:`PARAMETERS`); NaN where the likelihood is not
    defined there (the minimiser then treats it as the largest value).
    """
    lam_a, lam_b, pi, nu = _unpack(p)
    density, survival = _other_component(model, event, end, lam_b, nu)
    with np.errstate(all="ignore"):
        gap = end - event
        decay = np.exp(-lam_a * gap)
        lik = np.where(
            censored,
            np.log(pi * lam_a * decay + (1 - pi) * density),
            np.log(pi * decay + (1 - pi) * survival),
        )
    return -2.0 * math.fsum(lik.tolist())


def _stable_difference(lower_cdf: np.ndarray, upper_cdf: np.ndarray, lower_tail, upper_tail):
    """``upper_cdf - lower_cdf``, taken from the upper tails where the CDFs are near 1."""
    return np.where(lower_cdf < 0.5, upper_cdf - lower_cdf, lower_tail - upper_tail)


def _interval_integral(
    model: str, near: np.ndarray, far: np.ndarray, censored: np.ndarray, lam_b: float, nu: float
) -> np.ndarray:
    """Integral of the interval-scale density (censored) or survival over gaps ``near..far``."""
    with np.errstate(all="ignore"):
        if model == "EWI":
            x_near = (near * lam_b) ** nu
            x_far = (far * lam_b) ** nu
            dens = np.exp(-x_near) * -np.expm1(-(x_far - x_near))
            a = 1.0 / nu
            surv = (
                special.gamma(1.0 + a)
                / lam_b
                * _stable_difference(
                    special.gammainc(a, x_near),
                    special.gammainc(a, x_far),
                    special.gammaincc(a, x_near),
                    special.gammaincc(a, x_far),
                )
            )
        else:
            rate = nu * lam_b
            dens = _stable_difference(
                special.gammainc(nu, rate * near),
                special.gammainc(nu, rate * far),
                special.gammaincc(nu, rate * near),
                special.gammaincc(nu, rate * far),
            )

            def antiderivative(s):
                return s * special.gammaincc(nu, rate * s) + nu / rate * special.gammainc(
                    nu + 1.0, rate * s
                )

            surv = antiderivative(far) - antiderivative(near)
    return np.where(censored, dens, surv)


def _quadrature(
    integrand: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    """Integrals of ``integrand(s, row)`` over ``lower..upper`` per row (Gauss-Legendre)."""
    pieces = np.maximum(1, np.ceil((upper - lower) / _PIECE)).astype(np.int64)
    row = np.repeat(np.arange(lower.size), pieces)
    k = np.arange(row.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    width = (upper - lower)[row] / pieces[row]
    a = lower[row] + k * width
    s = a[:, None] + (width[:, None] / 2.0) * (_NODES[None, :] + 1.0)
    values = integrand(s, row[:, None])
    per_piece = (width / 2.0) * (values @ _NODE_WEIGHTS)
    return np.bincount(row, weights=per_piece, minlength=lower.size)


def _age_integral(
    model: str,
    lower: np.ndarray,
    upper: np.ndarray,
    end: np.ndarray,
    censored: np.ndarray,
    lam_b: float,
    nu: float,
) -> np.ndarray:
    """Integral over event ages ``lower..upper`` of the age-scale density or survival at ``end``."""
    with np.errstate(all="ignore"):
        if model == "EWA":
            end_term = (end * lam_b) ** nu

            def integrand(s, row):
                return np.exp(-(end_term[row] - (s * lam_b) ** nu))

            factor = np.where(censored, nu * lam_b * (end * lam_b) ** (nu - 1), 1.0)
        else:
            rate = nu * lam_b

            def integrand(s, row):
                return 1.0 / _floored_tail(nu, rate, s)

            factor = np.where(
                censored, _gamma_density(end, nu, rate), special.gammaincc(nu, rate * end)
            )
        return factor * _quadrature(integrand, lower, upper)


def interval_weights(
    model: str,
    p: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    end: np.ndarray,
    censored: np.ndarray,
) -> np.ndarray:
    """The weights of SCCS intervals under a fitted censoring model (all ages in years).

    Parameters
    ----------
    model : str
        One of :data:`MODELS`.
    p : numpy.ndarray
        The model's four parameters (:data:`PARAMETERS`).
    lower, upper : numpy.ndarray
        Ages of the first and last day of each interval.
    end : numpy.ndarray
        Age at the end of observation of each interval's case.
    censored : numpy.ndarray
        Whether each interval's case had its observation ended early.

    Returns
    -------
    numpy.ndarray
        The weights, at least 1e-15 (R's floor); 1e-15 for an interval of one day.
    """
    lam_a, lam_b, pi, nu = _unpack(p)
    width = upper - lower
    near = end - upper
    far = end - lower
    with np.errstate(all="ignore"):
        exp_part = np.exp(-lam_a * near) * width * special.exprel(-lam_a * width)
        exp_part = np.where(censored, lam_a * exp_part, exp_part)
    if model in ("EWI", "EGI"):
        other = _interval_integral(model, near, far, censored, lam_b, nu)
    else:
        other = _age_integral(model, lower, upper, end, censored, lam_b, nu)
    weights = pi * exp_part + (1 - pi) * other
    weights = np.where(width > 0, weights, SMALLEST_WEIGHT)
    return np.where(weights < SMALLEST_WEIGHT, SMALLEST_WEIGHT, weights)
