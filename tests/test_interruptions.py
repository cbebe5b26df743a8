"""SIGKILL a workflow run during preprocessing, training and inference, resume it with
--rerun-incomplete, and get what an uninterrupted run gets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest
import yaml

from ebscan.demo import serve
from ebscan.learn.training import read_checkpoint, training_fingerprint
from ebscan.sim.simulate import build_mirror

from conftest import assert_same_shard, assert_same_text, assert_same_weights, survey_config

pytest.importorskip("snakemake")
pytest.importorskip("keras")

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile")]


def config_for(root: Path, results: Path, server) -> Path:
    config = survey_config(results, server, root / "mirror" / "truth.csv", chunk_size=6, epochs=3)
    path = results.with_suffix(".yaml")
    path.write_text(yaml.safe_dump(config))
    return path


def run(config: Path, *extra: str) -> None:
    done = subprocess.run(
        [*SNAKEMAKE, "--configfile", str(config), "--cores", "1", *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def kill_when(command: list[str], appears, limit: float = 240.0) -> None:
    """Start ``command`` and SIGKILL its whole process group once ``appears()`` is true."""
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if appears():
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return
            time.sleep(0.01)
        pytest.fail("the moment to interrupt never came (the run ended or stalled)")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt")
    build_mirror(root / "mirror", [1], 18, seed=5)
    server = serve(str(root / "mirror"), 0)
    try:
        reference = config_for(root, root / "reference", server)
        run(reference)
        interrupted = config_for(root, root / "interrupted", server)
        results = root / "interrupted"
        # 1. During preprocessing: a shard is being written under its temporary name.
        workflow = [*SNAKEMAKE, "--configfile", str(interrupted), "--cores", "1"]
        lc_shards = results / "shards_lc" / "spoc-2min"
        kill_when(workflow, lambda: any(lc_shards.glob("sector_1/.chunk_*.tmp")))
        for final in lc_shards.glob("sector_1/chunk_*.h5"):
            h5py.File(final).close()  # whatever carries a final name opens
        run(interrupted, "--unlock")
        # 2. During training: the first epoch is checkpointed, the second is running.
        kill_when(workflow, lambda: (results / "model" / "backup" / "state.json").exists())
        assert not (results / "model" / "model.keras").exists()
        run(interrupted, "--unlock")
        # 3. During inference: a score table is being written.
        scores = results / "scores" / "spoc-2min"
        kill_when(workflow, lambda: any(scores.glob("sector_1/chunk_*.csv.tmp")))
        run(interrupted, "--unlock")
        run(interrupted, "--rerun-incomplete")
        yield root / "reference", results
    finally:
        server.stop()


def test_shards_are_the_same(runs):
    reference, interrupted = runs
    shards = Path("shards") / "spoc-2min" / "sector_1"
    names = sorted(p.name for p in (reference / shards).glob("chunk_*.h5"))
    assert names == ["chunk_0.h5", "chunk_1.h5", "chunk_2.h5"]
    for name in names:
        assert_same_shard(reference / shards / name, interrupted / shards / name)


def test_trained_weights_are_the_same(runs):
    reference, interrupted = runs
    assert_same_weights(reference, interrupted)
    assert_same_text(reference, interrupted, ("model/history.csv",))
    assert not (interrupted / "model" / "backup").exists()


def test_scores_and_catalog_are_the_same(runs):
    assert_same_text(*runs, ("scores/spoc-2min/sector_1.csv", "catalog/stars.csv", "audit.tsv"))


def test_no_temporary_file_is_left(runs):
    _, interrupted = runs
    leftovers = [p for p in interrupted.rglob("*") if p.name.endswith(".tmp") or ".part" in p.name]
    assert leftovers == []


def test_a_checkpoint_is_resumed_only_for_the_same_table_and_settings(tmp_path):
    table = tmp_path / "training_set.csv"
    table.write_text("shard,row,tic,sector,segment,label,subtype\ns.h5,0,1,1,0,1,EA\n")
    settings = {"model": "calnet", "seed": 42}
    fingerprint = training_fingerprint([table], settings)
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "state.json").write_text(json.dumps({"fingerprint": fingerprint, "epoch": 2}))
    assert read_checkpoint(str(backup), fingerprint)["epoch"] == 2
    assert (
        read_checkpoint(str(backup), training_fingerprint([table], {**settings, "seed": 1})) is None
    )
    table.write_text(table.read_text() + "s.h5,1,2,1,0,0,\n")
    assert read_checkpoint(str(backup), training_fingerprint([table], settings)) is None
    (backup / "state.json").write_text('{"fingerprint": "')  # cut short by a kill
    assert read_checkpoint(str(backup), fingerprint) is None
