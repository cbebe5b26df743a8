"""Thresholding segment scores and aggregating them per star into the candidate catalog."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

from ebscan.atomic import write_csv
from ebscan.paths import recorded, resolved
from ebscan.tables import read_table

STAR_FIELDS = (
    "tic",
    "ra",
    "dec",
    "tmag",
    "max_score",
    "mean_score",
    "n_segments",
    "n_segments_above",
    "n_sectors",
    "sectors",
    "sectors_above",
    "products",
    "sectors_by_product",
    "candidate",
    "best_product",
    "best_sector",
    "best_segment",
    "best_file",
    "files",
)


#: Columns of a segment score table that thresholding reads.
_SCORE_COLUMNS = ("tic", "sector", "segment", "score", "source_file")


def _read_scores(path: str | os.PathLike, extra: tuple[str, ...] = ()) -> list[dict]:
    return read_table(path, _SCORE_COLUMNS + extra, "score table")


def threshold_scores(
    score_csvs: Iterable[str | os.PathLike],
    threshold: float,
    output: str | os.PathLike,
    product: str = "",
) -> int:
    """Concatenate segment scores and flag those at or above ``threshold``.

    ``product`` (:mod:`ebscan.acquire.products`), when given, is recorded on every row, for the
    catalog to say which products a star's scores came from. Returns the number of
    flagged segments.
    """
    rows, fields = [], None
    for path in score_csvs:
        for row in _read_scores(path):
            row["candidate"] = int(float(row["score"]) >= threshold)
            if product:
                row["product"] = product
            row["source_file"] = recorded(resolved(row["source_file"], path), output)
            rows.append(row)
            fields = fields or list(row)
    write_csv(output, rows, fields or ["tic", "sector", "segment", "score", "candidate"])
    return sum(r["candidate"] for r in rows)


def build_catalog(
    sector_csvs: Iterable[str | os.PathLike], stars_output: str | os.PathLike
) -> list[dict]:
    """Aggregate segment scores per TIC across segments, sectors and products.

    The threshold is applied once, by :func:`threshold_scores`: a segment is above it
    where its ``candidate`` column says so. A long-period binary may eclipse in one
    sector and not in another, so a star is a candidate when any of its segments is
    above the threshold; the mean and the
    count of sectors above show how consistent the evidence is. A star's 2-minute and
    full-frame-image light curves make one row: ``products`` and
    ``sectors_by_product`` (``spoc-2min:1,2;tess-spoc-ffi:14``) say what contributed,
    from the ``product`` column of the score tables (:func:`threshold_scores`).

    Writes every scored star to ``stars_output`` and returns the candidates, best
    first (:func:`ebscan.survey.candidates.enrich` adds periods, flags and plots), with
    ``best_file`` as an absolute path (the table records it relative to itself).
    """
    stars: dict[int, dict] = {}
    for path in sector_csvs:
        for row in _read_scores(path, ("candidate",)):
            tic = int(row["tic"])
            star = stars.setdefault(
                tic,
                {
                    "tic": tic,
                    "scores": [],
                    "above_threshold": [],
                    "sectors": set(),
                    "above": set(),
                    "ra": "",
                    "dec": "",
                    "tmag": "",
                    "best": (-1.0, 0, 0, "", ""),
                    "files": {},
                    "products": {},
                },
            )
            score, sector = float(row["score"]), int(row["sector"])
            product = row.get("product", "")
            source = resolved(row["source_file"], path) if row.get("source_file") else ""
            if score > star["best"][0]:
                star["best"] = (score, sector, int(row["segment"]), source, product)
            if product:
                star["products"].setdefault(product, set()).add(sector)
            if source:
                # Every light curve of the star, in the order first seen: the catalog
                # stage measures periods over all sectors together.
                star["files"].setdefault(source, None)
            star["scores"].append(score)
            star["above_threshold"].append(bool(int(row["candidate"])))
            star["sectors"].add(sector)
            if star["above_threshold"][-1]:
                star["above"].add(sector)
            for key in ("ra", "dec", "tmag"):
                if not star[key] and row.get(key) and not math.isnan(float(row[key])):
                    star[key] = row[key]
    table = []
    for star in stars.values():
        scores = star["scores"]
        table.append(
            {
                "tic": star["tic"],
                "ra": star["ra"],
                "dec": star["dec"],
                "tmag": star["tmag"],
                "max_score": f"{max(scores):.6f}",
                "mean_score": f"{sum(scores) / len(scores):.6f}",
                "n_segments": len(scores),
                "n_segments_above": sum(star["above_threshold"]),
                "n_sectors": len(star["sectors"]),
                "sectors": ";".join(map(str, sorted(star["sectors"]))),
                "sectors_above": ";".join(map(str, sorted(star["above"]))),
                "products": ";".join(sorted(star["products"])),
                "sectors_by_product": ";".join(
                    f"{product}:{','.join(map(str, sorted(sectors)))}"
                    for product, sectors in sorted(star["products"].items())
                ),
                "candidate": int(any(star["above_threshold"])),
                "best_product": star["best"][4],
                "best_sector": star["best"][1],
                "best_segment": star["best"][2],
                "best_file": star["best"][3],
                "files": ";".join(star["files"]),
            }
        )
    table.sort(key=lambda r: (-float(r["max_score"]), r["tic"]))
    write_csv(stars_output, with_recorded_paths(table, stars_output), STAR_FIELDS)
    return [r for r in table if r["candidate"]]


def with_recorded_paths(rows: list[dict], output: str | os.PathLike) -> list[dict]:
    """Catalog rows with ``best_file`` and ``files`` as ``output`` records them
    (:mod:`ebscan.paths`)."""

    def paths(value) -> str:
        return ";".join(recorded(f, output) for f in str(value or "").split(";") if f)

    return [
        {**row, "best_file": paths(row.get("best_file")), "files": paths(row.get("files"))}
        for row in rows
    ]
