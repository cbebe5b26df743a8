from ebscan.catalog import build_catalog
from ebscan.logs import logging_to

with logging_to(snakemake.log[0]):
    n = build_catalog(
        snakemake.input,
        snakemake.params.threshold,
        snakemake.output.stars,
        snakemake.output.candidates,
    )
    print(f"{n} candidate stars")
