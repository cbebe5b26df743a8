"""Paths that ebscan's files record: relative to the file that records them.

A shard names the light curves it was made from, a score table the same, a catalog
the best light curve of each candidate, a training table its shards. Each stores
those paths relative to its own folder, so they resolve the same from any working
directory, and a results folder moved (or mounted elsewhere) as a whole still
holds. In memory, readers hand out absolute paths. Paths are joined and cut
lexically (``os.path.normpath``), never through symbolic links, so a folder read
through a link resolves inside that link.
"""

from __future__ import annotations

import os


def recorded(path: str | os.PathLike, record: str | os.PathLike) -> str:
    """``path`` as the file ``record`` stores it: relative to ``record``'s folder.

    Examples
    --------
    >>> recorded("/r/lightcurves/sector_1/a.fits", "/r/shards/sector_1/chunk_0.h5")
    '../../lightcurves/sector_1/a.fits'
    """
    folder = os.path.dirname(os.path.abspath(record))
    return os.path.relpath(os.path.abspath(path), folder)


def resolved(stored: str, record: str | os.PathLike) -> str:
    """The absolute path that ``stored``, read from the file ``record``, names.

    The inverse of :func:`recorded`; an absolute ``stored`` is returned as it is.
    """
    folder = os.path.dirname(os.path.abspath(record))
    return os.path.normpath(os.path.join(folder, stored))
