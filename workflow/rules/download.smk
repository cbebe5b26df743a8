rule download:
    input:
        f"{R}/manifests/{{product}}/sector_{{sector}}.csv",
    output:
        f"{R}/downloads/{{product}}/sector_{{sector}}/chunk_{{chunk}}.tsv",
    log:
        f"{R}/logs/download/{{product}}/sector_{{sector}}/chunk_{{chunk}}.log",
    benchmark:
        f"{R}/benchmarks/download/{{product}}/sector_{{sector}}/chunk_{{chunk}}.tsv"
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=500,
        runtime=120,
    params:
        dest=lambda wildcards: f"{R}/lightcurves/{wildcards.product}/sector_{wildcards.sector}",
        chunk_size=config["chunk_size"],
        # A function, so that "{filename}" reaches the downloader as a template.
        download_url=lambda wildcards: config["mast"]["download_url"],
        concurrency=config["mast"]["concurrency"],
        retries=config["mast"]["retries"],
        timeout_s=config["mast"]["timeout_s"],
    script:
        "../scripts/download.py"
