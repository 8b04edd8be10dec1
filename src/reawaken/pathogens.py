"""The pathogens: one table from which the schema, the concept sets, the generator and the
designs' exposures derive.

One row (:class:`Pathogen`) per pathogen: its id (the value of ``infection.pathogen`` and, when
it has vaccines, of ``vaccination.vaccine``), a display name, the codes that mean an infection
with it (ICD-10 and ICD-9 prefixes, OMOP condition and test concepts) and its vaccines (CVX
codes), the synthetic generator's defaults (incidence, ascertainment, the codes its files use)
and the names of the model's parameter sets for it (:mod:`reawaken.model.parameters`).

What derives from the table:

* the allowed values of ``infection.pathogen`` and ``vaccination.vaccine``
  (:mod:`reawaken.cohort.schema`);
* the infection, test and vaccine rows of the concept sets (:mod:`reawaken.cohort.codes`: the
  packaged ``concepts/*.csv`` hold the other roles; a user's ``--concepts`` files still add
  codes);
* the generator's incidence, ascertainment and the codes each layout writes
  (:mod:`reawaken.cohort.synth`);
* the exposures of the designs (:func:`exposure_groups`).

Adding a pathogen is one row: :func:`register` at run time, or an entry in the packaged
``data/pathogens.json`` (read into :data:`BUILT_IN`).

The names in ``__all__`` are the public ones. Example::

    from reawaken import pathogens
    pathogens.get("influenza").parameter_sets   # ('mouse-influenza', 'human-influenza')
    pathogens.exposure_groups()["any"]          # ('influenza', 'sars-cov-2')
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from dataclasses import dataclass
from importlib import resources

from reawaken.errors import InputError

__all__ = [
    # the table
    "table",
    "ids",
    "get",
    "vaccines",
    "exposure_groups",
    "of_icd10",
    "icd_prefix",
    "register",
    "unregister",
    "BUILT_IN",
    # a row and its parts
    "Pathogen",
    "Code",
    "Concept",
    "Synthetic",
    "Seasonal",
    "Waves",
    "Wave",
    "Period",
]

_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_ICD = re.compile(r"[A-Z0-9]{3,7}")
_RESERVED = {"any", "other"}  # an exposure group and a vaccine value of their own


def icd_prefix(code: str) -> str:
    """An ICD code as the concept sets hold it: upper case, without dots or spaces.

    Parameters
    ----------
    code : str
        An ICD-10 or ICD-9 code as written (``"U07.1"``, ``"j10 1"``).

    Returns
    -------
    str
        The code in upper case with dots and white space removed.

    Raises
    ------
    TypeError
        If ``code`` is not a string.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.icd_prefix("u07.1")
    'U071'
    """
    return re.sub(r"[.\s]", "", code).upper()


@dataclass(frozen=True)
class Code:
    """A code (ICD-10, ICD-9 or CVX) and what it means, in words.

    Parameters
    ----------
    code : str
        The code as written (``"J10"``, ``"U07.1"``, CVX ``"140"``); an ICD code is a prefix
        matching every code that starts with it (dots and case aside, see :func:`icd_prefix`).
    label : str
        What the code means.

    Examples
    --------
    >>> from reawaken.pathogens import get
    >>> get("sars-cov-2").icd10[0]
    Code(code='U07.1', label='COVID-19 virus identified')
    """

    code: str
    label: str


@dataclass(frozen=True)
class Concept:
    """An OMOP standard concept id and what it means, in words.

    Parameters
    ----------
    concept_id : int
        The OMOP concept id (a condition or a measurement).
    label : str
        What the concept means, with its source vocabulary's code.

    Examples
    --------
    >>> from reawaken.pathogens import get
    >>> concepts = get("influenza").omop_conditions
    >>> concepts
    (Concept(concept_id=4266367, label='Influenza (SNOMED 6142004)'),)
    """

    concept_id: int
    label: str


@dataclass(frozen=True)
class Seasonal:
    """One wave each winter, as the synthetic generator draws the infections of a pathogen.

    Parameters
    ----------
    attack_rate : float
        The share of persons infected in a season (0 to below 1).
    peak : str
        The day of the peak, ``MM-DD``.
    sd_days : float
        The spread of infection days around the peak (standard deviation, days).
    skip_seasons : tuple of int
        Seasons without a wave, each named by the year of its January (2021: winter 2020/21).
    source : str
        Where the numbers come from.

    See Also
    --------
    Waves : dated waves instead.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> flu = pathogens.get("influenza").synthetic.incidence
    >>> flu.attack_rate, flu.peak, flu.skip_seasons
    (0.08, '01-15', (2021,))
    """

    attack_rate: float
    peak: str
    sd_days: float
    skip_seasons: tuple[int, ...]
    source: str

    def as_params(self) -> dict:
        """The generator's parameter entry (``seasonal.<id>``)."""
        return {
            "attack_rate": self.attack_rate,
            "peak": self.peak,
            "sd_days": self.sd_days,
            "skip_seasons": list(self.skip_seasons),
            "source": self.source,
        }


