"""Atomic file writes: a file under its final name is always complete."""

from __future__ import annotations

import contextlib
import csv
import errno
import os
from collections.abc import Iterable, Iterator
from typing import IO

from ebscan.errors import WriteError

#: Errors that only a write raises, wherever in the block they come from.
_WRITE_ONLY_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open ``path + ".tmp"`` for writing; rename it to ``path`` when the block succeeds.

    If the block raises, the temporary file is removed and ``path`` is untouched.
    Parent folders are created. A full disk, a quota or a folder that cannot be
    written raises :class:`ebscan.errors.WriteError` naming ``path``.
    """
    path = os.fspath(path)
    tmp = path + ".tmp"
    try:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            handle = open(tmp, mode, **kwargs)
        except OSError as exc:
            raise WriteError(path, exc) from exc
        try:
            with handle:
                yield handle
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno in _WRITE_ONLY_ERRORS:
                raise WriteError(path, exc) from exc
            raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_csv(
    path: str | os.PathLike, rows: Iterable[dict], fields: Iterable[str], delimiter: str = ","
) -> None:
    """Write dict rows (extra keys ignored) as CSV or TSV, atomically."""
    with atomic_open(path, newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=list(fields), delimiter=delimiter, extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)
