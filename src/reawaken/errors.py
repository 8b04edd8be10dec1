"""One exception family for reawaken.

Every error a user can cause derives from :class:`ReawakenError`. Bad input raises
:class:`InputError`, which says *where* (file, row, column) and *why*; the command-line
interface prints it as one line and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path


class ReawakenError(Exception):
    """Base class of every error raised on purpose by reawaken."""


class InputError(ReawakenError, ValueError):
    """Bad input: names the file, row and column where known, and the reason.

    ``row`` is 1-based and counts data rows (the header is row 0), as a spreadsheet user reads it.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class SolverError(ReawakenError):
    """A numerical procedure could not produce a result (reported as data where possible)."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped before meeting its convergence criterion."""
