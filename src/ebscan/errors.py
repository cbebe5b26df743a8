"""The one exception type that marks a light curve as rejected."""

from __future__ import annotations

import os


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
