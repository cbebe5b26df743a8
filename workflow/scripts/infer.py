from ebscan.inference import load_predictor, resolve_engine, score_shard
from ebscan.logs import logging_to
from ebscan.models import limit_threads

with logging_to(snakemake.log[0]):
    limit_threads(snakemake.threads)
    engine = resolve_engine(snakemake.params.engine)
    print(f"Scoring with {engine} on {snakemake.threads} threads")
    n = score_shard(
        load_predictor(snakemake.input.model, engine, snakemake.threads),
        snakemake.input.shard,
        snakemake.output[0],
        snakemake.params.batch_size,
    )
    print(f"{n} segments scored")
