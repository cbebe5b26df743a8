checkpoint manifest:
    output:
        f"{R}/manifests/{{product}}/sector_{{sector}}.csv",
    log:
        f"{R}/logs/manifest/{{product}}/sector_{{sector}}.log",
    benchmark:
        f"{R}/benchmarks/manifest/{{product}}/sector_{{sector}}.tsv"
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=500,
        runtime=15,
    params:
        # A function, so that "{sector}" reaches the manifest code as a template.
        bulk_script_url=lambda wildcards: SURVEY[wildcards.product]["bulk_script_url"],
        tic_subset=config["mast"]["tic_subset"],
        retries=config["mast"]["retries"],
        timeout_s=config["mast"]["timeout_s"],
    script:
        "../scripts/manifest.py"
