rule report:
    input:
        manifests=surveyed(f"{R}/manifests/{{product}}/sector_{{sector}}.csv"),
        scores=surveyed(f"{R}/scores/{{product}}/sector_{{sector}}.csv"),
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
        surveyed=SURVEYED,
        # The results folder, two levels above the catalog.
        results=lambda wildcards, input: os.path.dirname(
            os.path.dirname(input.candidates)
        ),
        threshold=config["threshold"],
    script:
        "../scripts/report.py"
