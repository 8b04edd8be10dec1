"""The one Newton-Raphson with step halving, against closed-form maxima and failures."""

from __future__ import annotations

import numpy as np
import pytest

from reawaken.epi._newton import Derivatives, maximise, report_convergence
from reawaken.errors import ConvergenceWarning


def _poisson(y: np.ndarray, n: np.ndarray):
    """log L(b) = sum(y b - n exp(b)) per group: the maximum is b = log(y / n)."""

    def derivatives(b: np.ndarray) -> Derivatives:
        rate = n * np.exp(b)
        return Derivatives(float(y @ b - rate.sum()), y - rate, np.diag(rate))

    return derivatives


def test_reaches_the_closed_form_maximum():
    y, n = np.array([3.0, 40.0, 250.0]), np.array([100.0, 20.0, 1000.0])
    fit = maximise(_poisson(y, n), np.zeros(3), tol=1e-12)
    assert fit.converged and not fit.notes and fit.iterations < 20
    np.testing.assert_allclose(fit.beta, np.log(y / n), rtol=1e-12)
    np.testing.assert_allclose(fit.score, 0.0, atol=1e-9)
    assert fit.loglik_start == pytest.approx(-n.sum())


def test_the_cheap_log_likelihood_gives_the_same_path():
    y, n = np.array([3.0, 40.0]), np.array([100.0, 20.0])
    full = maximise(_poisson(y, n), np.zeros(2))
    cheap = maximise(_poisson(y, n), np.zeros(2), loglik=lambda b: _poisson(y, n)(b).loglik)
    np.testing.assert_array_equal(full.beta, cheap.beta)
    assert full.iterations == cheap.iterations


def test_step_halving_keeps_the_log_likelihood_rising():
    # log L(b) = -cosh(b) has its maximum at 0; from b = 3 a Newton step overshoots
    seen = []

    def derivatives(b: np.ndarray) -> Derivatives:
        seen.append(float(b[0]))
        return Derivatives(-float(np.cosh(b[0])), -np.sinh(b), np.array([[1.0]]))

    fit = maximise(derivatives, np.array([3.0]), tol=1e-12)
    assert fit.converged and abs(fit.beta[0]) < 1e-10
    values = [-np.cosh(b) for b in seen]
    assert max(values) == values[-1]


def test_a_singular_information_stops_with_a_note():
    def derivatives(b: np.ndarray) -> Derivatives:
        return Derivatives(-float(b.sum() ** 2), -2 * b.sum() * np.ones(2), 2 * np.ones((2, 2)))

    fit = maximise(derivatives, np.ones(2), model="Test", terms=["a", "b"])
    assert fit.singular and not fit.converged and fit.iterations == 1
    assert fit.notes == [
        "the Test information matrix is singular at iteration 1: the terms a, b are collinear "
        "or one of them does not vary within the risk sets, so no step could be taken"
    ]


def test_a_monotone_likelihood_is_reported_not_silent():
    # log L(b) = -log(1 + exp(-b)) rises for ever: the estimate runs off to infinity
    def derivatives(b: np.ndarray) -> Derivatives:
        p = 1.0 / (1.0 + np.exp(-b[0]))
        return Derivatives(-float(np.logaddexp(0.0, -b[0])), np.array([1 - p]),
                           np.array([[p * (1 - p)]]))  # fmt: skip

    fit = maximise(derivatives, np.zeros(1), max_iter=30)
    assert not fit.converged and fit.beta[0] > 20
    notes = list(fit.notes)
    with pytest.warns(ConvergenceWarning, match="Test fit did not converge in 30 iterations"):
        assert not report_convergence(
            fit, lambda b: derivatives(b).loglik, model="Test", terms=["x"], notes=notes
        )
    assert notes[-1] == "Test fit did not converge in 30 iterations"
