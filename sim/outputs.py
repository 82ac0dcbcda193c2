"""Writing output files safely: check the target before a run, write atomically, never clobber other files.

Every command that writes (run, experiment, report, plot, schema; ``run --trace``) checks its output
paths before any work: the folder must be creatable and writable (a test file is created and removed
in it), the target must not be a folder or a special file, and an existing file is replaced only if
it is an output of wfsim of the same kind (the caller says how to recognise one), never a scenario or
any other file. Results are then written to a temporary file in the same folder and renamed over the
target (``os.replace``, atomic on one filesystem), so a killed or failed run never leaves a damaged or
half-written file in place of a good one.

Like ``sim.vocabulary`` this module sits below every other and uses nothing of ``sim``.
"""
from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

TEMP_PREFIX = ".wfsim-"           # temporary files: hidden, and named so that they are recognisable


class OutputError(ValueError):
    """An output path that cannot or must not be written; the message names the option (exit 2)."""


def _existing_ancestor(folder: Path) -> Path:
    p = folder
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_folder(folder: str | Path, option: str) -> Path:
    """A folder that exists or can be created, and in which files can be written; it is not created here
    (only probed with a temporary file in its nearest existing ancestor)."""
    try:
        return _check_folder(Path(folder), option)
    except OSError as e:                        # a name too long, a loop of links, …
        raise OutputError(f"{option}: cannot use {folder}: {e.strerror or e}") from None


def _check_folder(folder: Path, option: str) -> Path:
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option}: {folder} is a file, not a folder")
    base = _existing_ancestor(folder.absolute())
    if not base.is_dir():
        raise OutputError(f"{option}: cannot create {folder}: {base} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=base)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"{option}: cannot write in {base}: {e.strerror or e}") from None
    return folder


def check_file(path: str | Path, option: str, is_ours: Callable[[Path], bool], what: str) -> bool:
    """Check that ``path`` can be written with a ``what`` (e.g. "results file"); returns True if it exists
    (a previous output of wfsim, which will be replaced). ``is_ours(path)`` recognises wfsim's own files."""
    try:
        return _check_file(Path(path), option, is_ours, what)
    except OSError as e:
        raise OutputError(f"{option}: cannot use {path}: {e.strerror or e}") from None


def _check_file(path: Path, option: str, is_ours: Callable[[Path], bool], what: str) -> bool:
    if path.is_dir():
        raise OutputError(f"{option}: {path} is a folder; give a file path")
    check_folder(path.parent, option)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    except OSError as e:
        raise OutputError(f"{option}: cannot use {path}: {e.strerror or e}") from None
    if stat.S_ISLNK(mode):
        mode = path.stat().st_mode if path.exists() else mode
    if not stat.S_ISREG(mode):
        raise OutputError(f"{option}: {path} is not a regular file (a device, pipe or socket); give a file path")
    if not recognised(is_ours, path):
        raise OutputError(f"{option}: {path} exists and is not a wfsim {what}; wfsim writes over its own outputs "
                          "only: choose another path, or move the file away")
    return True


def recognised(is_ours: Callable[[Path], bool], path: Path) -> bool:
    """``is_ours(path)``, False if the file cannot even be read as one of ours."""
    try:
        return bool(is_ours(path))
    except Exception:  # noqa: BLE001 - a file that cannot even be read is not one of ours
        return False


def starts_with(path: Path, prefix: bytes) -> bool:
    """Whether the file begins with ``prefix`` (reads only that many bytes)."""
    with open(path, "rb") as f:
        return f.read(len(prefix)) == prefix


@contextmanager
def atomic(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix) to write to; on success it replaces ``path``
    atomically, on any error (or interruption) it is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.stem[:40]}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        _flush(tmp)
        os.chmod(tmp, 0o666 & ~_umask())            # as an ordinary new file (mkstemp makes it private)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _flush(path: Path) -> None:
    """Push the file's data to disk before the rename makes it visible (a power cut then leaves the old
    file or the new one, not an empty one)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
