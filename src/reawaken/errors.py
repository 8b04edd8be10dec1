"""One exception family for reawaken.

Every error a user can cause derives from :class:`ReawakenError`. Bad input raises
:class:`InputError`, which says *where* (file, row, column) and *why*; the command-line
interface prints it as one line and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path


class ReawakenError(Exception):
    """Base class of every error raised on purpose by reawaken.

    Catch it to handle any error reawaken raises on purpose (bad input, a failed numerical
    procedure), and nothing else.

    Parameters
    ----------
    *args : object
        The message (as for :class:`Exception`).

    Examples
    --------
    >>> from reawaken import ReawakenError
    >>> from reawaken.pathogens import get
    >>> try:
    ...     get("measles")
    ... except ReawakenError as err:
    ...     print(type(err).__name__, "|", err)
    InputError | unknown pathogen 'measles' (known: influenza, sars-cov-2, rsv, other-respiratory)
    """


class InputError(ReawakenError, ValueError):
    """Bad input: names the file, row and column where known, and the reason.

    Also a :class:`ValueError`. The message never names a command-line flag (the command line
    adds them); the command line prints it as one line and exits with status 2.

    Parameters
    ----------
    reason : str
        Why the input is refused.
    file : str or pathlib.Path, optional
        The file the input came from.
    row : int, optional
        The data row, 1-based (the header is row 0), as a spreadsheet user reads it.
    column : str, optional
        The column.

    Attributes
    ----------
    reason, file, row, column
        As given (``file`` as a string).

    Examples
    --------
    >>> from reawaken import InputError
    >>> err = InputError("not a date (YYYY-MM-DD)", file="Visit.csv", row=3, column="VisitDate")
    >>> print(err)
    file Visit.csv, row 3, column 'VisitDate': not a date (YYYY-MM-DD)
    >>> err.reason, err.row
    ('not a date (YYYY-MM-DD)', 3)
    >>> isinstance(err, ValueError)
    True
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
        """The message: where (file, row, column, those known) and why."""
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
    """An iterative fit stopped before meeting its convergence criterion.

    Warned by the fits of :mod:`reawaken.epi` (Cox, Fine-Gray, case series, logistic) when
    they stop at their iteration limit or a coefficient runs off to infinity; the fit's
    ``notes`` say which. Turn it into an error with ``warnings.simplefilter("error",
    ConvergenceWarning)``.

    Parameters
    ----------
    *args : object
        The message (as for :class:`UserWarning`).

    Examples
    --------
    >>> import warnings
    >>> from reawaken import ConvergenceWarning
    >>> from reawaken.epi import example_data, fit_fine_gray
    >>> df = example_data("competing")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", ConvergenceWarning)
    ...     fit = fit_fine_gray(df, time="time", event="event", covariates=["infected"],
    ...                         max_iter=1)
    >>> [str(w.message) for w in caught]
    ['Fine-Gray fit did not converge in 1 iterations']
    """
