from ebscan.inference import load_model, score_shard
from ebscan.logs import logging_to

with logging_to(snakemake.log[0]):
    n = score_shard(
        load_model(snakemake.input.model),
        snakemake.input.shard,
        snakemake.output[0],
        snakemake.params.batch_size,
    )
    print(f"{n} segments scored")
