rule catalog:
    input:
        surveyed(f"{R}/scores/{{product}}/sector_{{sector}}.csv"),
    output:
        stars=f"{R}/catalog/stars.csv",
        candidates=report(
            f"{R}/catalog/candidates.csv",
            caption="../report/candidates.rst",
            category="Candidates",
        ),
        ecsv=f"{R}/catalog/candidates.ecsv",
        fits=f"{R}/catalog/candidates.fits",
        plots=report(
            directory(f"{R}/catalog/plots"),
            patterns=["{name}.png"],
            caption="../report/candidate_plot.rst",
            category="Candidates",
        ),
        vetting=f"{R}/catalog/vetting.html",
    log:
        f"{R}/logs/catalog.log",
    benchmark:
        f"{R}/benchmarks/catalog.tsv"
    conda:
        "../../envs/io.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        catalogs=config["catalog"]["catalogs"] or config["training"]["catalogs"],
        kepler_eb_labels=config["catalog"]["kepler_eb_labels"],
        preprocess=config["preprocess"],
        gls=config["gls"],
    script:
        "../scripts/catalog.py"
