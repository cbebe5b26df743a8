rule labels:
    input:
        manifests=surveyed(
            f"{R}/manifests/{{product}}/sector_{{sector}}.csv", TRAINING_PAIRS
        ),
    output:
        f"{R}/training/labels.csv",
    log:
        f"{R}/logs/labels.log",
    benchmark:
        f"{R}/benchmarks/labels.tsv"
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        catalogs=config["training"]["catalogs"],
        negative_ratio=config["training"]["negative_ratio"],
        seed=config["training"]["seed"],
    script:
        "../scripts/labels.py"


rule variable_labels:
    input:
        shards=training_shards,
        labels=LABELS,
        gcvs=GCVS_TABLE,
    output:
        f"{R}/training/variable_labels.csv",
    log:
        f"{R}/logs/variable_labels.log",
    benchmark:
        f"{R}/benchmarks/variable_labels.tsv"
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        gcvs=TRAINING["gcvs"],
        radius_arcsec=TRAINING["gcvs_radius_arcsec"],
    script:
        "../scripts/variable_labels.py"
