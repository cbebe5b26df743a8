"""Download throughput against the local MAST stand-in at several concurrency levels.

The server (ebscan.acquire.mirror_server) serves the shared 2-minute light curves under
MAST's URL scheme on 127.0.0.1 with a fixed per-request latency, standing in for a
distant server; each row downloads the same files into a fresh folder with the same
code the workflow uses (retries, verification and rename included).

Run: .venv/bin/python bench/download.py [--latency 0.2] [--levels 1 2 4 8]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ebscan.acquire.mast import download_files
from ebscan.acquire.mirror_server import MirrorServer

from results import record

SPOC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tess-spoc-2min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    names = sorted(p.name for p in SPOC.glob("*-s_lc.fits"))
    truncated = "tess2018206045859-s0001-0000000140599284-0120-s_lc.fits"
    names = [n for n in names if n != truncated]
    total_bytes = sum((SPOC / n).stat().st_size for n in names)
    rows = []
    with MirrorServer(SPOC, latency=args.latency) as server:
        for level in args.levels:
            with tempfile.TemporaryDirectory() as dest:
                start = time.perf_counter()
                outcomes = download_files(names, dest, server.download_url, concurrency=level)
                seconds = time.perf_counter() - start
            assert all(o.status == "downloaded" for o in outcomes)
            rows.append(
                [
                    str(level),
                    str(len(names)),
                    f"{seconds:.2f}",
                    f"{len(names) / seconds:.1f}",
                    f"{total_bytes / seconds / 2**20:.1f}",
                ]
            )
    note = (
        f"{len(names)} shared SPOC files ({total_bytes / 2**20:.0f} MiB), server latency "
        f"{args.latency} s per request, loopback. Each file is verified (opened as a "
        f"light curve) before its rename, which is included in the time."
    )
    record(
        "Download throughput (bench/download.py)",
        ["concurrency", "files", "seconds", "files/s", "MiB/s"],
        rows,
        note,
    )


if __name__ == "__main__":
    main()
