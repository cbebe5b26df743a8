rule gls:
    input:
        f"{R}/shards_lc/{{product}}/sector_{{sector}}/chunk_{{chunk}}.h5",
    output:
        f"{R}/shards/{{product}}/sector_{{sector}}/chunk_{{chunk}}.h5",
    log:
        f"{R}/logs/gls/{{product}}/sector_{{sector}}/chunk_{{chunk}}.log",
    benchmark:
        f"{R}/benchmarks/gls/{{product}}/sector_{{sector}}/chunk_{{chunk}}.tsv"
    conda:
        "../../envs/preprocess.yaml"
    resources:
        mem_mb=2000,
        runtime=60,
    script:
        "../scripts/gls.py"
