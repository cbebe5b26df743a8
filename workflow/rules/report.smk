rule report:
    input:
        manifests=expand(f"{R}/manifests/sector_{{sector}}.csv", sector=SECTORS),
        scores=expand(f"{R}/scores/sector_{{sector}}.csv", sector=SECTORS),
        candidates=f"{R}/catalog/candidates.csv",
        model_config=MODEL.removesuffix(".keras") + ".json",
    output:
        html=f"{R}/report/report.html",
        histogram=report(
            f"{R}/report/score_histogram.png",
            caption="../report/score_histogram.rst",
            category="Scores",
        ),
        training=report(
            f"{R}/report/training.png",
            caption="../report/training.rst",
            category="Model",
        ),
    log:
        f"{R}/logs/report.log",
    benchmark:
        f"{R}/benchmarks/report.tsv"
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        sectors=SECTORS,
        # The results folder, two levels above the catalog.
        results=lambda wildcards, input: os.path.dirname(
            os.path.dirname(input.candidates)
        ),
        threshold=config["threshold"],
    script:
        "../scripts/report.py"
