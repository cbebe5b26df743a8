import os

from ebscan.config import preprocess_config
from ebscan.labels.table import labelled_light_curves, simulated_star_count, write_labels
from ebscan.lightcurves.periodogram import calnet_period_grid
from ebscan.lightcurves.preprocess import preprocess_files
from ebscan.lightcurves.shards import ShardWriter
from ebscan.logs import job_log
from ebscan.sim.simulate import SIMULATED_TIC_BASE, build_mirror

with job_log(snakemake):
    params = snakemake.params
    n_stars = simulated_star_count(labelled_light_curves(snakemake.input[0]), params.share)
    truth = build_mirror(params.files, [1], n_stars, params.seed, SIMULATED_TIC_BASE)
    config = preprocess_config(params.preprocess, params.gls)
    paths = [os.path.join(params.files, "files", row["filename"]) for row in truth]
    with ShardWriter(snakemake.output.shard, config, calnet_period_grid()) as writer:
        for result in preprocess_files(paths, config, snakemake.threads):
            writer.add(result)
    write_labels(
        [
            {
                "tic": row["tic"],
                "sector": row["sector"],
                "label": row["label"],
                "subtype": row["subtype"],
                "source": "ebscan simulator",
                "reason": f"simulated {row['subtype']} (P = {row['period']} d)",
            }
            for row in truth
        ],
        snakemake.output.labels,
    )
    print(f"{n_stars} simulated light curves")
