rule preprocess:
    input:
        f"{R}/downloads/{{product}}/sector_{{sector}}/chunk_{{chunk}}.tsv",
    output:
        f"{R}/shards_lc/{{product}}/sector_{{sector}}/chunk_{{chunk}}.h5",
    log:
        f"{R}/logs/preprocess/{{product}}/sector_{{sector}}/chunk_{{chunk}}.log",
    benchmark:
        f"{R}/benchmarks/preprocess/{{product}}/sector_{{sector}}/chunk_{{chunk}}.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        dest=lambda wildcards: f"{R}/lightcurves/{wildcards.product}/sector_{wildcards.sector}",
        preprocess=config["preprocess"],
        gls=config["gls"],
    script:
        "../scripts/preprocess.py"
