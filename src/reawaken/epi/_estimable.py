"""Which terms of a fit can be estimated, and how the others are reported: one rule for every fit.

The rule (as R's ``coxph`` reports an aliased coefficient): a term the data cannot inform is
*not estimable*. It is left out of the fit, the other terms are estimated without it, and it is
reported as NA: its row of the estimates table keeps its term but has empty numbers, and the
table's ``status`` column says ``not estimable`` (:func:`reawaken.epi.tables.mark_estimates`).
A term is not estimable when it is

- constant (within every stratum, for a stratified fit), or aliased: a linear combination of
  the terms before it, which are kept (R keeps the first of aliased columns and reports the later
  ones as NA);
- flat within the risk sets: everyone at risk at each event time has the same value, or it is a
  combination of the others among those at risk;
- infinite: the log-likelihood is monotone in it (no events in one of its groups), so its
  estimate runs off to plus or minus infinity; the other terms are reported at the fit (R's
  ``coxph`` warns "Loglik converged before variable ...; beta may be infinite").

:func:`aliased_terms` finds the first two kinds from a cross-product or information matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CONSTANT = "constant"
INFINITE = (
    "its estimate is infinite: the log-likelihood rises without bound, as when one of its "
    "groups has no events"
)


def aliased_terms(
    cross: np.ndarray,
    terms: Sequence[str],
    *,
    flat: np.ndarray,
    flat_reason: str,
    aliased_reason: str,
    tol: float = 1e-10,
) -> dict[str, str]:
    """The terms of a symmetric cross-product (or information) matrix that cannot be estimated.

    ``flat`` marks terms without any spread (their reason is ``flat_reason``). The others are
    taken in order; a term whose squared multiple correlation with the kept terms before it
    exceeds ``1 - tol`` is aliased with them (``aliased_reason`` formatted with ``{terms}``, the
    kept terms it depends on). Returns ``{term: reason}`` in the order of ``terms``.
    """
    out: dict[str, str] = {}
    kept: list[int] = []
    diag = np.diag(cross)
    for j, term in enumerate(terms):
        if flat[j]:
            out[str(term)] = flat_reason
            continue
        if kept:
            root = np.sqrt(diag[kept] * diag[j])
            corr_k = cross[np.ix_(kept, kept)] / np.sqrt(np.outer(diag[kept], diag[kept]))
            corr_j = cross[kept, j] / root
            coef = np.linalg.lstsq(corr_k, corr_j, rcond=None)[0]
            if 1.0 - corr_j @ coef < tol:
                weights = zip(kept, coef, strict=True)
                involved = [repr(str(terms[k])) for k, c in weights if abs(c) > 1e-8]
                out[str(term)] = aliased_reason.format(terms=", ".join(involved))
                continue
        kept.append(j)
    return out


def flat_in_risk_sets(
    info: np.ndarray,
    x: np.ndarray,
    weights: np.ndarray,
    event_weight: float,
    terms: Sequence[str],
    *,
    aliased_reason: str = "collinear with {terms} within the risk sets",
    tol: float = 1e-10,
) -> dict[str, str]:
    """Terms the risk sets cannot inform, from the information ``info`` at zero.

    That information sums, over the event times, the variance of the covariates among those at
    risk. A term whose information is negligible against its overall spread (centred ``x``
    with ``weights``, times the weighted number of events ``event_weight``) does not vary within
    any risk set; one whose information is a combination of the earlier terms' is collinear with
    them within the risk sets. Returns ``{term: reason}``.
    """
    spread = (weights[:, None] * x**2).sum(axis=0) / max(float(weights.sum()), 1e-300)
    scale = np.maximum(spread * event_weight, 1e-300)
    return aliased_terms(
        info,
        [str(t) for t in terms],
        flat=np.diag(info) <= tol * scale,
        flat_reason=(
            "it does not vary within any risk set: everyone at risk at each event time has the "
            "same value"
        ),
        aliased_reason=aliased_reason,
        tol=tol,
    )


def na_notes(not_estimable: dict[str, str]) -> list[str]:
    """One note per term reported as NA, naming it and why."""
    return [
        f"{term!r} cannot be estimated ({reason}): reported as NA"
        for term, reason in not_estimable.items()
    ]
