"""The demo survey: simulated sectors, a local stand-in for MAST, the whole workflow.

``python -m ebscan.demo`` (what ``make demo`` runs) simulates the demo sectors into
``results/demo-mirror`` (SPOC-format files plus MAST-style bulk scripts), serves that
folder under MAST's URL paths on 127.0.0.1 at the port of ``config/demo.yaml``
(:mod:`ebscan.acquire.mirror_server`), and runs the
Snakemake workflow against it, so the real manifest and download code fetch every
light curve.

It prints a line as each stage of the workflow starts, keeps Snakemake's own
output in ``RESULTS/logs/snakemake.log``, and ends with the EBs found and where the
catalog, the report and the vetting page are: one screen in all.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import time
from urllib.parse import urlparse

import yaml

from ebscan.acquire.mirror_server import MirrorServer
from ebscan.config import parse_sectors
from ebscan.sim.simulate import build_mirror

MIRROR = "results/demo-mirror"
#: The line of Snakemake's log that starts a job of a rule (or checkpoint).
_JOB_START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
#: Its progress line: ``12 of 35 steps (34%) done``.
_STEPS_DONE = re.compile(r"^(\d+) of (\d+) steps")


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
    print(f"Serving it like MAST at {server.url}/ for the workflow to download")
    results = config["results"]
    snakemake_log = os.path.join(results, "logs", "snakemake.log")
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
    print(f"Running the workflow (Snakemake's log: {snakemake_log}):")
    try:
        status = run_workflow(command, snakemake_log)
    finally:
        server.stop()
    if status != 0:
        print(
            f"ebscan demo: the workflow failed (exit {status}); see {snakemake_log} and the "
            f"job logs under {results}/logs",
            file=sys.stderr,
        )
        return status
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
    catalog = os.path.join(results, "catalog")
    print(f"\nDemo survey done in {time.perf_counter() - start:.0f} s.")
    print(f"  EBs found:         {found(catalog, args.mirror)}")
    print(f"  candidate catalog: {catalog}/candidates.csv")
    print(f"  all stars:         {catalog}/stars.csv")
    print(f"  vetting page:      {catalog}/vetting.html")
    print(f"  report:            {results}/report/report.html")
    return 0


def run_workflow(command: list[str], log_path: str) -> int:
    """Run Snakemake with its output in ``log_path``, printing a line as each rule's
    first job starts (with the time so far and the steps done); returns its exit status."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    start = time.perf_counter()
    started: set[str] = set()
    steps = ""
    failures = []  # Snakemake's "Error in rule X:" and the job log it names
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    with open(log_path) as lines:
        while True:
            finished = process.poll() is not None
            for line in iter(lines.readline, ""):
                line = line.strip()
                if done := _STEPS_DONE.match(line):
                    steps = f"{done.group(1)} of {done.group(2)} steps done"
                if line.startswith("Error in rule") or (failures and line.startswith("log: ")):
                    failures.append(line)
                job = _JOB_START.match(line)
                if job and job.group(1) not in started | {"all"}:
                    started.add(job.group(1))
                    elapsed = time.perf_counter() - start
                    print(f"  {elapsed:5.0f} s  {job.group(1):<14} {steps}".rstrip(), flush=True)
            if finished:
                break
            time.sleep(0.2)
    if process.returncode == 0:
        done = steps or "nothing to do: the results are up to date"
        print(f"  {time.perf_counter() - start:5.0f} s  {done}")
    for line in failures:
        print(f"  {line}", file=sys.stderr)
    return process.returncode


def found(catalog: str, mirror: str) -> str:
    """How many EBs the catalog found, against the simulated truth of the mirror."""
    with open(os.path.join(catalog, "candidates.csv"), newline="") as handle:
        candidates = {int(row["tic"]) for row in csv.DictReader(handle)}
    with open(os.path.join(catalog, "stars.csv"), newline="") as handle:
        n_stars = sum(1 for _ in csv.DictReader(handle))
    with open(os.path.join(mirror, "truth.csv"), newline="") as handle:
        ebs = {int(row["tic"]) for row in csv.DictReader(handle) if row["label"] == "EB"}
    return (
        f"{len(candidates)} of {n_stars} stars ({len(candidates & ebs)} of the {len(ebs)} "
        f"simulated EBs, {len(candidates - ebs)} others)"
    )


if __name__ == "__main__":
    sys.exit(main())