@dataclass(frozen=True)
class Wave:
    """A dated epidemic wave.

    Parameters
    ----------
    peak : str
        The day of the peak, ``YYYY-MM-DD``.
    sd_days : float
        The spread of infection days around the peak (standard deviation, days).
    attack_rate : float
        The share of persons infected in the wave (0 to below 1).

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.get("sars-cov-2").synthetic.incidence.waves[0]
    Wave(peak='2020-04-10', sd_days=18, attack_rate=0.05)
    """

    peak: str
    sd_days: float
    attack_rate: float


@dataclass(frozen=True)
class Waves:
    """Dated waves instead of seasons, and where they come from.

    Parameters
    ----------
    waves : tuple of Wave
        The waves, in calendar order.
    source : str
        Where the numbers come from.

    See Also
    --------
    Seasonal : one wave each winter instead.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> covid = pathogens.get("sars-cov-2").synthetic.incidence
    >>> [w.peak for w in covid.waves][:2]
    ['2020-04-10', '2021-01-10']
    """

    waves: tuple[Wave, ...]
    source: str

    def as_params(self) -> dict:
        """The generator's parameter entry (``<id>_waves``, dashes as underscores)."""
        waves = [
            {"peak": w.peak, "sd_days": w.sd_days, "attack_rate": w.attack_rate} for w in self.waves
        ]
        return {"waves": waves, "source": self.source}


@dataclass(frozen=True)
class Period:
    """An ascertainment probability over a calendar period.

    Parameters
    ----------
    start, end : str
        The first and last day of the period, ``YYYY-MM-DD`` (inclusive).
    p : float
        The probability that an infection not in hospital is recorded in the period.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.get("sars-cov-2").synthetic.ascertainment[1]
    Period(start='2020-07-01', end='2022-03-31', p=0.6)
    """

    start: str
    end: str
    p: float


@dataclass(frozen=True)
class Synthetic:
    """The synthetic generator's defaults for a pathogen.

    The codes (``icd10``, ``omop_condition``, ``omop_test``, ``cvx``) are what the layouts
    write for a recorded infection or a vaccination; each must be one of the pathogen's own
    codes, so that the files import back as it (:func:`register` checks).

    Parameters
    ----------
    incidence : Seasonal or Waves
        One wave each winter, or dated waves.
    ascertainment : float or tuple of Period
        The probability that an infection not in hospital is recorded, constant or by
        calendar period.
    severe : bool
        Admitted to hospital at the full age-dependent rate (else at the generator's
        ``hospitalisation.other_ratio`` of it).
    icd10 : str
        The ICD-10 code of a recorded diagnosis.
    omop_condition : int, default 0
        The OMOP condition concept written (0: none; the importer reads the ICD-10 source
        value).
    omop_test : int or None, default None
        The OMOP measurement concept of a positive test (None: never recorded as a test).
    cvx : str or None, default None
        The CVX code of a vaccination (None: no vaccine generated).

    Examples
    --------
    >>> from reawaken import pathogens
    >>> rsv = pathogens.get("rsv").synthetic
    >>> rsv.ascertainment, rsv.severe, rsv.icd10
    (0.05, False, 'J21.0')
    """

    incidence: Seasonal | Waves
    ascertainment: float | tuple[Period, ...]
    severe: bool
    icd10: str
    omop_condition: int = 0
    omop_test: int | None = None
    cvx: str | None = None

    def ascertainment_params(self) -> float | list[dict]:
        """The generator's parameter entry (``ascertainment.<id>``)."""
        if isinstance(self.ascertainment, tuple):
            return [{"from": q.start, "to": q.end, "p": q.p} for q in self.ascertainment]
        return self.ascertainment


