from ebscan.logs import logging_to
from ebscan.report import sector_summary, write_report

with logging_to(snakemake.log[0]):
    params = snakemake.params
    write_report(
        [sector_summary(params.results, sector) for sector in params.sectors],
        snakemake.input.scores,
        snakemake.input.candidates,
        snakemake.input.model_config,
        params.threshold,
        snakemake.output.html,
        snakemake.output.histogram,
        snakemake.output.training,
    )
