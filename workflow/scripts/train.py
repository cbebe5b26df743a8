from ebscan.learn.training import train_model
from ebscan.logs import job_log
from ebscan.models import limit_threads

with job_log(snakemake):
    limit_threads(snakemake.threads)
    print(f"TensorFlow on {snakemake.threads} threads")
    train_model(snakemake.input[0], snakemake.params.out_dir, **snakemake.params.fit)
