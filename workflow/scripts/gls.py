from ebscan.lightcurves.shards import add_gls
from ebscan.logs import job_log

with job_log(snakemake):
    moved = add_gls(snakemake.input[0], snakemake.output[0])
    print(f"{moved} source files moved to rejects")
