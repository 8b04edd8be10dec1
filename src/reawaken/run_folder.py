"""An output folder written as a whole: a run's files never sit beside an earlier run's.

Every command that writes a folder (``reawaken estimate``, ``reawaken fit ...``, ``reawaken
simulate``, ``reawaken lesions``) writes through :func:`write_run`: the files go into a new
folder beside the output folder, which then takes its place. A folder that holds the files of
an earlier run (any of :data:`RUN_FILES`) is refused unless replacing them was asked for; then
the earlier run's files are all removed and the new ones put in their place, so no file of the
earlier run (an emulation's ``cif.csv`` beside a Cox run's files) survives. Other files in the
folder are left alone.

When the folder holds nothing but a run's files, the swap is two renames: the old folder moves
aside, the new one takes its name, the old one is deleted. A failure while writing leaves the
folder as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from reawaken.errors import InputError

RUN_FILES = (
    "estimates.csv",
    "counts.csv",
    "cif.csv",
    "fit.json",
    "forest.png",
    "cif.png",
    "summary.csv",
    "trajectories.csv",
    "dcc_fold_change.png",
    "lesions.csv",
    "run.json",
    "truth.json",
)
"""The files a reawaken run writes into its output folder (besides a design's own figures)."""


def earlier_run_files(out: str | Path, names: Iterable[str] = ()) -> list[str]:
    """The files of an earlier run in the folder ``out`` (:data:`RUN_FILES` and ``names``),
    sorted; empty when the folder does not exist."""
    out = Path(out)
    if not out.is_dir():
        return []
    known = set(RUN_FILES) | set(names)
    return sorted(p.name for p in out.iterdir() if p.name in known and p.is_file())


def check_out_folder(
    out: str | Path, *, overwrite: bool = False, names: Iterable[str] = ()
) -> None:
    """Refuse ``out`` when it is a file, or holds an earlier run's files (:data:`RUN_FILES`
    and ``names``) and ``overwrite`` is False (an InputError naming the files); checked before
    a run starts its work."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("the output folder is a file", file=out)
    earlier = earlier_run_files(out, names)
    if earlier and not overwrite:
        shown = ", ".join(earlier[:4]) + (", ..." if len(earlier) > 4 else "")
        raise InputError(
            f"the output folder holds the files of an earlier run ({shown}); the new files "
            "would sit beside them: choose a new or empty folder, or allow replacing them",
            file=out,
        )


def write_run(
    out: str | Path,
    write: Callable[[Path], Iterable[Path]],
    *,
    overwrite: bool = False,
    names: Iterable[str] = (),
) -> list[Path]:
    """Write a run's files into the folder ``out`` as a whole.

    ``write(folder)`` writes the files into a new folder beside ``out`` and returns their
    paths; the new folder then takes the place of ``out`` (see the module docstring), and the
    files' final paths are returned.

    Parameters
    ----------
    out : str or pathlib.Path
        The output folder (created with its parents if needed).
    write : callable
        Writes the run's files into the folder it is given; returns their paths.
    overwrite : bool, default False
        Replace an earlier run's files in ``out`` instead of refusing the folder.
    names : iterable of str, optional
        Further names of an earlier run's files (besides :data:`RUN_FILES`), e.g. every file
        of an earlier synthetic extract.

    Returns
    -------
    list of pathlib.Path
        The files written, in ``out``.

    Raises
    ------
    InputError
        If ``out`` is a file, or holds an earlier run's files and ``overwrite`` is False.

    Examples
    --------
    >>> from pathlib import Path
    >>> from reawaken.run_folder import write_run
    >>> def table(folder):
    ...     path = folder / "estimates.csv"
    ...     path.write_text("term,ratio\\nx,1.5\\n")
    ...     return [path]
    >>> [p.as_posix() for p in write_run("est", table)]
    ['est/estimates.csv']
    >>> try:
    ...     write_run("est", table)
    ... except Exception as exc:
    ...     print(type(exc).__name__)
    InputError
    >>> [p.name for p in write_run("est", table, overwrite=True)]
    ['estimates.csv']
    """
    given = Path(out)
    out = given.resolve()
    names = tuple(names)
    check_out_folder(out, overwrite=overwrite, names=names)
    out.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        written = [Path(p).name for p in write(new)]
        # another run may have written meanwhile
        check_out_folder(out, overwrite=overwrite, names=names)
        _put_in_place(new, out, names)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return [given / name for name in written]


def _put_in_place(new: Path, out: Path, names: Iterable[str] = ()) -> None:
    """Make the folder ``new`` the folder ``out``: a swap when ``out`` holds an earlier run's
    files and nothing else; otherwise the earlier run's files (if any) removed and the new ones
    moved in."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(new, 0o777 & ~umask)  # mkdtemp makes an owner-only folder
    if not out.exists():
        os.replace(new, out)
        return
    written = [p.name for p in new.iterdir()]
    earlier = earlier_run_files(out, [*written, *names])
    others = [p for p in out.iterdir() if p.name not in earlier]
    if earlier and not others:
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
        os.replace(new, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    for name in earlier:
        (out / name).unlink()
    for name in written:
        os.replace(new / name, out / name)
    new.rmdir()
