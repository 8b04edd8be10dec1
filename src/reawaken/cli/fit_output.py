"""Shared plumbing of the ``reawaken fit ...`` commands: option lists, warnings, outputs."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from reawaken.epi.outputs import write_fit
from reawaken.errors import ConvergenceWarning


def split_list(value: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in value.split(",") if part.strip()]


@contextmanager
def convergence_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Collect every ConvergenceWarning raised inside the block into the yielded list; other
    warnings are passed on unchanged after the block."""
    collected: list[warnings.WarningMessage] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        yield collected
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            collected.append(w)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def write_fit_outputs(
    out: Path,
    estimates: pd.DataFrame,
    summary: dict[str, Any],
    *,
    data: Path,
    terms: Sequence[str],
    caught: Sequence[warnings.WarningMessage],
    notes: Sequence[str] = (),
) -> None:
    """Write ``out/estimates.csv`` and ``out/fit.json`` (the fit summary plus its warnings, data
    file and terms) atomically; print warnings on stderr and the estimates on stdout."""
    messages = [str(w.message) for w in caught]
    write_fit(out, estimates, summary, data=data, terms=terms, warnings=messages)
    for message in messages + [n for n in notes if n not in messages]:
        typer.echo(f"warning: {message}", err=True)
    typer.echo(estimates.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
