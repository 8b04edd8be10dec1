"""reawaken.study: the whole study in one command, with a report.

:func:`run_study` runs the steps a configuration asks for (:mod:`reawaken.study.config`; the
default study needs no data), each cached under the output folder by a hash of its inputs and
settings (:mod:`reawaken.study.cache`), and writes ``index.html`` and ``results.json``
(:mod:`reawaken.study.report`). The names below are imported when first used (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reawaken._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, __file__)


if TYPE_CHECKING:  # the public names (for type checkers, editors and lazy_names)
    from reawaken.study.config import DEFAULT_CONFIG as DEFAULT_CONFIG
    from reawaken.study.config import load_config as load_config
    from reawaken.study.run import run_study as run_study