@dataclass(frozen=True)
class Pathogen:
    """One row of the pathogen table: what an infection with the pathogen is and how to find it.

    Parameters
    ----------
    id : str
        The value of ``infection.pathogen`` (and of ``vaccination.vaccine`` when it has
        vaccines): lower-case letters, digits and dashes.
    name : str
        The display name.
    icd10 : tuple of Code
        ICD-10 prefixes that mean an infection with it.
    synthetic : Synthetic
        The synthetic generator's defaults.
    icd9 : tuple of Code, default ()
        ICD-9 prefixes that mean an infection with it.
    omop_conditions : tuple of Concept, default ()
        OMOP condition concepts of an infection.
    omop_tests : tuple of Concept, default ()
        OMOP measurement concepts of a test for it (a positive result is an infection).
    cvx : tuple of Code, default ()
        CVX codes of its vaccines.
    parameter_sets : tuple of str, default ()
        Names of the model's parameter sets for it (:mod:`reawaken.model.parameters`).
    exposure : bool, default False
        Whether the designs may take it as an exposure (a group of its own, and part of
        ``any``).

    Examples
    --------
    >>> from reawaken import pathogens
    >>> flu = pathogens.get("influenza")
    >>> flu.name, [c.code for c in flu.icd10], flu.exposure
    ('Influenza', ['J09', 'J10', 'J11'], True)
    >>> flu.parameter_sets
    ('mouse-influenza', 'human-influenza')
    """

    id: str
    name: str
    icd10: tuple[Code, ...]
    synthetic: Synthetic
    icd9: tuple[Code, ...] = ()
    omop_conditions: tuple[Concept, ...] = ()
    omop_tests: tuple[Concept, ...] = ()
    cvx: tuple[Code, ...] = ()
    parameter_sets: tuple[str, ...] = ()
    exposure: bool = False


def table() -> tuple[Pathogen, ...]:
    """Every pathogen, built-in ones first, then those registered, in order of registration.

    Returns
    -------
    tuple of Pathogen
        The rows of the table.

    Raises
    ------
    None
        The packaged rows were read and checked on import: a malformed row fails there, as
        an InputError naming the file, the row and the field.

    Examples
    --------
    >>> from reawaken.pathogens import table
    >>> [p.name for p in table()]  # doctest: +NORMALIZE_WHITESPACE
    ['Influenza', 'SARS-CoV-2', 'Respiratory syncytial virus',
     'Other acute respiratory infection']
    """
    return tuple(_TABLE.values())


def ids() -> tuple[str, ...]:
    """The pathogen ids in table order (the values of ``infection.pathogen``).

    Returns
    -------
    tuple of str
        The ids, built-in ones first.

    Raises
    ------
    None
        Ids are unique by construction (:func:`register` refuses a second row of one id).

    Examples
    --------
    >>> from reawaken.pathogens import ids
    >>> ids()
    ('influenza', 'sars-cov-2', 'rsv', 'other-respiratory')
    """
    return tuple(_TABLE)


