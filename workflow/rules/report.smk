rule report:
    input:
        manifests=expand(f"{R}/manifests/sector_{{sector}}.csv", sector=SECTORS),
        scores=expand(f"{R}/scores/sector_{{sector}}.csv", sector=SECTORS),
        candidates=f"{R}/catalog/candidates.csv",
        model_config=MODEL.removesuffix(".keras") + ".json",
    output:
        f"{R}/report/report.html",
    log:
        f"{R}/logs/report.log",
    params:
        sectors=SECTORS,
        results=R,
        threshold=config["threshold"],
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../../envs/io.yaml"
    script:
        "../scripts/report.py"
