"""The demo survey: simulated sectors, a local stand-in for MAST, the whole workflow.

``python -m ebscan.demo`` (what ``make demo`` runs) simulates the demo sectors into
``results/demo-mirror`` (SPOC-format files plus MAST-style bulk scripts), serves that
folder under MAST's URL paths on 127.0.0.1 at the port of ``config/demo.yaml``
(:mod:`ebscan.mirror_server`), and runs the
Snakemake workflow against it, so the real manifest and download code fetch every
light curve.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

import yaml

from ebscan.config import parse_sectors
from ebscan.mirror_server import MirrorServer
from ebscan.simulate import build_mirror

MIRROR = "results/demo-mirror"


def serve(mirror: str, port: int) -> MirrorServer:
    """Serve a mirror built by :func:`build_mirror` on 127.0.0.1:``port``, MAST's way."""
    try:
        server = MirrorServer(os.path.join(mirror, "files"), mirror, port=port)
    except OSError as exc:
        raise SystemExit(
            f"ebscan demo: cannot serve the mirror on 127.0.0.1:{port} ({exc.strerror}); "
            "free the port or change it in the demo config"
        ) from None
    return server.start()


def cores_args(cores: int | None, snakemake_args: list[str]) -> list[str]:
    """``--cores`` for snakemake: as asked, else all of them where no profile decides."""
    if cores is not None:
        return ["--cores", str(cores)]
    if any(arg.startswith(("--profile", "--workflow-profile")) for arg in snakemake_args):
        return []
    return ["--cores", str(os.cpu_count() or 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ebscan.demo", description=__doc__)
    parser.add_argument("--configfile", default="config/demo.yaml")
    parser.add_argument("--stars", type=int, default=150, help="light curves per sector")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--mirror", default=MIRROR, help="where the simulated sectors go")
    parser.add_argument(
        "--cores",
        type=int,
        help="cores for snakemake (default: all of them, unless a profile sets them)",
    )
    parser.add_argument("snakemake_args", nargs="*", help="passed on to snakemake")
    args = parser.parse_args(argv)
    with open(args.configfile) as handle:
        config = yaml.safe_load(handle)
    sectors = parse_sectors(config["sectors"])
    port = urlparse(config["mast"]["download_url"]).port
    start = time.perf_counter()
    print(f"Simulating {args.stars} light curves in each of sectors {sectors} -> {args.mirror}")
    build_mirror(args.mirror, sectors, args.stars, args.seed)
    server = serve(args.mirror, port)
    print(f"Serving it like MAST at {server.url}/ (the workflow downloads from there)")
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        "workflow/Snakefile",
        "--configfile",
        args.configfile,
        *cores_args(args.cores, args.snakemake_args),
        *args.snakemake_args,
    ]
    try:
        status = subprocess.call(command)
    finally:
        server.stop()
    if status != 0:
        print(
            f"ebscan demo: the workflow failed (exit {status}); see the logs under "
            f"{config['results']}/logs",
            file=sys.stderr,
        )
        return status
    results = config["results"]
    # Snakemake 9 can end a run with checkpoints and group jobs early and still exit
    # 0 (docs/scaling.md), so a dry run checks that nothing is left to do.
    check = subprocess.run([*command, "--dry-run"], capture_output=True, text=True)
    if "Nothing to be done" not in check.stdout + check.stderr:
        print(
            "ebscan demo: the workflow exited 0 but left jobs undone; run the demo "
            "again to finish it",
            file=sys.stderr,
        )
        return 1
    print(f"\nDemo survey done in {time.perf_counter() - start:.0f} s.")
    print(f"  candidate catalog: {results}/catalog/candidates.csv")
    print(f"  all stars:         {results}/catalog/stars.csv")
    print(f"  report:            {results}/report/report.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
