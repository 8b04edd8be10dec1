"""Prevention scenarios: what is done about the survivors' infections.

A scenario is written ``kind`` or ``kind:key=value,key=value`` (:func:`parse_scenario`):

- ``baseline``: every infection as it comes (always run: the reference of ``prevented``);
- ``no-infection``: no infection at all (always run: the reference of ``excess``);
- ``vaccine:coverage=C[,efficacy=E]``: each autumn a survivor is vaccinated with probability
  ``C`` against both influenza and SARS-CoV-2 (one autumn visit, assumed); an infection of a
  vaccinated survivor is prevented with probability ``E`` (default
  ``influenza_vaccine_efficacy``); a breakthrough infection runs with the model's
  :class:`~reawaken.model.Vaccination` (no further infectivity reduction: the infection
  happened; faster clearance and memory T cells attenuate IL-6);
- ``anti-il6:coverage=C[,delay=D]``: a share ``C`` of infections gets one dose of IL-6 blockade
  (``anti_il6_dose``) ``D`` days after symptom onset (``symptom_onset``), through the model's
  antibody pharmacokinetics (:class:`~reawaken.model.AntiIL6`);
- ``antiviral:coverage=C[,delay=D][,efficacy=E]``: a share ``C`` of infections gets an
  antiviral from ``D`` days after symptom onset, blocking ``E`` of virus production (default
  ``antiviral_efficacy``; :class:`~reawaken.model.Antiviral`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reawaken.bridge.assumptions import value
from reawaken.errors import InputError

KINDS: dict[str, tuple[str, ...]] = {
    "baseline": (),
    "no-infection": (),
    "vaccine": ("coverage", "efficacy"),
    "anti-il6": ("coverage", "delay"),
    "antiviral": ("coverage", "delay", "efficacy"),
}
"""Each kind of scenario and the keys it takes."""
REQUIRED = ("coverage",)
MAX_DELAY = 60.0
KEY_RANGES: dict[str, tuple[float, float, str]] = {
    "coverage": (0.0, 1.0, "a number from 0 to 1"),
    "efficacy": (0.0, 1.0, "a number from 0 to 1"),
    "delay": (0.0, MAX_DELAY, f"days after symptom onset, a number from 0 to {MAX_DELAY:g}"),
}
ACCEPTED = (
    "baseline, no-infection, vaccine:coverage=C[,efficacy=E], anti-il6:coverage=C[,delay=D], "
    "antiviral:coverage=C[,delay=D][,efficacy=E]"
)
"""The scenario specs accepted, in a few words."""


@dataclass(frozen=True)
class Scenario:
    """One prevention scenario (see the module docstring for each kind).

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    coverage : float, default 0.0
        Share vaccinated each autumn (vaccine) or share of infections treated.
    efficacy : float, optional
        Vaccine: share of a vaccinated survivor's infections prevented; antiviral: share of
        virus production blocked. Default from :mod:`reawaken.bridge.assumptions`.
    delay : float, default 0.0
        Days from symptom onset to treatment (anti-il6, antiviral).

    Raises
    ------
    InputError
        For an unknown kind or a value out of range (the message names the key and what it
        accepts).

    Examples
    --------
    >>> from reawaken.population.scenarios import Scenario
    >>> Scenario("anti-il6", coverage=0.5, delay=2).label
    'anti-il6:coverage=0.5,delay=2'
    >>> Scenario("vaccine", coverage=0.7).label
    'vaccine:coverage=0.7,efficacy=0.4'
    """

    kind: str
    coverage: float = 0.0
    efficacy: float | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"unknown scenario {self.kind!r} (accepted: {ACCEPTED})")
        if self.efficacy is None and "efficacy" in KINDS[self.kind]:
            default = (
                "influenza_vaccine_efficacy" if self.kind == "vaccine" else "antiviral_efficacy"
            )
            object.__setattr__(self, "efficacy", value(default))
        for key in KINDS[self.kind]:
            object.__setattr__(self, key, _in_range(key, getattr(self, key)))

    @property
    def keys(self) -> dict[str, float]:
        """The scenario's keys and their values (defaults filled in)."""
        return {k: float(getattr(self, k)) for k in KINDS[self.kind]}

    @property
    def label(self) -> str:
        """The scenario written in full (every key, in a fixed order): its name in outputs."""
        if not KINDS[self.kind]:
            return self.kind
        return self.kind + ":" + ",".join(f"{k}={v:g}" for k, v in self.keys.items())

    @property
    def treats(self) -> bool:
        """Whether some infections are treated (anti-il6, antiviral)."""
        return self.kind in ("anti-il6", "antiviral")

    def interventions(self) -> list[Any]:
        """The model interventions a treated infection (or a vaccinated survivor's breakthrough
        infection) runs with; empty for baseline and no-infection."""
        from reawaken.model import AntiIL6, Antiviral, Vaccination

        onset = value("symptom_onset")
        if self.kind == "vaccine":
            return [Vaccination(infectivity_reduction=0.0)]
        if self.kind == "anti-il6":
            return [AntiIL6(((onset + self.delay, value("anti_il6_dose")),))]
        if self.kind == "antiviral":
            return [Antiviral(start_day=onset + self.delay, efficacy=float(self.efficacy or 0.0))]
        return []

    def kernel_label(self) -> str:
        """The label of the kernel of a treated (or breakthrough) infection."""
        onset = value("symptom_onset")
        if self.kind == "vaccine":
            return "vaccinated"
        if self.kind == "anti-il6":
            return f"anti-il6 day {onset + self.delay:g}"
        if self.kind == "antiviral":
            return f"antiviral day {onset + self.delay:g} efficacy {self.efficacy:g}"
        return "none"

    def record(self) -> dict[str, object]:
        """The scenario as population.json records it."""
        return {
            "label": self.label,
            "kind": self.kind,
            **self.keys,
            "kernel": self.kernel_label()
            if self.kind not in ("baseline", "no-infection")
            else None,
        }


