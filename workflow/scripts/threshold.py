from ebscan.logs import job_log
from ebscan.survey.catalog import threshold_scores

with job_log(snakemake):
    threshold = snakemake.params.threshold
    n = threshold_scores(
        snakemake.input, threshold, snakemake.output[0], snakemake.wildcards.product
    )
    print(f"{n} segments at or above {threshold}")
