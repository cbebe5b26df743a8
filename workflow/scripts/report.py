from ebscan.logs import job_log
from ebscan.report import sector_summary, write_report

with job_log(snakemake):
    params = snakemake.params
    write_report(
        [sector_summary(params.results, product, sector) for product, sector in params.surveyed],
        snakemake.input.scores,
        snakemake.input.candidates,
        snakemake.input.model_config,
        params.threshold,
        snakemake.output.html,
        snakemake.output.histogram,
        snakemake.output.training,
    )
