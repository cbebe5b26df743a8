"""How long the commands take to give up without a network.

Each row runs a command in a fresh process, as a user would, against a host under the
reserved ``.invalid`` top-level domain: its name never resolves, as no name does
offline. Name-resolution errors are permanent (ebscan.acquire.mast.permanent), so each
request fails at its first attempt instead of going through the retries.

Run: .venv/bin/python bench/offline.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ebscan.acquire.mast import write_manifest

from results import record

SPOC = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tess-spoc-2min"
HOST = "https://mast.ebscan.invalid"


def seconds_to_fail(*args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ebscan.cli", *args], capture_output=True)
    assert done.returncode == 1, done.stderr.decode()[-2000:]
    return time.perf_counter() - start


def main() -> None:
    names = sorted(p.name for p in SPOC.glob("tess2018206045859-s0001-*-s_lc.fits"))
    script_url = f"{HOST}/missions/tess/download_scripts/sector/tesscurl_sector_{{sector}}_lc.sh"
    download_url = f"{HOST}/api/v0.1/Download/file/?uri={{uri}}"
    with tempfile.TemporaryDirectory() as work:
        manifest = Path(work) / "m.csv"
        products = [{"filename": n, "tic": 0, "sector": 1, "uri": ""} for n in names]
        write_manifest(products, manifest)
        commands = {
            "ebscan manifest --sector 1": [
                *("manifest", "--sector", "1", "-o", f"{work}/s1.csv"),
                *("--bulk-script-url", script_url),
            ],
            f"ebscan download ({len(names)} files, concurrency 4)": [
                *("download", "--manifest", str(manifest), "--dest", f"{work}/lc"),
                *("--no-progress", "--download-url", download_url),
            ],
        }
        rows = [[name, f"{seconds_to_fail(*args):.2f}"] for name, args in commands.items()]
    note = (
        "Default retries (5) and timeout. With the code before name-resolution errors "
        "were permanent (commit 7fb6c94) the same commands took 25.0 s and 262.6 s here "
        "(38 s and 4 min 35 s when issue 19 was filed: the backoff has jitter), waiting "
        "out five retries with exponential backoff."
    )
    record("Failing offline (bench/offline.py)", ["command", "seconds to fail"], rows, note)


if __name__ == "__main__":
    main()
