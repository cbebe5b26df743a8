from pathlib import Path

from ebscan.config import preprocess_config
from ebscan.labels.catalogs import CatalogSet
from ebscan.logs import job_log
from ebscan.survey.candidates import enrich, write_catalog
from ebscan.survey.catalog import build_catalog
from ebscan.survey.vetting import write_vetting_page

with job_log(snakemake):
    params = snakemake.params
    candidates = build_catalog(snakemake.input, snakemake.output.stars)
    catalogs = CatalogSet(Path(params.catalogs)) if params.catalogs else None
    rows = enrich(
        candidates,
        catalogs,
        snakemake.output.plots,
        preprocess_config(params.preprocess, params.gls),
        snakemake.threads,
        params.kepler_eb_labels,
    )
    write_catalog(rows, snakemake.output.candidates, snakemake.output.ecsv, snakemake.output.fits)
    write_vetting_page(rows, snakemake.output.vetting)
    print(f"{len(rows)} candidate stars")
