"""What ``reawaken risk`` accepts and says, kept in a module that imports neither NumPy,
pandas nor the within-host model, so that the command line starts without them; re-exported
where they belong (:mod:`reawaken.bridge.baseline`, :mod:`reawaken.bridge.risk`)."""

from __future__ import annotations

from reawaken.accepts import choice, whole

STAGE_GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "I": (("T1", "N0"),),
    "II": (("T2", "N0"), ("T1", "N1-3"), ("T2", "N1-3")),
    "III": (("T1", "N4-9"), ("T2", "N4-9")),
}
"""Pan's T/N groups each stage is taken as (equal weights): an assumption (stage IIA is T2N0 or
T1N1, IIB T2N1; stage III is approximated by four to nine positive nodes)."""

STAGES = tuple(STAGE_GROUPS)
SUBTYPES = ("hr+her2-", "hr+her2+", "hr-her2+", "triple-negative")
"""Clinical subtypes by hormone receptors (HR) and HER2."""

MIN_AGE, MAX_AGE = 18.0, 100.0
MAX_YEARS_SINCE_DIAGNOSIS = 30.0

LABEL = "research model, not clinical advice"
"""Said with every result: printed, and in the JSON."""
INFECTIONS = ("influenza", "sars-cov-2", "none")
"""The infections a risk can be computed for (``"none"``: the baseline alone)."""
MAX_DAYS_SINCE = 3650
"""The most days since the infection accepted: ten years, the span of the bridge's kernel
(``reawaken.bridge.kernel.DEFAULT_HORIZON``); the kernel is computed here to ``D`` plus five
years whatever ``D``."""
MAX_DRAWS = 100_000
INTERVAL_MEANING = (
    "2.5 and 97.5 percentiles over the within-host parameter draws: the spread of the response "
    "to the infection between people, not estimation uncertainty"
)

INFECTION = choice(INFECTIONS, "an infection:")
DAYS_SINCE = whole(0, MAX_DAYS_SINCE, "ten years, the span of the excess-hazard kernel")
DRAWS = whole(1, MAX_DRAWS, "each draw is one within-host solve")
