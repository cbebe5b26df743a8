from ebscan.logs import logging_to
from ebscan.shards import add_gls

with logging_to(snakemake.log[0]):
    moved = add_gls(snakemake.input[0], snakemake.output[0])
    print(f"{moved} source files moved to rejects")
