from ebscan.acquire.mast import download_files, read_manifest, write_download_report
from ebscan.logs import job_log

with job_log(snakemake):
    params = snakemake.params
    chunk = int(snakemake.wildcards.chunk)
    rows = read_manifest(snakemake.input[0])
    rows = rows[chunk * params.chunk_size : (chunk + 1) * params.chunk_size]
    outcomes = download_files(
        [row["filename"] for row in rows],
        params.dest,
        params.download_url,
        params.concurrency,
        params.retries,
        params.timeout_s,
    )
    write_download_report(outcomes, snakemake.output[0])
    for outcome in outcomes:
        print(outcome.filename, outcome.status, outcome.bytes, outcome.reason, sep="\t")
