"""What a survey costs: the workflow on sectors of realistic size, per stage and product.

Simulates 2-minute sector 1 with ``--stars`` light curves (20,000 by default, the size
of a real 2-minute sector) and sector 2 with ``--small`` (2,000); makes a full-frame-image
sector 14 of the TESS-SPOC product from every shared real 30-minute light curve of
sector 14 (``../shared/data/tess-ffi-30min*``, renamed as MAST names TESS-SPOC files);
serves them like MAST on 127.0.0.1, and runs the Snakemake workflow on both products
through download, preprocess, gls, infer and threshold, scoring with the pretrained
CALNet a survey uses by default (``--model pretrained``) or with the paper's full-size
CALNet (``--model full``: untrained, seeded; inference costs the same whatever the
weights). Every rule has a
``benchmark:`` file (wall time, CPU time, peak RSS of the job's process tree); from
them the bench prints

- throughput per stage (files/s, segments/s, CPU seconds per file) on the big 2-minute
  sector and on the FFI sector,
- peak memory per job on both 2-minute sectors, to show it depends on ``chunk_size``,
  not on the size of the sector,
- a projection of CPU hours and wall time for the 2-minute survey of sectors 1-74
  (``--survey`` light curves, 1.3 M by default) and for the FFI survey of sectors 14-26
  (``--ffi-sectors`` of ``--ffi-per-sector`` light curves: 13 x 160,000) on ``--nodes``
  nodes of ``--cores-per-node`` cores, with the volume to download,

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

import fitsio
import h5py
import numpy as np
import yaml

from ebscan.acquire.mirror_server import MirrorServer
from ebscan.acquire.products import SPOC_2MIN, TESS_SPOC_FFI
from ebscan.learn.pretrained import pretrained_model
from ebscan.lightcurves.io import read_lightcurve
from ebscan.sim.simulate import build_mirror
from ebscan.survey.inference import MICRO_BATCH

from results import record

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
STAGES = ("download", "preprocess", "gls", "infer", "threshold")
BIG, SMALL, FFI = 1, 2, 14  # sector numbers
TWO_MIN, FFI_PRODUCT = SPOC_2MIN.name, TESS_SPOC_FFI.name


def simulate(mirror: Path, stars: int, small: int, jobs: int) -> float:
    start = time.perf_counter()
    build_mirror(mirror, [BIG], stars, seed=74, jobs=jobs)
    build_mirror(mirror, [SMALL], small, seed=74, jobs=jobs)
    return time.perf_counter() - start


def ffi_sector(files: Path) -> list[Path]:
    """Link every shared 30-minute light curve of sector ``FFI`` into ``files`` under its
    TESS-SPOC name; returns the sources."""
    sources = {}
    for path in sorted(SHARED.glob("tess-ffi-30min*/*.fits")):
        lc = read_lightcurve(path)
        if lc.sector == FFI:
            sources[TESS_SPOC_FFI.filename.format(tic=lc.tic, sector=FFI)] = path
    for name, path in sources.items():
        (files / name).unlink(missing_ok=True)
        (files / name).symlink_to(path)
    return list(sources.values())


def tess_spoc_file_mb(cadences: float) -> float:
    """Estimated size of a TESS-SPOC light-curve file of ``cadences`` rows: a shared SPOC
    2-minute file's bytes per row times the rows, plus its headers and aperture image
    (TESS-SPOC files have the 2-minute files' columns and extensions)."""
    path = next(SHARED.glob("tess-spoc-2min/tess2018206045859-s0001-*-s_lc.fits"))
    with fitsio.FITS(str(path)) as fits:
        header = fits["LIGHTCURVE"].read_header()
        row_bytes, rows = header["NAXIS1"], header["NAXIS2"]
    fixed = path.stat().st_size - row_bytes * rows
    return (fixed + row_bytes * cadences) / 1e6


#: Below this peak RSS (MB) snakemake sampled a job's shell before its Python started
#: (a Python job takes tens of MB): the job ended before a sample of it.
UNSAMPLED_MB = 10.0


def _megabytes(peak_rss: float) -> str:
    return f"{peak_rss:.0f}" if peak_rss >= UNSAMPLED_MB else "-"


def parameters(count: int) -> str:
    """``"8.73 M parameters"``."""
    return f"{count / 1e6:.2f} M parameters"


def save_model(path: Path) -> int:
    """A full-size CALNet with seeded initial weights, saved as the workflow loads it;
    returns its number of parameters."""
    import keras

    from ebscan.models import build

    keras.utils.set_random_seed(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = build("calnet")
    model.save(path)
    return model.count_params()


def pretrained_parameters() -> int:
    """The number of parameters of the pretrained CALNet."""
    from ebscan.models import load_model

    return load_model(pretrained_model("keras")).count_params()


def run_workflow(out: Path, server: MirrorServer, model: str, cores: int, chunk: int) -> float:
    config = {
        "sectors": [BIG, SMALL],
        "results": str(out / "results"),
        "chunk_size": chunk,
        "products": {
            TWO_MIN: {"bulk_script_url": server.script_url(TWO_MIN)},
            FFI_PRODUCT: {"sectors": [FFI], "bulk_script_url": server.script_url(FFI_PRODUCT)},
        },
        "mast": {"download_url": server.download_url, "concurrency": 8},
        "training": {"model_path": model},
    }
    config_path = out / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    targets = [
        f"{out}/results/scores/{product}/sector_{s}.csv"
        for product, s in ((TWO_MIN, BIG), (TWO_MIN, SMALL), (FFI_PRODUCT, FFI))
    ]
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


def read_benchmarks(results: Path) -> dict[tuple[str, str, int], list[dict]]:
    """(stage, product, sector) -> one benchmark row per job (s, cpu_time, max_rss in MB)."""
    rows = defaultdict(list)
    for stage in STAGES:
        for path in sorted((results / "benchmarks" / stage).rglob("*.tsv")):
            # benchmarks/threshold/PRODUCT/sector_N.tsv, else
            # benchmarks/STAGE/PRODUCT/sector_N/chunk_M.tsv
            folder = path if stage == "threshold" else path.parent
            sector = int(folder.stem.removeprefix("sector_"))
            with open(path, newline="") as handle:
                rows[stage, folder.parent.name, sector] += [
                    {key: float(row[key]) for key in ("s", "cpu_time", "max_rss")}
                    for row in csv.DictReader(handle, delimiter="\t")
                ]
    return rows


def sector_counts(results: Path, product: str, sector: int) -> tuple[int, int, int, float]:
    """Light curves, segments, bytes downloaded and median cadences per file of a sector."""
    files = segments = 0
    for shard in (results / "shards" / product / f"sector_{sector}").glob("chunk_*.h5"):
        with h5py.File(shard) as f:
            segments += f["segments"].shape[0]
            names = set(f["segments"]["source_file"]) | set(f["rejects"]["source_file"])
            files += len(names)
    downloaded = list((results / "lightcurves" / product / f"sector_{sector}").glob("*.fits"))
    size = sum(p.stat().st_size for p in downloaded)
    cadences = np.median([read_lightcurve(p).time.size for p in downloaded[:200]])
    return files, segments, size, float(cadences)


def _default_batch_size() -> int:
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    return schema["properties"]["inference"]["properties"]["batch_size"]["default"]


def throughput(bench: dict, key: tuple[str, int], counts: tuple) -> tuple[list, dict]:
    """Table rows of one product's sector, and its CPU seconds per file by stage."""
    files, segments = counts[:2]
    rows, cpu_per_file = [], {}
    for stage in STAGES:
        jobs = bench[(stage, *key)]
        job_s = sum(j["s"] for j in jobs)
        cpu_s = sum(j["cpu_time"] for j in jobs)
        cpu_per_file[stage] = cpu_s / files
        rows.append(
            [
                f"{key[0]} {key[1]}",
                stage,
                str(len(jobs)),
                f"{job_s:.0f}",
                f"{cpu_s:.0f}",
                f"{files / job_s:.1f}",
                f"{segments / job_s:.1f}",
                f"{1e3 * cpu_s / files:.1f}",
                _megabytes(max(j["max_rss"] for j in jobs)),
            ]
        )
    return rows, cpu_per_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stars", type=int, default=20_000, help="light curves, big sector")
    parser.add_argument("--small", type=int, default=2_000, help="light curves, small sector")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--survey", type=int, default=1_300_000, help="light curves, S1-74")
    parser.add_argument("--ffi-sectors", type=int, default=13, help="FFI sectors (14-26)")
    parser.add_argument(
        "--ffi-per-sector", type=int, default=160_000, help="TESS-SPOC light curves a sector"
    )
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--cores-per-node", type=int, default=32)
    parser.add_argument("--mast-mb-s", type=float, default=100.0, help="MAST bandwidth, MB/s")
    # The shared real SPOC files: 72 files, 135 MiB.
    parser.add_argument("--file-mb", type=float, default=1.97, help="size of a real SPOC file")
    parser.add_argument(
        "--model", choices=("pretrained", "full"), default="pretrained",
        help="the shipped CALNet, or the paper's full-size one (untrained)",
    )  # fmt: skip
    parser.add_argument("--out", default="results/bench-survey")
    parser.add_argument("--keep", action="store_true", help="keep the mirror and results")
    args = parser.parse_args()

    out = (REPO / args.out).resolve()
    if (out / "results").exists():
        shutil.rmtree(out / "results")
    simulate_s = simulate(out / "mirror", args.stars, args.small, args.cores)
    ffi_sources = ffi_sector(out / "mirror" / "files")
    if args.model == "full":
        model_path = str(out / "model" / "model.keras")
        count = save_model(Path(model_path))
        model_text = (
            f"the paper's full-size CALNet ({parameters(count)}; untrained, "
            "seeded: inference costs the same whatever the weights), from its ONNX export "
            "(one job per model, not per sector; not counted)"
        )
    else:
        model_path = "pretrained"
        model_text = (
            f"the pretrained CALNet ({parameters(pretrained_parameters())}), from the "
            "ONNX file that ships with it"
        )
    load = os.getloadavg()
    with MirrorServer(str(out / "mirror" / "files"), str(out / "mirror")) as server:
        wall_s = run_workflow(out, server, model_path, args.cores, args.chunk_size)
    load = [max(a, b) for a, b in zip(load, os.getloadavg(), strict=True)]
    results = out / "results"
    bench = read_benchmarks(results)
    keys = {"big": (TWO_MIN, BIG), "small": (TWO_MIN, SMALL), "ffi": (FFI_PRODUCT, FFI)}
    counts = {name: sector_counts(results, *key) for name, key in keys.items()}
    files, segments, size, _ = counts["big"]
    ffi_files, ffi_segments, ffi_size, ffi_cadences = counts["ffi"]

    rows, cpu_per_file = throughput(bench, keys["big"], counts["big"])
    ffi_rows, ffi_cpu_per_file = throughput(bench, keys["ffi"], counts["ffi"])
    record(
        "Survey throughput per stage (bench/survey.py)",
        [
            "product, sector",
            "stage",
            "jobs",
            "job wall s",
            "CPU s",
            "files/s per job",
            "segments/s per job",
            "CPU ms/file",
            "peak RSS/job MB",
        ],
        rows + ffi_rows,
        f"{TWO_MIN} sector {BIG}: {files:,} simulated 2-minute light curves ({segments:,} "
        f"segments, {size / 2**30:.1f} GiB); {FFI_PRODUCT} sector {FFI}: {ffi_files:,} real "
        f"30-minute light curves ({ffi_segments:,} segments, {ffi_size / 2**20:.0f} MiB; "
        f"every shared one of sector {FFI}, from {len(ffi_sources)} files, served under their "
        f"TESS-SPOC names); chunks of {args.chunk_size}, on {args.cores} cores "
        f"(`--cores {args.cores}`; preprocess and infer jobs use 2 threads, gls 1; load "
        f"average before and after the run at most {load[0]:.1f}, {load[1]:.1f}, "
        f"{load[2]:.1f} over 1, 5 and 15 minutes: other work shared the cores). "
        f"Workflow wall time for the three sectors: {wall_s:.0f} s; simulating the "
        f"2-minute ones took {simulate_s:.0f} s (not part of a survey). Downloads come "
        "from a loopback server, so their speed says nothing about MAST. Per job: "
        "snakemake's `benchmark:` files (peak RSS of the job's process tree, sampled every "
        f"second for the first 30 s, then every 30 s). Scored with {model_text}, with "
        "the workflow's defaults: ONNX Runtime on the CPU, batches "
        f"of {_default_batch_size()} (micro-batches of {MICRO_BATCH} segments per core): "
        "infer jobs never import TensorFlow.",
    )

    memory_rows = []
    for stage in STAGES:
        peaks = [max(j["max_rss"] for j in bench[(stage, *keys[s])]) for s in ("small", "big")]
        sampled = all(p >= UNSAMPLED_MB for p in peaks)
        memory_rows.append(
            [stage, *map(_megabytes, peaks), f"{peaks[1] / peaks[0]:.2f}" if sampled else "-"]
        )
    record(
        "Peak memory per job against sector size (bench/survey.py)",
        [
            "stage",
            f"{counts['small'][0]:,} light curves: MB",
            f"{counts['big'][0]:,} light curves: MB",
            "ratio",
        ],
        memory_rows,
        f"Peak RSS of the largest job of each stage, chunks of {args.chunk_size} light "
        f"curves. A sector {counts['big'][0] / counts['small'][0]:.0f} times larger gives "
        "per-chunk jobs of the same size; only `threshold` (one per sector, a CSV "
        "concatenation, under a second: its RSS is sampled once, or not at all: -) reads "
        "the whole sector.",
    )

    ffi_survey = args.ffi_sectors * args.ffi_per_sector
    ffi_file_mb = tess_spoc_file_mb(ffi_cadences)
    surveys = (
        (args.survey, cpu_per_file, args.file_mb),
        (ffi_survey, ffi_cpu_per_file, ffi_file_mb),
    )
    compute = ("preprocess", "gls", "infer", "threshold")
    cpu_h = [{stage: per[stage] * n / 3600 for stage in compute} for n, per, _ in surveys]
    for hours in cpu_h:
        hours["all compute"] = sum(hours.values())

    def pair(values) -> str:
        return " / ".join(f"{v:,.2f}" for v in values)

    projection = [
        [stage, pair(h[stage] for h in cpu_h)]
        + [pair(h[stage] / (n * args.cores_per_node) for h in cpu_h) for n in args.nodes]
        for stage in (*compute, "all compute")
    ]
    volume = [n * mb * 1e6 for n, _, mb in surveys]
    download_h = [v / (args.mast_mb_s * 1e6) / 3600 for v in volume]
    projection.append(
        [f"download at {args.mast_mb_s:.0f} MB/s", "-"] + [pair(download_h)] * len(args.nodes)
    )
    record(
        "Projection: 2-minute sectors 1-74 and FFI sectors 14-26 (bench/survey.py)",
        [
            "stage",
            "CPU hours (2-min / FFI)",
            *(f"wall h, {n} x {args.cores_per_node} cores" for n in args.nodes),
        ],
        projection,
        f"Each cell: the {TWO_MIN} survey of sectors 1-74, {args.survey:,} light curves "
        f"({volume[0] / 1e12:.1f} TB of FITS at {args.file_mb} MB a file, the mean of the "
        f"shared real SPOC files; the simulated ones are {size / files / 1e6:.2f} MB, the "
        "same cadences with fewer columns), then the "
        f"{FFI_PRODUCT} survey of sectors 14-26, {args.ffi_sectors} x "
        f"{args.ffi_per_sector:,} = {ffi_survey:,} light curves ({volume[1] / 1e12:.2f} TB "
        f"at an estimated {ffi_file_mb:.2f} MB a file: a real TESS-SPOC file has the "
        "2-minute files' columns and extensions, so the shared SPOC files' bytes per "
        f"cadence times the {ffi_cadences:.0f} cadences of a sector-{FFI} file, plus their "
        "headers and aperture image; the shared 30-minute files are lightkurve exports of "
        f"{ffi_size / ffi_files / 1e3:.0f} kB with fewer columns). CPU time per file "
        "measured above, on each product's own files (a 30-minute light curve has a "
        "fifteenth of a 2-minute one's cadences). Wall time assumes the jobs keep every core "
        "busy (no queue wait, no idle cores); inference on a GPU would cut its row (not "
        "measured: no GPU here). Downloads are bound by MAST's bandwidth, assumed "
        f"{args.mast_mb_s:.0f} MB/s in all, whatever the node count.",
    )
    if not args.keep:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
