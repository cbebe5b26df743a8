"""The demo survey on a real one-node SLURM cluster, through the repo's SLURM profile.

``make test-slurm`` runs it (and ``.ci/run`` where it runs as root with apt-get): it
installs Debian's slurm-wlm and munge when missing, starts slurmctld and slurmd on
127.0.0.1, runs the demo once locally and once with ``--profile profiles/slurm``, and
compares the two. With ``EBSCAN_REQUIRE_SLURM=1`` a machine that cannot host the
cluster fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import assert_same_shard, assert_same_text, assert_same_weights
from slurm_cluster import LocalSlurm, free_port, missing_reason

pytest.importorskip("snakemake_executor_plugin_slurm")
pytest.importorskip("keras")

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
PROFILE = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
STARS = 40  # per sector: 2 sectors of 2 chunks each, 27 workflow steps
# The test cluster has no accounting database (sacct) and no accounts.
PLUGIN_ARGS = [
    "--slurm-no-account",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = missing_reason()
    if reason:
        if os.environ.get("EBSCAN_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    slurm = LocalSlurm(tmp_path_factory.mktemp("slurm")).start()
    yield slurm
    slurm.stop()


def demo_config(root: Path, name: str, port: int) -> Path:
    """config/demo.yaml with its results under ``root/name`` and the mirror's port."""
    config = yaml.safe_load((REPO / "config" / "demo.yaml").read_text())
    config["results"] = str(root / name)
    config["chunk_size"] = STARS // 2
    # The demo's few epochs on 40 stars leave scores below 0.9; 0.5 gives candidates
    # (periods, plots, vetting page) to compare too.
    config["threshold"] = 0.5
    config["training"]["labels"] = str(root / "mirror" / "truth.csv")
    product = config["products"]["spoc-2min"]
    for section, key in ((product, "bulk_script_url"), (config["mast"], "download_url")):
        section[key] = section[key].replace(":8765/", f":{port}/")
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_demo(root: Path, config: Path, env: dict, *snakemake_args: str) -> str:
    command = [
        sys.executable,
        "-m",
        "ebscan.demo",
        "--configfile",
        str(config),
        "--mirror",
        str(root / "mirror"),
        "--stars",
        str(STARS),
        "--",
        *snakemake_args,
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    # The demo prints a line per stage; Snakemake's own output is in its log file.
    results = Path(yaml.safe_load(config.read_text())["results"])
    snakemake_log = results / "logs" / "snakemake.log"
    log = done.stdout + done.stderr + (snakemake_log.read_text() if snakemake_log.exists() else "")
    config.with_suffix(".log").write_text(log)
    assert done.returncode == 0, log[-4000:]
    # Snakemake can stop early with status 0 (docs/scaling.md): every step must be done.
    assert "steps (100%) done" in log, log[-4000:]
    return log


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    port = free_port()
    # TensorFlow's results depend on its thread count, so the local run gives each
    # rule the threads it gets in a SLURM job: the profile's, cut to the node's real
    # cores (snakemake runs inside a job with --cores all; the test node announces
    # more cores than the machine has).
    threads = [
        f"{rule}={min(n, os.cpu_count() or 1)}" for rule, n in PROFILE["set-threads"].items()
    ]
    local = demo_config(root, "local", port)
    run_demo(
        root,
        local,
        cluster.env,
        "--profile",
        "profiles/local",
        "--cores",
        str(PROFILE["cores"]),
        "--set-threads",
        *threads,
    )
    slurm = demo_config(root, "slurm", port)
    log = run_demo(
        root,
        slurm,
        cluster.env,
        "--profile",
        "profiles/slurm",
        *PLUGIN_ARGS,
        "--slurm-logdir",
        str(root / "slurm-logs"),
    )
    return root / "local", root / "slurm", log


def test_every_job_ran_through_sbatch_and_completed(runs, cluster):
    _, _, log = runs
    jobs = cluster.jobs()
    assert {job["state"] for job in jobs} == {"COMPLETED"}
    # One SLURM job per submission the workflow reports, and nothing run locally but
    # the target rule `all`.
    assert log.count("has been submitted with SLURM jobid") == len(jobs)
    assert "localrule all:" in log
    assert log.count("localrule") == 1
    assert sorted(job["comment"].split("_wildcards_")[0] for job in jobs) == sorted(
        [
            *["rule_manifest"] * 2,
            *["rule_download"] * 4,
            *["rule_features_gls_preprocess"] * 4,
            "rule_training_set",
            "rule_train",
            "rule_export_onnx",
            *["rule_infer"] * 4,
            *["rule_threshold"] * 2,
            "rule_catalog",
            "rule_report",
            "rule_audit",
        ]
    )


def test_a_chunk_is_preprocessed_in_one_slurm_job_and_nothing_runs_twice(runs):
    _, _, log = runs
    # 4 chunks: each chunk's preprocess and gls in one SLURM job.
    assert log.count("Group job features ") == 4
    finished = {
        rule: log.count(f"(Rule: {rule})") for rule in ("download", "preprocess", "gls", "infer")
    }
    assert finished == {"download": 4, "preprocess": 4, "gls": 4, "infer": 4}
    assert re.findall(r"\d+ of (\d+) steps \((\d+)%\) done", log)[-1] == ("27", "100")


def test_profile_resources_reach_sbatch(runs, cluster):
    by_rule = {job["comment"].split("_wildcards_")[0]: job for job in cluster.jobs()}
    gpu_jobs = {rule for rule, job in by_rule.items() if job["tres_per_job"] == "gres:gpu:1"}
    assert gpu_jobs == {"rule_train", "rule_infer"}
    assert "cpu=8,mem=32000M" in by_rule["rule_train"]["tres"]
    assert "cpu=4,mem=8000M" in by_rule["rule_infer"]["tres"]
    # A chunk's preprocess (8 threads, 8000 MB) then gls (1 thread, 2000 MB).
    assert "cpu=8,mem=8000M" in by_rule["rule_features_gls_preprocess"]["tres"]
    assert "cpu=1,mem=1000M" in by_rule["rule_threshold"]["tres"]


def test_outputs_are_identical_to_the_local_run(runs):
    local, slurm, _ = runs
    names = sorted(p.relative_to(local / "shards") for p in (local / "shards").rglob("chunk_*.h5"))
    assert [str(n) for n in names] == [
        f"spoc-2min/sector_{s}/chunk_{c}.h5" for s in (1, 2) for c in (0, 1)
    ]
    for name in names:
        assert_same_shard(local / "shards" / name, slurm / "shards" / name)
    assert_same_weights(local, slurm)
    assert_same_text(
        local,
        slurm,
        (
            "model/history.csv",
            "scores/spoc-2min/sector_1.csv",
            "scores/spoc-2min/sector_2.csv",
            "catalog/stars.csv",
            "catalog/candidates.csv",
            "audit.tsv",
        ),
    )
    # Not vacuous: every light curve of both sectors was scored or rejected, and every
    # scored star is in the catalog.
    header, *rows = (line.split("\t") for line in (slurm / "audit.tsv").read_text().splitlines())
    audit = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(a["sector"], a["manifest"], a["ok"]) for a in audit] == [
        ("1", str(STARS), "1"),
        ("2", str(STARS), "1"),
    ]
    scored = {
        row.split(",", 1)[0]
        for sector in (1, 2)
        for row in (slurm / "scores" / "spoc-2min" / f"sector_{sector}.csv")
        .read_text()
        .splitlines()[1:]
    }
    stars = (slurm / "catalog" / "stars.csv").read_text().splitlines()[1:]
    assert len(stars) == len(scored) > STARS
    assert len((slurm / "catalog" / "candidates.csv").read_text().splitlines()) > 1
