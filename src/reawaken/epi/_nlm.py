"""R's ``nlm`` minimiser: Dennis & Schnabel's line search with factored secant (BFGS) updates.

R's ``nlm(f, p)`` (stats, ``src/appl/uncmin.c``) runs the unconstrained minimiser of Dennis &
Schnabel, "Numerical Methods for Unconstrained Optimization and Nonlinear Equations"
(Prentice-Hall, 1983), Appendix A, with R's settings: line search (algorithm A6.3.1), a
forward-difference gradient (A5.6.3) that turns into a central-difference one after the first
failed line search (A5.6.4), a Hessian kept as its Cholesky factor and updated by the factored
BFGS formula (A9.4.2) starting from the identity, and the stopping rules of A7.2.1. A non-finite
function value counts as the largest double, as in R.

The same steps as R's are taken here, so that a fit started where R starts it stops where R
stops, including fits that stop early on a flat or ill-behaved likelihood (R's code 2 or 3).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

_BIG = sys.float_info.max
_EPS = sys.float_info.epsilon


@dataclass(frozen=True)
class NlmResult:
    """Where :func:`nlm` stopped, as R's ``nlm`` reports it.

    Parameters
    ----------
    estimate : numpy.ndarray
        The parameters at the end.
    minimum : float
        The function value there.
    gradient : numpy.ndarray
        The finite-difference gradient there.
    code : int
        R's termination code: 1 relative gradient close to zero, 2 successive iterates within
        tolerance, 3 last line search failed to find a lower point, 4 iteration limit reached,
        5 maximum step size taken five times in a row.
    iterations : int
        Iterations taken.
    """

    estimate: np.ndarray
    minimum: float
    gradient: np.ndarray
    code: int
    iterations: int


def _forward_gradient(f: Callable, x: np.ndarray, fx: float, rnf: float) -> np.ndarray:
    g = np.empty_like(x)
    for j in range(x.size):
        step = math.sqrt(rnf) * max(abs(x[j]), 1.0)
        xj = x.copy()
        xj[j] = x[j] + step
        with np.errstate(over="ignore", invalid="ignore"):
            g[j] = (f(xj) - fx) / step
    return g


def _central_gradient(f: Callable, x: np.ndarray, rnf: float) -> np.ndarray:
    g = np.empty_like(x)
    for j in range(x.size):
        step = rnf ** (1.0 / 3.0) * max(abs(x[j]), 1.0)
        up = x.copy()
        up[j] = x[j] + step
        down = x.copy()
        down[j] = x[j] - step
        with np.errstate(over="ignore", invalid="ignore"):
            g[j] = (f(up) - f(down)) / (step * 2.0)
    return g


def _line_search(
    f: Callable,
    x: np.ndarray,
    fx: float,
    g: np.ndarray,
    p: np.ndarray,
    stepmax: float,
    steptol: float,
) -> tuple[np.ndarray, float, int, bool]:
    """Backtracking line search along ``p`` (quadratic, then cubic fits).

    Returns the new point, its value, a return code (0 found, 1 no lower point distinct from
    ``x``) and whether a step of the maximum length was taken.
    """
    p = p.copy()
    length = math.sqrt(float(p @ p))
    if length > stepmax:
        p *= stepmax / length
        length = stepmax
    slope = float(g @ p)
    relative = max(abs(p[i]) / max(abs(x[i]), 1.0) for i in range(x.size))
    smallest = steptol / relative
    lam = 1.0
    first = True
    prev_lam = prev_f = 0.0
    while True:
        new = x + lam * p
        fnew = f(new)
        if fnew <= fx + slope * 1e-4 * lam:
            return new, fnew, 0, lam == 1.0 and length > stepmax * 0.99
        if lam < smallest or not math.isfinite(lam):  # R stops on a non-finite step
            return new, fnew, 1, False
        if fnew == _BIG:
            lam *= 0.1
            first = True
            continue
        if first:
            trial = -lam * slope / ((fnew - fx - slope) * 2.0)
            first = False
        else:
            t1 = fnew - fx - lam * slope
            t2 = prev_f - fx - prev_lam * slope
            t3 = 1.0 / (lam - prev_lam)
            a = t3 * (t1 / (lam * lam) - t2 / (prev_lam * prev_lam))
            b = t3 * (t2 * lam / (prev_lam * prev_lam) - t1 * prev_lam / (lam * lam))
            disc = b * b - a * 3.0 * slope
            root = math.sqrt(disc) if disc >= 0 else math.nan
            if disc > b * b:  # one positive critical point: the minimum
                trial = (-b + (-root if a < 0 else root)) / (a * 3.0)
            else:  # both positive: the first is the minimum
                trial = (-b + (root if a < 0 else -root)) / (a * 3.0)
            if trial > lam * 0.5:
                trial = lam * 0.5
        prev_lam, prev_f = lam, fnew
        lam = lam * 0.1 if trial < lam * 0.1 else trial


def _rotate(r: np.ndarray, i: int, a: float, b: float) -> None:
    """Pre-multiply rows ``i, i+1`` of ``r`` (columns ``i:``) by the Jacobi rotation (a, b)."""
    den = math.hypot(a, b)
    c, s = a / den, b / den
    y = r[i, i:].copy()
    z = r[i + 1, i:].copy()
    r[i, i:] = c * y - s * z
    r[i + 1, i:] = s * y + c * z


def _swap(r: np.ndarray, i: int) -> None:
    r[[i, i + 1], i:] = r[[i + 1, i], i:]


def _qr_update(r: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """Overwrite upper triangular ``r`` with ``r*`` where ``q r* = r + u v'`` (A3.4.1)."""
    n = u.size
    u = u.copy()
    k = n - 1
    while k > 0 and u[k] == 0.0:
        k -= 1
    for ii in range(k, 0, -1):
        i = ii - 1
        if u[i] == 0.0:
            _swap(r, i)
            u[i] = u[ii]
        else:
            _rotate(r, i, u[i], -u[ii])
            u[i] = math.hypot(u[i], u[ii])
    r[0, :] += u[0] * v
    for i in range(k):
        if r[i, i] == 0.0:
            _swap(r, i)
        else:
            _rotate(r, i, r[i, i], -r[i + 1, i])


