rule training_set:
    input:
        shards=training_shards,
        labels=LABELS,
        variable_labels=VARIABLE_LABELS,
        simulated=SIMULATED,
    output:
        f"{R}/training/training_set.csv",
    log:
        f"{R}/logs/training_set.log",
    conda:
        "../../envs/preprocess.yaml"
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../scripts/training_set.py"
