"""reawaken.plots: figures as functions that take ``ax=`` and return it.

Importing these modules leaves matplotlib as it was (no backend is chosen). Called without
``ax``, a plot function draws on a new pyplot figure, as a notebook user expects; figures
written to files use :func:`file_axes`, a figure that pyplot does not manage, so that writing
them needs no display and changes no pyplot state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def file_axes(width: float, height: float, dpi: int = 150) -> Axes:
    """Axes on a new figure outside pyplot, for writing to a file (``fig.savefig``)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=dpi).subplots()
