rule preprocess:
    input:
        f"{R}/downloads/sector_{{sector}}/chunk_{{chunk}}.tsv",
    output:
        f"{R}/shards_lc/sector_{{sector}}/chunk_{{chunk}}.h5",
    log:
        f"{R}/logs/preprocess/sector_{{sector}}/chunk_{{chunk}}.log",
    params:
        dest=lambda wildcards: f"{R}/lightcurves/sector_{wildcards.sector}",
        preprocess=config["preprocess"],
        gls=config["gls"],
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        "../../envs/preprocess.yaml"
    script:
        "../scripts/preprocess.py"
