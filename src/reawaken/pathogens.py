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

Adding a pathogen is one row: :func:`register` at run time, or a row in :data:`BUILT_IN`.

The names in ``__all__`` are the public ones. Example::

    from reawaken import pathogens
    pathogens.get("influenza").parameter_sets   # ('mouse-influenza', 'human-influenza')
    pathogens.exposure_groups()["any"]          # ('influenza', 'sars-cov-2')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    >>> from reawaken import pathogens
    >>> pathogens.get("sars-cov-2").icd10[0]
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
    >>> from reawaken import pathogens
    >>> pathogens.get("influenza").omop_conditions
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


_COVID_CVX = (
    ("207", "COVID-19 mRNA-1273 (Moderna)"),
    ("208", "COVID-19 BNT162b2 (Pfizer-BioNTech)"),
    ("210", "COVID-19 ChAdOx1 (AstraZeneca)"),
    ("211", "COVID-19 NVX-CoV2373 (Novavax)"),
    ("212", "COVID-19 Ad26.COV2.S (Janssen)"),
    ("213", "COVID-19 vaccine unspecified"),
    ("217", "COVID-19 BNT162b2 tris-sucrose"),
    ("218", "COVID-19 BNT162b2 tris-sucrose 5-11 years"),
    ("219", "COVID-19 BNT162b2 tris-sucrose 2-4 years"),
    ("221", "COVID-19 mRNA-1273 booster"),
    ("228", "COVID-19 mRNA-1273 6 months-5 years"),
    ("229", "COVID-19 mRNA-1273 bivalent"),
    ("300", "COVID-19 BNT162b2 bivalent"),
)
_FLU_CVX = (
    ("88", "influenza virus vaccine unspecified formulation"),
    ("135", "influenza high dose seasonal"),
    ("140", "influenza seasonal injectable preservative free"),
    ("141", "influenza seasonal injectable"),
    ("150", "influenza injectable quadrivalent preservative free"),
    ("153", "influenza injectable MDCK preservative free"),
    ("155", "influenza recombinant injectable preservative free"),
    ("158", "influenza injectable quadrivalent"),
    ("161", "influenza injectable quadrivalent preservative free pediatric"),
    ("166", "influenza intradermal quadrivalent preservative free"),
    ("168", "influenza trivalent adjuvanted"),
    ("171", "influenza injectable MDCK preservative free quadrivalent"),
    ("185", "influenza recombinant quadrivalent injectable preservative free"),
    ("186", "influenza injectable MDCK quadrivalent preservative"),
    ("197", "influenza high-dose quadrivalent"),
    ("205", "influenza vaccine quadrivalent adjuvanted"),
)


def _codes(*pairs: tuple[str, str]) -> tuple[Code, ...]:
    return tuple(Code(code, label) for code, label in pairs)


