from ebscan.logs import job_log
from ebscan.models import limit_threads
from ebscan.training import train_model

with job_log(snakemake):
    limit_threads(snakemake.threads)
    print(f"TensorFlow on {snakemake.threads} threads")
    training = snakemake.params.training
    train_model(
        snakemake.input[0],
        snakemake.params.out_dir,
        model=training["model"],
        hparams=training["hparams"],
        epochs=training["epochs"],
        batch_size=training["batch_size"],
        learning_rate=training["learning_rate"],
        validation_fraction=training["validation_fraction"],
        patience=training["patience"],
        class_weight=training["class_weight"],
        seed=training["seed"],
    )
