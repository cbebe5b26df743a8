"""Shared fixtures: the real data in ../shared, skipped (or failed) when absent."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SPOC = SHARED / "data" / "tess-spoc-2min"
FFI = SHARED / "data" / "tess-ffi-30min"
FFI_KEPLER = SHARED / "data" / "tess-ffi-30min-kepler"
CATALOGS = SHARED / "catalogs"
TRUNCATED = SPOC / "tess2018206045859-s0001-0000000140599284-0120-s_lc.fits"
CM_DRA_S24 = SPOC / "tess2020106103520-s0024-0000000199574208-0180-s_lc.fits"


def require_shared(path: Path) -> Path:
    """Return ``path``, skipping the test when it is missing.

    With ``EBSCAN_REQUIRE_SHARED=1`` (as in CI) a missing path fails instead.
    """
    if not path.exists():
        message = f"shared data not found: {path}"
        if os.environ.get("EBSCAN_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def spoc_dir() -> Path:
    return require_shared(SPOC)


@pytest.fixture
def ffi_dir() -> Path:
    return require_shared(FFI)


@pytest.fixture
def ffi_kepler_dir() -> Path:
    return require_shared(FFI_KEPLER)


@pytest.fixture
def catalogs_dir() -> Path:
    return require_shared(CATALOGS)


def tess_spoc_sector(folders: list[Path], sector: int, files: Path, limit: int = 0) -> list[str]:
    """Link the shared 30-minute light curves of ``sector`` into ``files`` under the names
    MAST gives TESS-SPOC light curves; returns the names, sorted (the first ``limit``
    only, if given)."""
    from ebscan.acquire.products import TESS_SPOC_FFI
    from ebscan.lightcurves.io import read_lightcurve

    files.mkdir(parents=True, exist_ok=True)
    names = {}
    for path in sorted(p for folder in folders for p in folder.glob("*.fits")):
        lc = read_lightcurve(path)
        if lc.sector == sector:
            names[TESS_SPOC_FFI.filename.format(tic=lc.tic, sector=sector)] = path
    chosen = sorted(names)[: limit or None]
    for name in chosen:
        os.symlink(names[name], files / name)
    return chosen


def download_command(manifest: Path, dest: Path) -> list[str]:
    """``ebscan download`` of a manifest into ``dest``, one transfer at a time, quiet;
    the download URL is for the caller to add."""
    return [
        *(sys.executable, "-m", "ebscan.cli", "download"),
        *("--manifest", str(manifest), "--dest", str(dest)),
        *("--concurrency", "1", "--no-progress"),
    ]


def survey_config(results: Path, server, labels: Path, **overrides) -> dict:
    """A one-sector workflow config over a local MAST mirror with a tiny CALNet.

    ``overrides`` replace top-level keys; ``epochs`` replaces the training epochs.
    """
    epochs = overrides.pop("epochs", 2)
    return {
        "sectors": [1],
        "results": str(results),
        "chunk_size": 10,
        "products": {"spoc-2min": {"bulk_script_url": server.bulk_script_url}},
        "mast": {"download_url": server.download_url, "retries": 1},
        "training": {
            "labels": str(labels),
            "sectors": [1],
            "hparams": {
                "lc_filters": [4, 8, 8],
                "gls_filters": [4, 8],
                "lc_lstm_units": 4,
                "gls_lstm_units": 4,
                "dense_units": 8,
            },
            "epochs": epochs,
            "batch_size": 8,
        },
        **overrides,
    }


def _shard_content(path: Path) -> dict:
    """Everything in a shard but its creation time, with file paths cut to their names."""
    with h5py.File(path) as f:
        content = {name: f[name][()] for name in ("lc", "gls")}
        for name in ("segments", "rejects"):
            table = f[name][()]
            content[name] = [
                tuple(os.path.basename(v.decode()) if isinstance(v, bytes) else v for v in row)
                for row in table.tolist()
            ]
        content["attrs"] = {k: str(v) for k, v in f.attrs.items() if k != "created"}
    return content


def assert_same_shard(a: Path, b: Path) -> None:
    """Two shards hold the same vectors, segments, rejects and parameters."""
    x, y = _shard_content(a), _shard_content(b)
    for key in ("lc", "gls"):
        np.testing.assert_array_equal(x[key], y[key])
    for key in ("segments", "rejects", "attrs"):
        assert x[key] == y[key], key


def assert_same_weights(a: Path, b: Path) -> None:
    """The models trained into two results folders have bit-identical weights."""
    from ebscan.models import load_model

    x, y = (load_model(results / "model" / "model.keras") for results in (a, b))
    for u, v in zip(x.get_weights(), y.get_weights(), strict=True):
        np.testing.assert_array_equal(u, v)


#: A score table's model identity: each run writes its own model file, whose digest
#: differs with its write time even where the weights are the same (compare those with
#: assert_same_weights).
_MODEL_DIGEST = re.compile(r"(model\.(?:onnx|keras)) sha256:[0-9a-f]{16}")


def assert_same_text(a: Path, b: Path, relatives: tuple[str, ...]) -> None:
    """Text outputs of two results folders agree, each folder's own path and model file
    digest cut out."""
    for relative in relatives:
        x, y = (
            _MODEL_DIGEST.sub(
                r"\1 sha256:*", (run / relative).read_text().replace(str(run), "RESULTS")
            )
            for run in (a, b)
        )
        assert x == y, relative


SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile")]


def snakemake(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the workflow from the repository; a failure fails the test with its output."""
    done = subprocess.run([*SNAKEMAKE, *args], cwd=REPO, capture_output=True, text=True)
    if check and done.returncode != 0:
        pytest.fail(
            f"snakemake {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


def job_counts(dry_run_output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run as {rule: count}."""
    table = dry_run_output.split("Job stats:", 1)[1]
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)
        if m.group(1) != "total"
    }


def read_csv_tsv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
