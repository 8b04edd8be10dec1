"""reawaken.cohort.sources: the data sources and their registry (see :mod:`.registry`).

The names in ``__all__`` are the public ones: the registry (:func:`kinds`, :func:`get`,
:func:`register`, :func:`unregister`), what a source is (:class:`Source`) and its field map
(:func:`field_map_markdown`). Each built-in source is a module here (``ukb``, ``flatiron``,
``omop``), loaded on first use.
"""

from reawaken.cohort.sources.registry import Source as Source
from reawaken.cohort.sources.registry import field_map_markdown as field_map_markdown
from reawaken.cohort.sources.registry import get as get
from reawaken.cohort.sources.registry import kinds as kinds
from reawaken.cohort.sources.registry import register as register
from reawaken.cohort.sources.registry import unregister as unregister

__all__ = ["kinds", "get", "register", "unregister", "Source", "field_map_markdown"]
