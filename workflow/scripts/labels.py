from pathlib import Path

from ebscan.acquire.mast import read_manifest
from ebscan.labels.catalogs import CatalogSet, build_labels
from ebscan.labels.table import write_labels
from ebscan.logs import job_log

with job_log(snakemake):
    params = snakemake.params
    rows, counts = build_labels(
        CatalogSet(Path(params.catalogs)),
        [read_manifest(path) for path in snakemake.input.manifests],
        params.negative_ratio,
        params.seed,
    )
    write_labels(rows, snakemake.output[0])
    print(counts)
