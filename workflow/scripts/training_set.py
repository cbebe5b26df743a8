from ebscan.learn.training import build_training_set
from ebscan.logs import job_log

with job_log(snakemake):
    # Later label tables win: known variables refine random negatives, and the
    # simulated shard and truth come last (see rules/simulated.smk).
    simulated = list(snakemake.input.simulated)
    counts = build_training_set(
        [*snakemake.input.shards, *simulated[:1]],
        [snakemake.input.labels, *snakemake.input.variable_labels, *simulated[1:]],
        snakemake.output[0],
    )
    print(counts)
