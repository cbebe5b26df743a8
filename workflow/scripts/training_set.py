from ebscan.logs import logging_to
from ebscan.training import build_training_set

with logging_to(snakemake.log[0]):
    counts = build_training_set(snakemake.input.shards, snakemake.input.labels, snakemake.output[0])
    print(counts)
