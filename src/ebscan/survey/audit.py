"""Accounting of a results folder: every light curve downloaded or failed, then
in a shard or rejected, and every shard segment scored, per product and sector."""

from __future__ import annotations

import csv
import glob
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from ebscan.acquire.mast import read_download_report, read_manifest
from ebscan.atomic import write_csv

AUDIT_FIELDS = (
    "product",
    "sector",
    "manifest",
    "downloaded",
    "failed",
    "with_segments",
    "rejected",
    "segments",
    "scored",
    "ok",
    "problems",
)


#: The files of a product's sector that the audit and the report read, by kind: its
#: manifest, its chunks' download reports, shards and score tables, and its score table.
SECTOR_FILES = ("manifest", "download_reports", "shards", "score_tables", "sector_scores")


def sector_files(
    results: str | os.PathLike, product: str, sector: int, chunks: Sequence[int] | None = None
) -> dict:
    """The :data:`SECTOR_FILES` of a sector in a results folder as the workflow lays it out.

    ``chunks`` names the sector's chunks (the workflow knows them from its manifest,
    ``workflow/rules/common.smk``, before their files exist); by default the chunks'
    files are those found in the folder (the command line's way).
    """
    results = os.fspath(results)
    where = f"{product}/sector_{sector}"

    def chunked(kind: str, suffix: str) -> list[str]:
        numbers = chunks
        if numbers is None:
            names = (os.path.basename(p) for p in glob.glob(f"{results}/{kind}/{where}/*"))
            found = (re.fullmatch(rf"chunk_(\d+)\.{suffix}", name) for name in names)
            numbers = sorted(int(match.group(1)) for match in found if match)
        return [f"{results}/{kind}/{where}/chunk_{number}.{suffix}" for number in numbers]

    return {
        "manifest": f"{results}/manifests/{where}.csv",
        "download_reports": chunked("downloads", "tsv"),
        "shards": chunked("shards", "h5"),
        "score_tables": chunked("scores", "csv"),
        "sector_scores": f"{results}/scores/{where}.csv",
    }


def indexed_sector_files(named: object, index: int) -> dict:
    """The :data:`SECTOR_FILES` of the ``index``-th surveyed sector from attributes named
    ``<kind>_<index>`` (how the workflow's rules name their inputs)."""
    return {kind: getattr(named, f"{kind}_{index}") for kind in SECTOR_FILES}


def download_rows(files: Mapping) -> list[dict]:
    """Every row of a sector's download reports (``files["download_reports"]``)."""
    return [row for path in files["download_reports"] for row in read_download_report(path)]


def audit_sector(product: str, sector: int, files: Mapping) -> dict:
    """Check one product's sector: manifest = downloaded + failed; downloaded = in shards
    + rejected.

    Also: no file counted twice, every shard segment scored once. ``files`` holds the
    sector's :data:`SECTOR_FILES` (:func:`sector_files` finds them in a results folder).
    """
    # Imported here: the workflow imports this module to name the audit's files
    # (sector_files) whenever it parses the Snakefile, which every job does.
    import h5py

    from ebscan.lightcurves.shards import as_str

    manifest = {row["filename"] for row in read_manifest(files["manifest"])}
    reports = download_rows(files)
    arrived = [r["filename"] for r in reports if r["status"] != "failed"]
    failed = [r["filename"] for r in reports if r["status"] == "failed"]
    with_segments: Counter = Counter()
    rejected: Counter = Counter()
    segments = 0
    for path in files["shards"]:
        with h5py.File(path, "r") as f:
            names = [os.path.basename(p) for p in as_str(f["segments"]["source_file"])]
            segments += len(names)
            with_segments.update(set(names))
            rejected.update(os.path.basename(p) for p in as_str(f["rejects"]["source_file"]))
    scored = 0
    for path in files["score_tables"]:
        with open(path, newline="") as handle:
            scored += sum(1 for _ in csv.DictReader(handle))
    problems = []
    if set(arrived) | set(failed) != manifest or len(arrived) + len(failed) != len(manifest):
        problems.append(
            f"manifest has {len(manifest)} files, downloads account for "
            f"{len(arrived)} arrived + {len(failed)} failed"
        )
    accounted = set(with_segments) | set(rejected)
    if accounted != set(arrived) or sum(with_segments.values()) + sum(rejected.values()) != len(
        arrived
    ):
        missing = sorted(set(arrived) - accounted)
        twice = sorted(n for n, k in (with_segments + rejected).items() if k > 1)
        problems.append(
            f"{len(arrived)} files arrived, shards account for {len(with_segments)} with "
            f"segments + {len(rejected)} rejected"
            + (f"; missing e.g. {missing[0]}" if missing else "")
            + (f"; counted twice e.g. {twice[0]}" if twice else "")
        )
    if scored != segments:
        problems.append(f"{segments} segments in shards but {scored} scored")
    return {
        "product": product,
        "sector": sector,
        "manifest": len(manifest),
        "downloaded": len(arrived),
        "failed": len(failed),
        "with_segments": len(with_segments),
        "rejected": len(rejected),
        "segments": segments,
        "scored": scored,
        "ok": int(not problems),
        "problems": "; ".join(problems),
    }


def surveyed_in(results: str | os.PathLike) -> list[tuple[str, int]]:
    """(product, sector) of every manifest under ``results``, sorted."""
    names = glob.glob(os.path.join(os.fspath(results), "manifests", "*", "sector_*.csv"))
    return sorted(
        (os.path.basename(os.path.dirname(n)), int(os.path.basename(n)[7:-4])) for n in names
    )


def write_audit(rows: list[dict], path: str | os.PathLike) -> None:
    """Write the audit table as TSV, atomically."""
    write_csv(path, rows, AUDIT_FIELDS, delimiter="\t")
