# The pretrained CALNet ships its ONNX file: no rule may write into the package.
if not PRETRAINED:

    rule export_onnx:
        input:
            MODEL,
        output:
            ONNX_MODEL,
        log:
            f"{R}/logs/export_onnx.log",
        conda:
            "../../envs/ml.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=10,
        script:
            "../scripts/export_onnx.py"


rule infer:
    input:
        shard=f"{R}/shards/{{product}}/sector_{{sector}}/chunk_{{chunk}}.h5",
        model=MODEL,
        onnx=ONNX_MODEL if config["inference"]["engine"] != "keras" else [],
    output:
        f"{R}/scores/{{product}}/sector_{{sector}}/chunk_{{chunk}}.csv",
    log:
        f"{R}/logs/infer/{{product}}/sector_{{sector}}/chunk_{{chunk}}.log",
    benchmark:
        f"{R}/benchmarks/infer/{{product}}/sector_{{sector}}/chunk_{{chunk}}.tsv"
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
