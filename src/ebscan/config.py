"""Helpers that turn the workflow's config into ebscan objects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ebscan.preprocess import PreprocessConfig
from ebscan.products import get_product

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


def survey_products(products: Mapping[str, dict | None], sectors: Iterable[int | str]) -> dict:
    """The ``products`` config section resolved: each product's sectors and bulk script.

    Parameters
    ----------
    products : mapping
        Product name (:data:`ebscan.products.PRODUCTS`) -> its options or None:
        ``sectors`` (default: ``sectors``) and ``bulk_script_url`` (default: MAST's
        script for the product); ``False`` leaves the product out (a config file given
        on the command line adds to ``config/config.yaml``'s products, never removes).
    sectors : iterable
        The survey's sectors (the top-level ``sectors``).

    Returns
    -------
    dict
        Product name -> ``{"sectors": [...], "bulk_script_url": ...}``, in config order.

    Raises
    ------
    ValueError
        Naming an unknown product or a bad sector entry, or when every product is left
        out.
    """
    resolved = {}
    for name, options in products.items():
        if options is False:
            continue
        options = options if isinstance(options, dict) else {}
        try:
            product = get_product(name)
            own = parse_sectors(options.get("sectors") or sectors)
        except ValueError as exc:
            raise ValueError(f"products: {name}: {exc}") from None
        resolved[name] = {
            "sectors": own,
            "bulk_script_url": options.get("bulk_script_url") or product.bulk_script_url,
        }
    if not resolved:
        raise ValueError("products: every product is set to false; survey at least one")
    return resolved