def _in_range(key: str, x: Any) -> float:
    lo, hi, accepted = KEY_RANGES[key]
    try:
        number = float(x)
    except (TypeError, ValueError):
        raise InputError(f"{key} {x} is not a number (accepted for {key}: {accepted})") from None
    if not (lo <= number <= hi):  # also refuses nan
        raise InputError(f"{key} {x} is out of range (accepted for {key}: {accepted})")
    return number


def parse_scenario(spec: str) -> Scenario:
    """The scenario written ``spec`` (``kind`` or ``kind:key=value,...``).

    Parameters
    ----------
    spec : str
        E.g. ``"vaccine:coverage=0.7,efficacy=0.5"`` or ``"anti-il6:coverage=0.5,delay=2"``.

    Returns
    -------
    Scenario
        The scenario, its defaults filled in.

    Raises
    ------
    InputError
        For an unknown kind, an unknown or repeated key, a key without a value, a missing
        coverage or a value out of range; the message names the key and the values it accepts.

    Examples
    --------
    >>> from reawaken.population.scenarios import parse_scenario
    >>> parse_scenario("vaccine:coverage=0.7,efficacy=0.5").keys
    {'coverage': 0.7, 'efficacy': 0.5}
    >>> parse_scenario("vaccine:dose=2")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: unknown key 'dose' for vaccine (accepted keys: coverage, efficacy)
    """
    text = str(spec).strip()
    kind, sep, rest = text.partition(":")
    kind = kind.strip()
    if kind not in KINDS:
        raise InputError(f"unknown scenario {kind!r} (accepted: {ACCEPTED})")
    keys = KINDS[kind]
    given: dict[str, str] = {}
    if sep and not keys:
        raise InputError(f"{kind} takes no keys (accepted: {ACCEPTED})")
    for part in rest.split(",") if sep else []:
        key, eq, number = (p.strip() for p in part.partition("="))
        if key not in keys:
            raise InputError(f"unknown key {key!r} for {kind} (accepted keys: {', '.join(keys)})")
        if not eq or not number:
            raise InputError(f"{key} has no value (accepted for {key}: {KEY_RANGES[key][2]})")
        if key in given:
            raise InputError(f"{key} is given twice in {text!r}")
        given[key] = number
    for key in REQUIRED:
        if key in keys and key not in given:
            raise InputError(f"{kind} needs {key}=... (accepted for {key}: {KEY_RANGES[key][2]})")
    return Scenario(kind, **{k: _in_range(k, v) for k, v in given.items()})


def scenario_list(specs: list[Scenario | str] | None) -> list[Scenario]:
    """``baseline`` and ``no-infection`` (always run, in this order), then the given scenarios
    in their order (each parsed; baseline or no-infection given again are not repeated).

    Parameters
    ----------
    specs : list of Scenario or str, optional
        The scenarios asked for.

    Returns
    -------
    list of Scenario
        The scenarios to run.

    Raises
    ------
    InputError
        For a bad spec, or a scenario given twice (the message names it).

    Examples
    --------
    >>> from reawaken.population.scenarios import scenario_list
    >>> [s.label for s in scenario_list(["anti-il6:coverage=0.5"])]
    ['baseline', 'no-infection', 'anti-il6:coverage=0.5,delay=0']
    """
    out = [Scenario("baseline"), Scenario("no-infection")]
    seen = {s.label for s in out}
    for spec in specs or []:
        scenario = spec if isinstance(spec, Scenario) else parse_scenario(spec)
        if scenario.kind in ("baseline", "no-infection"):
            continue
        if scenario.label in seen:
            raise InputError(f"scenario {scenario.label} is given twice")
        seen.add(scenario.label)
        out.append(scenario)
    return out
