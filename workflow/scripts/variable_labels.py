from ebscan.labels.gcvs import build_variable_labels
from ebscan.labels.table import write_labels
from ebscan.logs import job_log

with job_log(snakemake):
    rows = build_variable_labels(
        snakemake.input.shards,
        snakemake.params.gcvs,
        [snakemake.input.labels],
        snakemake.params.radius_arcsec,
    )
    write_labels(rows, snakemake.output[0])
    print(f"{len(rows)} light curves of known non-EB variables")
