rule simulated:
    input:
        LABELS,
    output:
        shard=f"{R}/training/simulated/shard.h5",
        labels=f"{R}/training/simulated/labels.csv",
    log:
        f"{R}/logs/simulated.log",
    benchmark:
        f"{R}/benchmarks/simulated.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        share=config["training"]["simulated_share"],
        seed=config["training"]["seed"],
        files=lambda wildcards, output: os.path.join(
            os.path.dirname(output.shard), "files"
        ),
        preprocess=config["preprocess"],
        gls=config["gls"],
    script:
        "../scripts/simulated.py"
