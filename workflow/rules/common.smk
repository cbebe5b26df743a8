import math
import os
import sys

from snakemake.logging import logger
from snakemake.utils import validate

from ebscan.config import FIT_KEYS, parse_sectors, survey_products
from ebscan.lock import ResultsLock, ResultsLocked
from ebscan.acquire.mast import read_manifest
from ebscan.learn.pretrained import pretrained_model, resampling_warning
from ebscan.acquire.products import PRODUCTS
from ebscan.survey.audit import sector_files as audit_sector_files

validate(config, "../schemas/config.schema.yaml")

try:
    parse_sectors(config["sectors"])
    SURVEY = survey_products(config["products"], config["sectors"])
    TRAINING_SECTORS = set(
        parse_sectors(config["training"]["sectors"] or config["sectors"])
    )
except ValueError as error:
    raise WorkflowError(f"config: {error}")
# Every (product, sector) the survey covers; training takes those of the training sectors.
SURVEYED = [(product, s) for product, entry in SURVEY.items() for s in entry["sectors"]]
TRAINING_PAIRS = [(product, s) for product, s in SURVEYED if s in TRAINING_SECTORS]
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
    # Once a run, not in every job: the scores are still written.
    if PRETRAINED and (
        warning := resampling_warning(config["preprocess"]["spline_mode"])
    ):
        logger.warning(f"Warning: {warning}")


onsuccess:
    RESULTS_LOCK.release()


onerror:
    RESULTS_LOCK.release()


wildcard_constraints:
    product="|".join(PRODUCTS),
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


def chunks(product, sector):
    """Chunk numbers of a product's sector, known once its manifest (a checkpoint) exists."""
    manifest = checkpoints.manifest.get(product=product, sector=sector).output[0]
    n_files = len(read_manifest(manifest))
    return range(max(math.ceil(n_files / config["chunk_size"]), 1))


def chunk_files(pattern, product, sector):
    """``pattern`` (with {product}, {sector}, {chunk}) for every chunk of a sector."""
    return expand(
        pattern, product=product, sector=sector, chunk=chunks(product, sector)
    )


def sector_scores(wildcards):
    return chunk_files(
        f"{R}/scores/{{product}}/sector_{{sector}}/chunk_{{chunk}}.csv",
        wildcards.product,
        wildcards.sector,
    )


def training_shards(wildcards):
    return [
        shard
        for product, sector in TRAINING_PAIRS
        for shard in chunk_files(
            f"{R}/shards/{{product}}/sector_{{sector}}/chunk_{{chunk}}.h5",
            product,
            sector,
        )
    ]


def surveyed(pattern, pairs=SURVEYED):
    """``pattern`` (with {product} and {sector}) for each surveyed product and sector."""
    return expand(
        pattern, zip, product=[p for p, _ in pairs], sector=[s for _, s in pairs]
    )


def sector_files(product, sector):
    """The files of a product's sector that audit and report read, by kind
    (ebscan.survey.audit.sector_files, with the chunks the manifest gives)."""
    return audit_sector_files(R, product, sector, chunks(product, sector))


def surveyed_files(wildcards):
    """sector_files of every surveyed sector, named <kind>_<index in SURVEYED>: the
    explicit inputs of audit and report (ebscan.survey.audit.indexed_sector_files)."""
    return {
        f"{kind}_{index}": files
        for index, (product, sector) in enumerate(SURVEYED)
        for kind, files in sector_files(product, sector).items()
    }


def all_outputs():
    return [
        f"{R}/catalog/candidates.csv",
        f"{R}/report/report.html",
        f"{R}/audit.tsv",
    ]