#: The built-in rows (:class:`Pathogen`), in the order the summary lists pathogens.
BUILT_IN: tuple[Pathogen, ...] = (
    Pathogen(
        id="influenza",
        name="Influenza",
        icd10=_codes(
            ("J09", "Influenza due to identified zoonotic or pandemic influenza virus"),
            ("J10", "Influenza due to other identified influenza virus"),
            ("J11", "Influenza due to unidentified influenza virus"),
        ),
        icd9=_codes(
            ("487", "Influenza"),
            ("488", "Influenza due to certain identified influenza viruses"),
        ),
        omop_conditions=(Concept(4266367, "Influenza (SNOMED 6142004)"),),
        omop_tests=(
            Concept(
                21492988,
                "Influenza virus A Ag [Presence] in Upper respiratory specimen by Rapid "
                "immunoassay (LOINC 80382-5)",
            ),
            Concept(
                21492989,
                "Influenza virus B Ag [Presence] in Upper respiratory specimen by Rapid "
                "immunoassay (LOINC 80383-3)",
            ),
            Concept(
                37020635,
                "Influenza virus A RNA [Presence] in Respiratory specimen by NAA with probe "
                "detection (LOINC 92142-9)",
            ),
            Concept(
                37021252,
                "Influenza virus B RNA [Presence] in Respiratory specimen by NAA with probe "
                "detection (LOINC 92141-1)",
            ),
        ),
        cvx=_codes(*_FLU_CVX),
        synthetic=Synthetic(
            incidence=Seasonal(
                0.08,
                "01-15",
                21,
                (2021,),
                "Somes et al., Vaccine 2018: about 8% a season; no 2020/21 season",
            ),
            ascertainment=0.15,
            severe=True,
            icd10="J11.1",
            omop_condition=4266367,
            omop_test=37020635,
            cvx="140",
        ),
        parameter_sets=("mouse-influenza", "human-influenza"),
        exposure=True,
    ),
    Pathogen(
        id="sars-cov-2",
        name="SARS-CoV-2",
        icd10=_codes(
            ("U07.1", "COVID-19 virus identified"),
            ("U07.2", "COVID-19 virus not identified (clinical diagnosis)"),
        ),
        omop_conditions=(Concept(37311061, "COVID-19 (SNOMED 840539006)"),),
        omop_tests=(
            Concept(
                706158,
                "SARS-CoV-2 (COVID-19) RNA panel - Respiratory specimen by NAA with probe "
                "detection (LOINC 94531-1)",
            ),
        ),
        cvx=_codes(*_COVID_CVX),
        synthetic=Synthetic(
            incidence=Waves(
                (
                    Wave("2020-04-10", 18, 0.05),
                    Wave("2021-01-10", 20, 0.08),
                    Wave("2021-07-20", 25, 0.06),
                    Wave("2022-01-05", 20, 0.25),
                    Wave("2022-07-10", 25, 0.15),
                ),
                "assumption, shaped after the English waves (ONS infection survey)",
            ),
            ascertainment=(
                Period("2020-01-01", "2020-06-30", 0.10),
                Period("2020-07-01", "2022-03-31", 0.60),
                Period("2022-04-01", "2100-01-01", 0.20),
            ),
            severe=True,
            icd10="U07.1",
            omop_condition=37311061,
            omop_test=706158,
            cvx="208",
        ),
        parameter_sets=("mouse-sars-cov-2", "human-sars-cov-2"),
        exposure=True,
    ),
    Pathogen(
        id="rsv",
        name="Respiratory syncytial virus",
        icd10=_codes(
            ("J12.1", "Respiratory syncytial virus pneumonia"),
            ("J20.5", "Acute bronchitis due to respiratory syncytial virus"),
            ("J21.0", "Acute bronchiolitis due to respiratory syncytial virus"),
            ("B97.4", "Respiratory syncytial virus as the cause of diseases classified elsewhere"),
        ),
        icd9=_codes(
            ("079.6", "Respiratory syncytial virus"),
            ("466.11", "Acute bronchiolitis due to respiratory syncytial virus"),
            ("480.1", "Pneumonia due to respiratory syncytial virus"),
        ),
        omop_tests=(
            Concept(
                37021152,
                "Respiratory syncytial virus RNA [Presence] in Respiratory specimen by NAA with "
                "probe detection (LOINC 92131-2)",
            ),
        ),
        cvx=_codes(
            ("303", "RSV vaccine adjuvanted (Arexvy)"),
            ("305", "RSV vaccine unspecified"),
            ("306", "RSV preF vaccine (Abrysvo)"),
            ("307", "RSV mRNA vaccine (mResvia)"),
        ),
        synthetic=Synthetic(
            incidence=Seasonal(0.03, "12-15", 21, (2021,), "assumption"),
            ascertainment=0.05,
            severe=False,
            icd10="J21.0",
            omop_test=37021152,
        ),
    ),
    Pathogen(
        id="other-respiratory",
        name="Other acute respiratory infection",
        icd10=_codes(
            ("J00", "Acute nasopharyngitis"),
            ("J01", "Acute sinusitis"),
            ("J02", "Acute pharyngitis"),
            ("J03", "Acute tonsillitis"),
            ("J04", "Acute laryngitis and tracheitis"),
            ("J05", "Acute obstructive laryngitis and epiglottitis"),
            ("J06", "Acute upper respiratory infections of multiple and unspecified sites"),
            ("J12", "Viral pneumonia not elsewhere classified"),
            ("J18", "Pneumonia organism unspecified"),
            ("J20", "Acute bronchitis"),
            ("J21", "Acute bronchiolitis"),
            ("J22", "Unspecified acute lower respiratory infection"),
        ),
        icd9=_codes(
            ("460", "Acute nasopharyngitis"),
            ("461", "Acute sinusitis"),
            ("462", "Acute pharyngitis"),
            ("463", "Acute tonsillitis"),
            ("464", "Acute laryngitis and tracheitis"),
            ("465", "Acute upper respiratory infections of multiple or unspecified sites"),
            ("466", "Acute bronchitis and bronchiolitis"),
            ("480", "Viral pneumonia"),
            ("486", "Pneumonia organism unspecified"),
        ),
        synthetic=Synthetic(
            incidence=Seasonal(0.20, "11-15", 45, (), "assumption"),
            ascertainment=0.05,
            severe=False,
            icd10="J06.9",
        ),
    ),
)

_TABLE: dict[str, Pathogen] = {}


def table() -> tuple[Pathogen, ...]:
    """Every pathogen, built-in ones first, then those registered, in order of registration.

    Returns
    -------
    tuple of Pathogen
        The rows of the table.

    Raises
    ------
    None
        Reading the table raises no error.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> [p.name for p in pathogens.table()]  # doctest: +NORMALIZE_WHITESPACE
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
        Reading the table raises no error.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.ids()
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
        Reading the table raises no error.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.vaccines()
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
        Reading the table raises no error.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.exposure_groups()
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
    _check(pathogen)
    _TABLE[pathogen.id] = pathogen
    return pathogen


def unregister(pathogen_id: str) -> None:
    """Remove a pathogen registered at run time (built-in rows stay).

    Parameters
    ----------
    pathogen_id : str
        The id of a row added with :func:`register`.

    Returns
    -------
    None

    Raises
    ------
    InputError
        If the pathogen is built in, or no pathogen has this id.

    Examples
    --------
    >>> from reawaken import pathogens
    >>> pathogens.unregister("rsv")
    Traceback (most recent call last):
    ...
    reawaken.errors.InputError: pathogen 'rsv' is built in and cannot be removed
    """
    if any(p.id == pathogen_id for p in BUILT_IN):
        raise InputError(f"pathogen {pathogen_id!r} is built in and cannot be removed")
    get(pathogen_id)
    del _TABLE[pathogen_id]


def _check(row: Pathogen) -> None:
    where = f"pathogen {row.id!r}"
    if not _ID.fullmatch(row.id) or row.id in _RESERVED:
        raise InputError(
            f"{where}: an id is lower-case letters, digits and dashes, and not "
            f"{' or '.join(sorted(_RESERVED))}"
        )
    if row.id in _TABLE:
        raise InputError(f"{where} is already in the table")
    for system, own in (("ICD-10", row.icd10), ("ICD-9", row.icd9)):
        for c in own:
            if not _ICD.fullmatch(icd_prefix(c.code)):
                raise InputError(f"{where}: {system} code {c.code!r} is not 3-7 letters or digits")
    for other in _TABLE.values():
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


for _row in BUILT_IN:
    register(_row)
