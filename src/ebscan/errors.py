"""The exceptions that carry a file's name and a reason a person can act on."""

from __future__ import annotations

import errno
import os
import shutil


class LightCurveError(Exception):
    """A light-curve file that cannot be turned into segments.

    Every rejection in ebscan is one of these: it names the file and the reason,
    and the reason is what ends up in the ``rejects`` table of a shard.

    Parameters
    ----------
    path : str or os.PathLike
        The offending file.
    reason : str
        Why it was rejected, short and specific (``"truncated: ..."``).
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class InputError(ValueError):
    """A file given to ebscan that is not what it needs: empty, wrong columns, not a shard.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    reason : str
        What is wrong with it and, where it helps, what was expected.
    """

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


#: Errors for which the free space of the file system is worth telling.
_SPACE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class WriteError(OSError):
    """A file that could not be written: a full disk, a quota, no permission.

    The message names the file, the reason and, when space ran out, how much is
    left where the file was going.

    Parameters
    ----------
    path : str or os.PathLike
        The file being written (its final name, not a temporary one).
    cause : OSError
        What the write raised (h5py's errors carry the ``errno`` too).
    """

    def __init__(self, path: str | os.PathLike, cause: OSError) -> None:
        code = cause.errno
        reason = os.strerror(code) if code else str(cause)
        super().__init__(code, reason, os.fspath(path))
        self.free: int | None = None
        self.folder = _existing_folder(self.filename)
        if code in _SPACE_ERRORS:
            self.free = shutil.disk_usage(self.folder).free

    def __str__(self) -> str:
        text = f"cannot write {self.filename}: {self.strerror}"
        if self.free is not None:
            text += f" ({_size(self.free)} free in {self.folder})"
        return text


def _existing_folder(path: str) -> str:
    """The nearest folder above ``path`` that exists."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    return folder


def _size(n_bytes: int) -> str:
    """``n_bytes`` for a person: ``512 bytes``, ``1.5 MB``."""
    if n_bytes < 1000:
        return f"{n_bytes} bytes"
    value = float(n_bytes)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{value:.1f} {unit}"
