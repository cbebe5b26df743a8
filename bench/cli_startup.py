"""How fast the ebscan command starts, and whether TensorFlow says anything.

Each row runs a command in a fresh process, as a user would, several times, and
takes the median wall and CPU time: ``ebscan --help``, each command's ``--help`` (what the
command costs before its work), and ``ebscan score`` of one light curve with each
engine. The stderr column counts TensorFlow's start-up lines (oneDNN, CPU features,
absl) the run printed. With ``--baseline REV`` the same commands run the code of that
commit too (its ``src`` unpacked from git), under the same load, for a before/after.

The machine's load average is recorded with the table: on shared cores the times
move with it.

Run: .venv/bin/python bench/cli_startup.py [--baseline main] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from results import record

REPO = Path(__file__).resolve().parents[1]
SPOC = REPO.parent / "shared" / "data" / "tess-spoc-2min"
LIGHT_CURVE = SPOC / "tess2020106103520-s0024-0000000199574208-0180-s_lc.fits"
#: What TensorFlow writes on stderr while it starts.
TENSORFLOW_LINES = ("oneDNN", "cpu_feature_guard", "absl::InitializeLog", "rebuild TensorFlow")
NON_ML = ("manifest", "labels", "download", "preprocess", "gls", "merge", "vetted", "audit")


def run(argv: list[str], source: Path, runs: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds of ``python -m ebscan.cli ARGV`` with ``source``
    first on the path, and the TensorFlow lines of its last run."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    wall, cpu, err = [], [], ""
    for _ in range(runs):
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "ebscan.cli", *argv], env=env, capture_output=True, text=True
        )
        wall.append(time.perf_counter() - start)
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime)
        err = done.stderr
    tensorflow = sum(any(mark in line for mark in TENSORFLOW_LINES) for line in err.splitlines())
    return statistics.median(wall), statistics.median(cpu), tensorflow


def unpacked(revision: str, folder: Path) -> Path:
    """The ``src`` folder of ``revision``, written under ``folder``."""
    archive = subprocess.run(
        ["git", "archive", revision, "src"], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    # The pretrained model is not in git (yet); the baseline scores with the same files.
    pretrained = folder / "src" / "ebscan" / "models" / "pretrained"
    if not pretrained.exists():
        pretrained.symlink_to(REPO / "src" / "ebscan" / "models" / "pretrained")
    return folder / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV", help="also time this commit's code")
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "scores.csv"
        commands = {
            "ebscan --help": ["--help"],
            **{f"ebscan {name} --help": [name, "--help"] for name in NON_ML},
            **{f"ebscan {name} --help": [name, "--help"] for name in ("train", "score")},
        }
        scoring = {
            f"ebscan score 1 file (--engine {engine})": [
                *("score", str(LIGHT_CURVE), "--engine", engine, "-o", str(out)),
            ]
            for engine in ("onnxruntime", "keras")
        }
        sources = {"this tree": REPO / "src"}
        if args.baseline:
            sources[args.baseline] = unpacked(args.baseline, Path(work) / "baseline")
        load_before = os.getloadavg()[0]
        rows = []
        for name, argv in {**commands, **scoring}.items():
            row = [name]
            for source in sources.values():
                runs = args.runs if name in commands else 3
                wall, cpu, tensorflow = run(argv, source, runs)
                row += [f"{wall:.2f}", f"{cpu:.2f}", str(tensorflow)]
            rows.append(row)
        load_after = os.getloadavg()[0]
    columns = ["command"]
    for label in sources:
        columns += [f"s ({label})", f"CPU s ({label})", f"TensorFlow lines ({label})"]
    note = (
        f"Median of {args.runs} runs per `--help` row and of 3 per scoring row, each a fresh "
        "process: wall seconds, CPU seconds (user + system, less sensitive to the load) and "
        "TensorFlow's lines on stderr; 1-minute load average "
        f"{load_before:.2f} before and {load_after:.2f} after (2 cores shared with other "
        "work). The target is under 0.5 s for `ebscan --help` and the commands that do not "
        "train or score, with no TensorFlow line unless `--verbose`. `preprocess` and "
        "`score` build their options from ebscan.lightcurves.preprocess (defaults, spline "
        "modes, GLS methods), which imports SciPy's interpolation (about half of their time): the "
        "commands need it to run, and their `--help` pays it too."
    )
    record("Command-line start-up (bench/cli_startup.py)", columns, rows, note)


if __name__ == "__main__":
    main()
