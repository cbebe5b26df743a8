"""What a survey costs: the workflow on a simulated sector of realistic size, per stage.

Simulates sector 1 with ``--stars`` light curves (20,000 by default, the size of a
real 2-minute sector) and sector 2 with ``--small`` (2,000), serves them like MAST on
127.0.0.1, and runs the Snakemake workflow through download, preprocess, gls, infer
and threshold, scoring with a full-size CALNet (untrained, seeded: inference costs
the same whatever the weights). Every rule has a ``benchmark:`` file (wall time, CPU
time, peak RSS of the job's process tree); from them the bench prints

- throughput per stage (files/s, segments/s, CPU seconds per file) on the big sector,
- peak memory per job on both sectors, to show it depends on ``chunk_size``, not on
  the size of the sector,
- a projection of CPU hours and wall time for sectors 1-74 (``--survey`` light
  curves, 1.3 M by default) on ``--nodes`` nodes of ``--cores-per-node`` cores,

and records them in bench/RESULTS.md. Training and the per-survey stages (catalog,
report) are not included: they run once, not per sector.

Run: .venv/bin/python bench/survey.py [--stars 20000] [--small 2000] [--cores 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py
import yaml

from ebscan.inference import MICRO_BATCH
from ebscan.mirror_server import MirrorServer
from ebscan.simulate import build_mirror

from results import record

REPO = Path(__file__).resolve().parents[1]
STAGES = ("download", "preprocess", "gls", "infer", "threshold")
BIG, SMALL = 1, 2  # sector numbers


def simulate(mirror: Path, stars: int, small: int, jobs: int) -> float:
    start = time.perf_counter()
    build_mirror(mirror, [BIG], stars, seed=74, jobs=jobs)
    build_mirror(mirror, [SMALL], small, seed=74, jobs=jobs)
    return time.perf_counter() - start


def save_model(path: Path) -> None:
    """A full-size CALNet with seeded initial weights, saved as the workflow loads it."""
    import keras

    from ebscan.models import build

    keras.utils.set_random_seed(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    build("calnet").save(path)


def run_workflow(out: Path, server: MirrorServer, model: Path, cores: int, chunk: int) -> float:
    config = {
        "sectors": [BIG, SMALL],
        "results": str(out / "results"),
        "chunk_size": chunk,
        "mast": {
            "bulk_script_url": server.bulk_script_url,
            "download_url": server.download_url,
            "concurrency": 8,
        },
        "training": {"model_path": str(model)},
    }
    config_path = out / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    targets = [f"{out}/results/scores/sector_{s}.csv" for s in (BIG, SMALL)]
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "workflow" / "Snakefile"),
        "--configfile",
        str(config_path),
        "--cores",
        str(cores),
        *targets,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the workflow failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def read_benchmarks(results: Path) -> dict[tuple[str, int], list[dict]]:
    """(stage, sector) -> one benchmark row per job (s, cpu_time, max_rss in MB)."""
    rows = defaultdict(list)
    for stage in STAGES:
        for path in sorted((results / "benchmarks" / stage).rglob("*.tsv")):
            # benchmarks/threshold/sector_N.tsv, else benchmarks/STAGE/sector_N/chunk_M.tsv
            folder = path.stem if stage == "threshold" else path.parent.name
            sector = int(folder.removeprefix("sector_"))
            with open(path, newline="") as handle:
                rows[stage, sector] += [
                    {key: float(row[key]) for key in ("s", "cpu_time", "max_rss")}
                    for row in csv.DictReader(handle, delimiter="\t")
                ]
    return rows


def sector_counts(results: Path, sector: int) -> tuple[int, int, int]:
    """Light curves, segments and bytes downloaded of one sector."""
    files = segments = 0
    for shard in (results / "shards" / f"sector_{sector}").glob("chunk_*.h5"):
        with h5py.File(shard) as f:
            segments += f["segments"].shape[0]
            names = set(f["segments"]["source_file"]) | set(f["rejects"]["source_file"])
            files += len(names)
    size = sum(p.stat().st_size for p in (results / "lightcurves" / f"sector_{sector}").iterdir())
    return files, segments, size


def _default_batch_size() -> int:
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    return schema["properties"]["inference"]["properties"]["batch_size"]["default"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stars", type=int, default=20_000, help="light curves, big sector")
    parser.add_argument("--small", type=int, default=2_000, help="light curves, small sector")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--survey", type=int, default=1_300_000, help="light curves, S1-74")
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--cores-per-node", type=int, default=32)
    parser.add_argument("--mast-mb-s", type=float, default=100.0, help="MAST bandwidth, MB/s")
    # The shared real SPOC files: 72 files, 135 MiB.
    parser.add_argument("--file-mb", type=float, default=1.97, help="size of a real SPOC file")
    parser.add_argument("--out", default="results/bench-survey")
    parser.add_argument("--keep", action="store_true", help="keep the mirror and results")
    args = parser.parse_args()

    out = (REPO / args.out).resolve()
    if (out / "results").exists():
        shutil.rmtree(out / "results")
    simulate_s = simulate(out / "mirror", args.stars, args.small, args.cores)
    save_model(out / "model" / "model.keras")
    with MirrorServer(str(out / "mirror" / "files"), str(out / "mirror")) as server:
        wall_s = run_workflow(
            out, server, out / "model" / "model.keras", args.cores, args.chunk_size
        )
    results = out / "results"
    bench = read_benchmarks(results)
    counts = {s: sector_counts(results, s) for s in (BIG, SMALL)}
    files, segments, size = counts[BIG]

    rows = []
    cpu_per_file = {}
    for stage in STAGES:
        jobs = bench[stage, BIG]
        job_s = sum(j["s"] for j in jobs)
        cpu_s = sum(j["cpu_time"] for j in jobs)
        cpu_per_file[stage] = cpu_s / files
        rows.append(
            [
                stage,
                str(len(jobs)),
                f"{job_s:.0f}",
                f"{cpu_s:.0f}",
                f"{files / job_s:.1f}",
                f"{segments / job_s:.1f}",
                f"{1e3 * cpu_s / files:.1f}",
                f"{max(j['max_rss'] for j in jobs):.0f}",
            ]
        )
    record(
        "Survey throughput per stage (bench/survey.py)",
        [
            "stage",
            "jobs",
            "job wall s",
            "CPU s",
            "files/s per job",
            "segments/s per job",
            "CPU ms/file",
            "peak RSS/job MB",
        ],
        rows,
        f"Sector {BIG}: {files:,} simulated light curves ({segments:,} segments, "
        f"{size / 2**30:.1f} GiB) in chunks of {args.chunk_size}, on {args.cores} cores "
        f"(`--cores {args.cores}`; preprocess and infer jobs use 2 threads, gls 1). "
        f"Workflow wall time for both sectors: {wall_s:.0f} s; simulating them took "
        f"{simulate_s:.0f} s (not part of a survey). Downloads come from a loopback "
        "server, so their speed says nothing about MAST. Per job: snakemake's "
        "`benchmark:` files (peak RSS of the job's process tree, sampled every second "
        "for the first 30 s, then every 30 s). CALNet full size (8.73 M parameters), "
        "scored with the workflow's defaults: ONNX Runtime on the CPU, batches of "
        f"{_default_batch_size()} (micro-batches of {MICRO_BATCH} segments per core), from the "
        "model's ONNX export: infer jobs never import TensorFlow. The export (one job "
        "per model, not per sector) is not counted.",
    )

    memory_rows = []
    for stage in STAGES:
        peaks = [max(j["max_rss"] for j in bench[stage, s]) for s in (SMALL, BIG)]
        memory_rows.append([stage, *(f"{p:.0f}" for p in peaks), f"{peaks[1] / peaks[0]:.2f}"])
    record(
        "Peak memory per job against sector size (bench/survey.py)",
        [
            "stage",
            f"{counts[SMALL][0]:,} light curves: MB",
            f"{counts[BIG][0]:,} light curves: MB",
            "ratio",
        ],
        memory_rows,
        f"Peak RSS of the largest job of each stage, chunks of {args.chunk_size} light "
        f"curves. A sector {counts[BIG][0] / counts[SMALL][0]:.0f} times larger gives "
        "per-chunk jobs of the same size; only `threshold` (one per sector, a CSV "
        "concatenation, under a second: its RSS is sampled once) reads the whole sector.",
    )

    survey_cpu_h = {stage: cpu_per_file[stage] * args.survey / 3600 for stage in STAGES}
    compute = ("preprocess", "gls", "infer", "threshold")
    total_cpu_h = sum(survey_cpu_h[s] for s in compute)
    survey_bytes = args.file_mb * 1e6 * args.survey
    download_h = survey_bytes / (args.mast_mb_s * 1e6) / 3600
    projection = [
        [stage, f"{survey_cpu_h[stage]:,.1f}"]
        + [f"{survey_cpu_h[stage] / (n * args.cores_per_node):,.2f}" for n in args.nodes]
        for stage in compute
    ]
    projection.append(
        ["all compute", f"{total_cpu_h:,.1f}"]
        + [f"{total_cpu_h / (n * args.cores_per_node):,.2f}" for n in args.nodes]
    )
    projection.append(
        [f"download at {args.mast_mb_s:.0f} MB/s", "-"] + [f"{download_h:,.1f}"] * len(args.nodes)
    )
    record(
        "Projection for sectors 1-74 (bench/survey.py)",
        ["stage", "CPU hours", *(f"wall h, {n} x {args.cores_per_node} cores" for n in args.nodes)],
        projection,
        f"{args.survey:,} light curves ({survey_bytes / 1e12:.1f} TB of FITS at "
        f"{args.file_mb} MB a file, the mean of the shared real SPOC files; the "
        f"simulated ones are {size / files / 1e6:.2f} MB, the same cadences with fewer "
        "columns), CPU time per file measured above. Wall time assumes the jobs keep every "
        "core busy (no queue wait, no idle cores); inference on a "
        "GPU would cut its row (not measured: no GPU here). Downloads are bound by "
        f"MAST's bandwidth, assumed {args.mast_mb_s:.0f} MB/s in all, whatever the "
        "node count.",
    )
    if not args.keep:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