def get(pathogen_id: str) -> Pathogen:
    """The row of one pathogen.

    Parameters
    ----------
    pathogen_id : str
        Its id (``"influenza"``, ``"sars-cov-2"``, ``"rsv"``, ``"other-respiratory"`` or one
        registered).

    Returns
    -------
    Pathogen
        The row.

    Raises
    ------
    InputError
        If no pathogen has this id (the message names the known ones).

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.get("sars-cov-2").name
    'SARS-CoV-2'
    >>> pathogens.get("hmpv")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: unknown pathogen 'hmpv' (known: influenza, sars-cov-2, ...)
    """
    if pathogen_id not in _TABLE:
        raise InputError(f"unknown pathogen {pathogen_id!r} (known: {', '.join(_TABLE)})")
    return _TABLE[pathogen_id]


def vaccines() -> tuple[str, ...]:
    """Ids of the pathogens with vaccines (CVX codes): the pathogen values of
    ``vaccination.vaccine``.

    Returns
    -------
    tuple of str
        The ids, in table order.

    Raises
    ------
    None
        A pathogen without CVX codes is simply left out.

    Examples
    --------
    >>> from reawaken.pathogens import vaccines
    >>> vaccines()
    ('influenza', 'sars-cov-2', 'rsv')
    """
    return tuple(p.id for p in _TABLE.values() if p.cvx)


def exposure_groups() -> dict[str, tuple[str, ...]]:
    """The exposures the designs accept, each with the pathogens it counts.

    Returns
    -------
    dict of str to tuple of str
        Each exposure pathogen (``Pathogen.exposure``) alone, and ``any``: all of them (the
        windows restart at the most recent infection with any).

    Raises
    ------
    None
        With no exposure pathogen, ``any`` is an empty group.

    Examples
    --------
    >>> from reawaken.pathogens import exposure_groups
    >>> exposure_groups()
    {'influenza': ('influenza',), 'sars-cov-2': ('sars-cov-2',), 'any': ('influenza', 'sars-cov-2')}
    """
    chosen = tuple(p.id for p in _TABLE.values() if p.exposure)
    return {**{p: (p,) for p in chosen}, "any": chosen}


def of_icd10(code: str) -> Pathogen | None:
    """The pathogen an ICD-10 code means.

    Parameters
    ----------
    code : str
        An ICD-10 code, dots and case as written (``"J12.1"``).

    Returns
    -------
    Pathogen or None
        The pathogen with a prefix of ``code`` among its ICD-10 codes (the longest prefix
        wins: J12.1 is RSV, J12.9 another respiratory infection), or None.

    Raises
    ------
    TypeError
        If ``code`` is not a string.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.of_icd10("J12.1").id, pathogens.of_icd10("J12.9").id
    ('rsv', 'other-respiratory')
    >>> print(pathogens.of_icd10("C50.9"))
    None
    """
    prefix = icd_prefix(code)
    best: tuple[int, Pathogen | None] = (0, None)
    for row in _TABLE.values():
        for c in row.icd10:
            own = icd_prefix(c.code)
            if prefix.startswith(own) and len(own) > best[0]:
                best = (len(own), row)
    return best[1]


def register(pathogen: Pathogen) -> Pathogen:
    """Add a row to the table at run time: it then appears everywhere the table is read (the
    schema, the concept sets, the generator and the designs' exposures).

    Parameters
    ----------
    pathogen : Pathogen
        The row.

    Returns
    -------
    Pathogen
        The same row.

    Raises
    ------
    InputError
        If the id is taken, reserved (``any``, ``other``) or not lower-case letters, digits and
        dashes; an ICD code is not 3-7 letters or digits; a code or concept belongs to another
        pathogen; or a synthetic code is not among the row's own codes.

    Examples
    --------
    A made-up pathogen (U99 is not an ICD-10 category in use), registered and removed again:

    >>> from reawaken import pathogens
    >>> row = pathogens.Pathogen(
    ...     id="example-virus",
    ...     name="Example virus",
    ...     icd10=(pathogens.Code("U99.1", "made-up code for an example"),),
    ...     synthetic=pathogens.Synthetic(
    ...         incidence=pathogens.Seasonal(0.3, "02-15", 20, (), "example value"),
    ...         ascertainment=1.0,
    ...         severe=False,
    ...         icd10="U99.1",
    ...     ),
    ...     exposure=True,
    ... )
    >>> pathogens.register(row).id
    'example-virus'
    >>> pathogens.exposure_groups()["any"]
    ('influenza', 'sars-cov-2', 'example-virus')
    >>> pathogens.register(row)
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: pathogen 'example-virus' is already in the table
    >>> pathogens.unregister("example-virus")
    """
    _check(pathogen, _TABLE)
    _TABLE[pathogen.id] = pathogen
    return pathogen


