from ebscan.logs import job_log
from ebscan.survey.inference import load_predictor, resolve_engine, score_shard

with job_log(snakemake):
    engine = resolve_engine(snakemake.params.engine)
    model = snakemake.input.onnx if engine == "onnxruntime" else snakemake.input.model
    print(f"Scoring with {engine} on {snakemake.threads} threads: {model}")
    n = score_shard(
        load_predictor(model, engine, snakemake.threads),
        snakemake.input.shard,
        snakemake.output[0],
        snakemake.params.batch_size,
    )
    print(f"{n} segments scored")
