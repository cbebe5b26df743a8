rule catalog:
    input:
        expand(f"{R}/scores/sector_{{sector}}.csv", sector=SECTORS),
    output:
        stars=f"{R}/catalog/stars.csv",
        candidates=f"{R}/catalog/candidates.csv",
    log:
        f"{R}/logs/catalog.log",
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        threshold=config["threshold"],
    script:
        "../scripts/catalog.py"
