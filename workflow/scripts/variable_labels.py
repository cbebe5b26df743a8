from ebscan.catalogs import build_variable_labels, write_labels
from ebscan.logs import logging_to

with logging_to(snakemake.log[0]):
    rows = build_variable_labels(
        snakemake.input.shards,
        snakemake.params.gcvs,
        [snakemake.input.labels],
        snakemake.params.radius_arcsec,
    )
    write_labels(rows, snakemake.output[0])
    print(f"{len(rows)} light curves of known non-EB variables")
