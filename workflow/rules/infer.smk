rule infer:
    input:
        shard=f"{R}/shards/sector_{{sector}}/chunk_{{chunk}}.h5",
        model=MODEL,
    output:
        f"{R}/scores/sector_{{sector}}/chunk_{{chunk}}.csv",
    log:
        f"{R}/logs/infer/sector_{{sector}}/chunk_{{chunk}}.log",
    benchmark:
        f"{R}/benchmarks/infer/sector_{{sector}}/chunk_{{chunk}}.tsv"
    conda:
        "../../envs/ml.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        batch_size=config["inference"]["batch_size"],
        engine=config["inference"]["engine"],
    script:
        "../scripts/infer.py"
