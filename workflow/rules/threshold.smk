rule threshold:
    input:
        sector_scores,
    output:
        f"{R}/scores/sector_{{sector}}.csv",
    log:
        f"{R}/logs/threshold/sector_{{sector}}.log",
    params:
        threshold=config["threshold"],
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/io.yaml"
    script:
        "../scripts/threshold.py"
