rule training_set:
    input:
        shards=training_shards,
        labels=config["training"]["labels"] or [],
    output:
        f"{R}/training/training_set.csv",
    log:
        f"{R}/logs/training_set.log",
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        "../../envs/preprocess.yaml"
    script:
        "../scripts/training_set.py"
