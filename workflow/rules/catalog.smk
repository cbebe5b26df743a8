rule catalog:
    input:
        expand(f"{R}/scores/sector_{{sector}}.csv", sector=SECTORS),
    output:
        stars=f"{R}/catalog/stars.csv",
        candidates=f"{R}/catalog/candidates.csv",
        ecsv=f"{R}/catalog/candidates.ecsv",
        plots=directory(f"{R}/catalog/plots"),
        vetting=f"{R}/catalog/vetting.html",
    log:
        f"{R}/logs/catalog.log",
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        threshold=config["threshold"],
        catalogs=config["catalog"]["catalogs"] or config["training"]["catalogs"],
        preprocess=config["preprocess"],
        gls=config["gls"],
    script:
        "../scripts/catalog.py"
