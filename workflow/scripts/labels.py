from pathlib import Path

from ebscan.catalogs import CatalogSet, build_labels, write_labels
from ebscan.logs import job_log
from ebscan.mast import read_manifest

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
