rule train:
    input:
        f"{R}/training/training_set.csv",
    output:
        model=f"{R}/model/model.keras",
        config=f"{R}/model/model.json",
    log:
        f"{R}/logs/train.log",
    benchmark:
        f"{R}/benchmarks/train.tsv"
    conda:
        "../../envs/ml.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=720,
    params:
        # Only what training takes: a change to how labels are made retrains only
        # when the training table it gives differs.
        fit={key: TRAINING[key] for key in FIT_KEYS},
        out_dir=lambda wildcards, output: os.path.dirname(output.model),
    script:
        "../scripts/train.py"
