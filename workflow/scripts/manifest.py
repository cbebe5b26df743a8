from ebscan.acquire.mast import sector_manifest, skipped_lines, write_manifest
from ebscan.logs import job_log

with job_log(snakemake):
    params = snakemake.params
    tics = None
    if params.tic_subset:
        with open(params.tic_subset) as handle:
            tics = {int(line) for line in handle if line.strip()}
    product, sector = snakemake.wildcards.product, int(snakemake.wildcards.sector)
    rows, skipped = sector_manifest(
        sector, params.bulk_script_url, tics, params.retries, params.timeout_s, product=product
    )
    write_manifest(rows, snakemake.output[0])
    print(f"{product} sector {sector}: {len(rows)} light curves ({skipped_lines(skipped)})")
