import math
import os
import sys

from snakemake.utils import validate

from ebscan.config import parse_sectors
from ebscan.lock import ResultsLock, ResultsLocked
from ebscan.mast import read_manifest
from ebscan.pretrained import pretrained_model

validate(config, "../schemas/config.schema.yaml")

try:
    SECTORS = parse_sectors(config["sectors"])
    TRAINING_SECTORS = parse_sectors(config["training"]["sectors"] or config["sectors"])
except ValueError as error:
    raise WorkflowError(f"config: {error}")
TRAINING = config["training"]
# Without a model or anything to train on, the survey scores with the pretrained CALNet.
PRETRAINED = TRAINING["model_path"] == "pretrained" or not (
    TRAINING["model_path"] or TRAINING["labels"] or TRAINING["catalogs"]
)

R = config["results"]

# Snakemake locks its working directory; this locks the results folder itself, so
# that two runs started from different directories cannot write there at once
# (ebscan.lock). Held from the first job to the end of the run; dry runs and jobs
# on cluster nodes (started with --no-hooks) do not take it.
RESULTS_LOCK = ResultsLock(R, " ".join(["snakemake", *sys.argv[1:]]))


onstart:
    try:
        RESULTS_LOCK.acquire()
    except ResultsLocked as error:
        raise WorkflowError(str(error))


onsuccess:
    RESULTS_LOCK.release()


onerror:
    RESULTS_LOCK.release()


wildcard_constraints:
    sector=r"\d+",
    chunk=r"\d+",


if PRETRAINED:
    MODEL = str(pretrained_model("keras"))
    ONNX_MODEL = str(pretrained_model("onnxruntime"))
else:
    MODEL = TRAINING["model_path"] or f"{R}/model/model.keras"
    # The model for ONNX Runtime: infer jobs that score with it never import TensorFlow.
    ONNX_MODEL = f"{R}/model/model.onnx"
LABELS = TRAINING["labels"] or f"{R}/training/labels.csv"
VARIABLE_LABELS = [f"{R}/training/variable_labels.csv"] if TRAINING["gcvs"] else []
# A saved GCVS table is an input (a new copy relabels); "vizier" is fetched by the rule.
GCVS_TABLE = [] if TRAINING["gcvs"] in ("", "vizier") else [TRAINING["gcvs"]]
SIMULATED = (
    [f"{R}/training/simulated/shard.h5", f"{R}/training/simulated/labels.csv"]
    if TRAINING["simulated_share"] > 0
    else []
)


def chunks(sector):
    """Chunk numbers of a sector, known once its manifest (a checkpoint) exists."""
    manifest = checkpoints.manifest.get(sector=sector).output[0]
    n_files = len(read_manifest(manifest))
    return range(max(math.ceil(n_files / config["chunk_size"]), 1))


def sector_shards(wildcards):
    return expand(
        f"{R}/shards/sector_{{sector}}/chunk_{{chunk}}.h5",
        sector=wildcards.sector,
        chunk=chunks(int(wildcards.sector)),
    )


def sector_scores(wildcards):
    return expand(
        f"{R}/scores/sector_{{sector}}/chunk_{{chunk}}.csv",
        sector=wildcards.sector,
        chunk=chunks(int(wildcards.sector)),
    )


def training_shards(wildcards):
    return [
        shard
        for sector in TRAINING_SECTORS
        for shard in sector_shards(type("W", (), {"sector": sector}))
    ]


def all_outputs():
    return [
        f"{R}/catalog/candidates.csv",
        f"{R}/report/report.html",
        f"{R}/audit.tsv",
    ]