def unregister(pathogen_id: str) -> None:
    """Remove a row added with :func:`register`: the schema, the concept sets, the generator
    and the designs' exposures no longer see it. The rows of the shipped table
    (:data:`BUILT_IN`) stay.

    Parameters
    ----------
    pathogen_id : str
        ``Pathogen.id`` of a row given to :func:`register`.

    Returns
    -------
    None
        :func:`ids`, :func:`table`, :func:`vaccines` and :func:`exposure_groups` no longer
        list it.

    Raises
    ------
    InputError
        If ``pathogen_id`` is a built-in row's or no row's; the message says which.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.unregister("rsv")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: pathogen 'rsv' is built in and cannot be removed
    >>> pathogens.unregister("measles")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: unknown pathogen 'measles' (known: influenza, sars-cov-2, ...)
    """
    if any(p.id == pathogen_id for p in BUILT_IN):
        raise InputError(f"pathogen {pathogen_id!r} is built in and cannot be removed")
    get(pathogen_id)
    del _TABLE[pathogen_id]


def _check(row: Pathogen, table: dict[str, Pathogen]) -> None:
    """Refuse ``row`` unless it fits beside the rows of ``table`` (see :func:`register`)."""
    where = f"pathogen {row.id!r}"
    if not _ID.fullmatch(row.id) or row.id in _RESERVED:
        raise InputError(
            f"{where}: an id is lower-case letters, digits and dashes, and not "
            f"{' or '.join(sorted(_RESERVED))}"
        )
    if row.id in table:
        raise InputError(f"{where} is already in the table")
    for system, own in (("ICD-10", row.icd10), ("ICD-9", row.icd9)):
        for c in own:
            if not _ICD.fullmatch(icd_prefix(c.code)):
                raise InputError(f"{where}: {system} code {c.code!r} is not 3-7 letters or digits")
    for other in table.values():
        for kind, mine, theirs in _code_sets(row, other):
            shared = sorted(mine & theirs)
            if shared:
                raise InputError(f"{where}: {kind} {shared[0]} belongs to {other.id!r}")
    s = row.synthetic
    if not any(icd_prefix(s.icd10).startswith(icd_prefix(c.code)) for c in row.icd10):
        raise InputError(f"{where}: synthetic ICD-10 code {s.icd10!r} is not one of its codes")
    concepts = {c.concept_id for c in row.omop_conditions}
    if s.omop_condition and s.omop_condition not in concepts:
        raise InputError(f"{where}: synthetic OMOP condition {s.omop_condition} is not its own")
    if s.omop_test is not None and s.omop_test not in {c.concept_id for c in row.omop_tests}:
        raise InputError(f"{where}: synthetic OMOP test {s.omop_test} is not one of its tests")
    if s.cvx is not None and s.cvx not in {c.code for c in row.cvx}:
        raise InputError(f"{where}: synthetic CVX code {s.cvx!r} is not one of its vaccines")


