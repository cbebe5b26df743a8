rule threshold:
    input:
        sector_scores,
    output:
        f"{R}/scores/{{product}}/sector_{{sector}}.csv",
    log:
        f"{R}/logs/threshold/{{product}}/sector_{{sector}}.log",
    benchmark:
        f"{R}/benchmarks/threshold/{{product}}/sector_{{sector}}.tsv"
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        threshold=config["threshold"],
    script:
        "../scripts/threshold.py"
