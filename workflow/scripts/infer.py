from ebscan.inference import load_model, score_shard
from ebscan.logs import logging_to
from ebscan.models import limit_threads

with logging_to(snakemake.log[0]):
    limit_threads(snakemake.threads)
    print(f"TensorFlow on {snakemake.threads} threads")
    n = score_shard(
        load_model(snakemake.input.model),
        snakemake.input.shard,
        snakemake.output[0],
        snakemake.params.batch_size,
    )
    print(f"{n} segments scored")
