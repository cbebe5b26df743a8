"""Helpers that turn the workflow's config into ebscan objects."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ebscan.preprocess import PreprocessConfig

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_sectors(values: Iterable[int | str]) -> list[int]:
    """Sorted unique sectors from integers and ranges such as ``"1-74"``.

    Raises
    ------
    ValueError
        Naming the entry that is neither a positive integer nor an increasing range.
    """
    sectors: set[int] = set()
    for value in values:
        match = _RANGE.match(str(value))
        first = int(match.group(1)) if match else 0
        last = int(match.group(2) or first) if match else 0
        if not match or first < 1 or last < first:
            raise ValueError(f"sectors: {value!r} is not a sector number or a range like '1-74'")
        sectors.update(range(first, last + 1))
    if not sectors:
        raise ValueError("sectors: the list is empty")
    return sorted(sectors)


def preprocess_config(preprocess: dict, gls: dict) -> PreprocessConfig:
    """A :class:`PreprocessConfig` from the ``preprocess`` and ``gls`` config sections."""
    values = dict(preprocess)
    values["flux_column"] = values.get("flux_column") or None
    return PreprocessConfig(**values, gls_method=gls["method"])
