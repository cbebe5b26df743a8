from ebscan.logs import job_log
from ebscan.survey.audit import indexed_sector_files
from ebscan.survey.report import sector_summary, write_report

with job_log(snakemake):
    params = snakemake.params
    write_report(
        [
            sector_summary(product, sector, indexed_sector_files(snakemake.input, i))
            for i, (product, sector) in enumerate(params.surveyed)
        ],
        snakemake.input.scores,
        snakemake.input.candidates,
        snakemake.input.model_config,
        params.threshold,
        snakemake.output.html,
        snakemake.output.histogram,
        snakemake.output.training,
    )