def _secant_update(
    chol: np.ndarray,
    x: np.ndarray,
    g: np.ndarray,
    xnew: np.ndarray,
    gnew: np.ndarray,
    first: bool,
    reltol: float,
) -> None:
    """Factored BFGS update of the Hessian's lower Cholesky factor ``chol`` in place (A9.4.2)."""
    s = xnew - x
    y = gnew - g
    den1 = float(s @ y)
    if den1 < math.sqrt(_EPS) * float(np.linalg.norm(s)) * float(np.linalg.norm(y)):
        return
    u = chol.T @ s
    den2 = float(u @ u)
    alp = math.sqrt(den1 / den2)
    if first:
        u *= alp
        chol *= alp
        den2 = den1
        alp = 1.0
    w = chol @ u
    if np.all(np.abs(y - w) < reltol * np.maximum(np.abs(g), np.abs(gnew))):
        return
    w = y - alp * w
    u *= alp / den1
    r = np.triu(chol.T)
    _qr_update(r, u, w)
    chol[:] = np.tril(r.T)


def nlm(
    fn: Callable[[np.ndarray], float],
    start: np.ndarray,
    *,
    iterlim: int = 100,
    gradtol: float = 1e-6,
    steptol: float = 1e-6,
    ndigit: int = 12,
) -> NlmResult:
    """Minimise ``fn`` from ``start`` as R's ``nlm(fn, start, iterlim = iterlim)`` does.

    Parameters
    ----------
    fn : callable
        The function to minimise, of a parameter vector; a non-finite value is taken as the
        largest double.
    start : array_like
        Starting parameters (at least two).
    iterlim, gradtol, steptol, ndigit
        R's ``nlm`` arguments of the same names, with R's defaults (``typsize`` 1, ``fscale``
        1 and ``stepmax = max(1000 * sqrt(sum(start^2)), 1000)`` as in R).

    Returns
    -------
    NlmResult
        Estimate, minimum, gradient, R's termination code and the iterations.
    """

    def f(x: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = float(fn(x))
        return value if math.isfinite(value) else _BIG

    x = np.asarray(start, dtype=float).copy()
    n = x.size
    stepmax = max(1000.0 * math.sqrt(float(x @ x)), 1000.0)
    rnf = max(10.0**-ndigit, _EPS)

    def relative_gradient(xv: np.ndarray, fv: float, gv: np.ndarray) -> float:
        scale = max(abs(fv), 1.0)
        return max(abs(gv[i]) * max(abs(xv[i]), 1.0) / scale for i in range(n))

    fx = f(x)
    g = _forward_gradient(f, x, fx, rnf)
    if relative_gradient(x, fx, g) <= gradtol:
        return NlmResult(x, fx, g, 1, 0)
    chol = np.eye(n)
    central = False
    maxsteps = 0
    iterations = 0
    while True:
        iterations += 1
        while True:
            z = solve_triangular(chol, -g, lower=True)
            p = solve_triangular(chol, z, lower=True, trans="T")
            xnew, fnew, found, maxtaken = _line_search(f, x, fx, g, p, stepmax, steptol)
            if found == 1 and not central:
                central = True
                g = _central_gradient(f, x, rnf)
                continue
            break
        if central:
            gnew = _central_gradient(f, xnew, rnf)
        else:
            gnew = _forward_gradient(f, xnew, fnew, rnf)
        if found == 1:
            return NlmResult(x, fx, g, 3, iterations)
        code = 0
        if relative_gradient(xnew, fnew, gnew) <= gradtol:
            code = 1
        elif max(abs(xnew[i] - x[i]) / max(abs(xnew[i]), 1.0) for i in range(n)) <= steptol:
            code = 2
        elif iterations >= iterlim:
            code = 4
        elif maxtaken:
            maxsteps += 1
            code = 5 if maxsteps >= 5 else 0
        else:
            maxsteps = 0
        if code:
            return NlmResult(xnew, fnew, gnew, code, iterations)
        _secant_update(chol, x, g, xnew, gnew, iterations == 1, rnf if central else math.sqrt(rnf))
        x, fx, g = xnew, fnew, gnew