def _code_sets(row: Pathogen, other: Pathogen) -> list[tuple[str, set, set]]:
    def icd(codes: tuple[Code, ...]) -> set[str]:
        return {icd_prefix(c.code) for c in codes}

    def ids_of(concepts: tuple[Concept, ...]) -> set[int]:
        return {c.concept_id for c in concepts}

    return [
        ("ICD-10 code", icd(row.icd10), icd(other.icd10)),
        ("ICD-9 code", icd(row.icd9), icd(other.icd9)),
        ("OMOP concept", ids_of(row.omop_conditions), ids_of(other.omop_conditions)),
        ("OMOP test concept", ids_of(row.omop_tests), ids_of(other.omop_tests)),
        ("CVX code", {c.code for c in row.cvx}, {c.code for c in other.cvx}),
    ]


def _read(text: str, name: str) -> tuple[Pathogen, ...]:
    """The rows of a pathogen file (``data/pathogens.json``'s form), each checked as
    :func:`register` checks it, against the rows before it; errors name the file, the row and
    the field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: not valid JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("pathogens"), list):
        raise InputError(f"{name}: expected an object with a list of rows, 'pathogens'")
    rows: dict[str, Pathogen] = {}
    for number, entry in enumerate(data["pathogens"], start=1):
        where = f"{name}, row {number}"
        row = _build(Pathogen, entry, where, "")
        try:
            _check(row, rows)
        except InputError as e:
            raise InputError(f"{where}: {e}") from None
        rows[row.id] = row
    return tuple(rows.values())


def _build(cls: type, data: object, where: str, path: str) -> typing.Any:
    """A row or a part of one (a dataclass of this module) from a JSON object, each field
    converted as its annotation says."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: {path or 'the row'} is not an object ({cls.__name__})")
    hints = typing.get_type_hints(cls)
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    for key in data:
        if key not in hints:
            raise InputError(f"{where}: {cls.__name__} has no field {path}{key}")
    for key in required:
        if key not in data:
            raise InputError(f"{where}: field {path}{key} is missing")
    return cls(**{k: _value(hints[k], v, where, f"{path}{k}") for k, v in data.items()})


def _value(hint: typing.Any, value: object, where: str, path: str) -> typing.Any:
    """A field's JSON value as its annotation says: a number, text, a flag, None, a tuple or
    a dataclass; of a union, the first that fits (of dataclasses, the one whose fields the
    object's keys match best)."""
    options = typing.get_args(hint) if typing.get_origin(hint) is types.UnionType else (hint,)
    parts = [o for o in options if dataclasses.is_dataclass(o)]
    if parts and isinstance(value, dict):
        names = [{f.name for f in dataclasses.fields(o)} for o in parts]
        best = max(range(len(parts)), key=lambda i: 2 * len(names[i] & set(value)) - len(value))
        return _build(parts[best], value, where, f"{path}.")
    for option in options:
        if typing.get_origin(option) is tuple and isinstance(value, list):
            item = typing.get_args(option)[0]
            return tuple(_value(item, v, where, f"{path}[{i}]") for i, v in enumerate(value))
        if _fits(option, value):
            return value
    expected = " or ".join(getattr(o, "__name__", str(o)) for o in options)
    raise InputError(f"{where}: field {path} is {json.dumps(value)}, expected {expected}")


def _fits(option: typing.Any, value: object) -> bool:
    """Whether a JSON scalar is of the annotated type (a flag is no number; an integer is a
    float, kept as written)."""
    if option is type(None):
        return value is None
    if isinstance(value, bool) or option is bool:
        return option is bool and isinstance(value, bool)
    if option is float:
        return isinstance(value, int | float)
    return option in (int, str) and isinstance(value, option)


#: The built-in rows (:class:`Pathogen`), in the order the summary lists pathogens: read from
#: the packaged ``data/pathogens.json`` (adding a pathogen is one entry there).
BUILT_IN: tuple[Pathogen, ...] = _read(
    resources.files("reawaken").joinpath("data", "pathogens.json").read_text(encoding="utf-8"),
    "reawaken/data/pathogens.json",
)
_TABLE: dict[str, Pathogen] = {row.id: row for row in BUILT_IN}
