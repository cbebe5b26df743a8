from ebscan.logs import logging_to
from ebscan.models.onnx_export import export_onnx

with logging_to(snakemake.log[0]):
    export_onnx(snakemake.input[0], snakemake.output[0])
    print(f"Exported {snakemake.input[0]} to {snakemake.output[0]}")
