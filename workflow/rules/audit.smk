rule audit:
    input:
        report=rules.report.output.html,
        manifests=surveyed(f"{R}/manifests/{{product}}/sector_{{sector}}.csv"),
    output:
        f"{R}/audit.tsv",
    log:
        f"{R}/logs/audit.log",
    benchmark:
        f"{R}/benchmarks/audit.tsv"
    conda:
        "../../envs/io.yaml"
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        surveyed=SURVEYED,
        # The results folder, two levels above the report.
        results=lambda wildcards, input: os.path.dirname(os.path.dirname(input.report)),
    script:
        "../scripts/audit.py"
