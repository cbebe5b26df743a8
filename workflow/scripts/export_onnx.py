from ebscan.logs import job_log
from ebscan.models.onnx.export import export_onnx

with job_log(snakemake):
    export_onnx(snakemake.input[0], snakemake.output[0])
    print(f"Exported {snakemake.input[0]} to {snakemake.output[0]}")
