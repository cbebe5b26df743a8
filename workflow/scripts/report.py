from ebscan.logs import job_log
from ebscan.survey.audit import indexed_sector_files
from ebscan.survey.report import sector_summary, write_report

with job_log(snakemake):
    params = snakemake.params
    files = [indexed_sector_files(snakemake.input, i) for i in range(len(params.surveyed))]
    write_report(
        [
            sector_summary(product, sector, sector_files)
            for (product, sector), sector_files in zip(params.surveyed, files, strict=True)
        ],
        [sector_files["sector_scores"] for sector_files in files],
        snakemake.input.candidates,
        snakemake.input.model_config,
        params.threshold,
        snakemake.output.html,
        snakemake.output.histogram,
        snakemake.output.training,
    )
