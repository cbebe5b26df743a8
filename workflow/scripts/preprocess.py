import os

from ebscan.acquire.mast import read_download_report
from ebscan.config import preprocess_config
from ebscan.lightcurves.preprocess import preprocess_files
from ebscan.lightcurves.shards import ShardWriter
from ebscan.logs import job_log

with job_log(snakemake):
    config = preprocess_config(snakemake.params.preprocess, snakemake.params.gls)
    files = [
        os.path.join(snakemake.params.dest, row["filename"])
        for row in read_download_report(snakemake.input[0])
        if row["status"] != "failed"
    ]
    with ShardWriter(snakemake.output[0], config, period=None) as writer:
        for result in preprocess_files(files, config, snakemake.threads, with_gls=False):
            writer.add(result)
            if result.rejected:
                print(f"rejected {result.path}: {result.reject_reason}")
