"""reawaken.cohort.sources: the data sources and their registry (see :mod:`.registry`)."""

from reawaken.cohort.sources.registry import Source as Source
from reawaken.cohort.sources.registry import field_map_markdown as field_map_markdown
from reawaken.cohort.sources.registry import get as get
from reawaken.cohort.sources.registry import kinds as kinds
from reawaken.cohort.sources.registry import register as register
from reawaken.cohort.sources.registry import unregister as unregister
