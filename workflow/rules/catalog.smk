rule catalog:
    input:
        expand(f"{R}/scores/sector_{{sector}}.csv", sector=SECTORS),
    output:
        stars=f"{R}/catalog/stars.csv",
        candidates=f"{R}/catalog/candidates.csv",
    log:
        f"{R}/logs/catalog.log",
    params:
        threshold=config["threshold"],
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/io.yaml"
    script:
        "../scripts/catalog.py"
