"""Accounting of a results folder: every light curve downloaded or failed, then
in a shard or rejected, and every shard segment scored, per product and sector."""

from __future__ import annotations

import csv
import glob
import os
from collections import Counter

import h5py

from ebscan.atomic import write_csv
from ebscan.mast import read_download_report, read_manifest
from ebscan.shards import _as_str

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


def audit_sector(results: str | os.PathLike, product: str, sector: int) -> dict:
    """Check one product's sector: manifest = downloaded + failed; downloaded = in shards
    + rejected.

    Also: no file counted twice, every shard segment scored once.
    """
    results = os.fspath(results)
    where = f"{product}/sector_{sector}"
    manifest = {row["filename"] for row in read_manifest(f"{results}/manifests/{where}.csv")}
    reports = [
        row
        for path in sorted(glob.glob(f"{results}/downloads/{where}/chunk_*.tsv"))
        for row in read_download_report(path)
    ]
    arrived = [r["filename"] for r in reports if r["status"] != "failed"]
    failed = [r["filename"] for r in reports if r["status"] == "failed"]
    with_segments: Counter = Counter()
    rejected: Counter = Counter()
    segments = 0
    for path in sorted(glob.glob(f"{results}/shards/{where}/chunk_*.h5")):
        with h5py.File(path, "r") as f:
            names = [os.path.basename(p) for p in _as_str(f["segments"]["source_file"])]
            segments += len(names)
            with_segments.update(set(names))
            rejected.update(os.path.basename(p) for p in _as_str(f["rejects"]["source_file"]))
    scored = 0
    for path in glob.glob(f"{results}/scores/{where}/chunk_*.csv"):
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
