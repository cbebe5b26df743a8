from ebscan.catalog import threshold_scores
from ebscan.logs import logging_to

with logging_to(snakemake.log[0]):
    n = threshold_scores(snakemake.input, snakemake.params.threshold, snakemake.output[0])
    print(f"{n} segments at or above {snakemake.params.threshold}")
