from ebscan.logs import job_log
from ebscan.survey.catalog import threshold_scores

with job_log(snakemake):
    n = threshold_scores(
        snakemake.input, snakemake.params.threshold, snakemake.output[0], snakemake.params.product
    )
    print(f"{n} segments at or above {snakemake.params.threshold}")
