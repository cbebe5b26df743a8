"""Atomic file writes: a file under its final name is always complete."""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterable, Iterator
from typing import IO


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open ``path + ".tmp"`` for writing; rename it to ``path`` when the block succeeds.

    If the block raises, the temporary file is removed and ``path`` is untouched.
    Parent folders are created.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    try:
        with open(tmp, mode, **kwargs) as handle:
            yield handle
        os.replace(tmp, path)
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
