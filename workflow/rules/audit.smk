rule audit:
    input:
        report=rules.report.output.html,
        manifests=expand(f"{R}/manifests/sector_{{sector}}.csv", sector=SECTORS),
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
        sectors=SECTORS,
        # The results folder, two levels above the report.
        results=lambda wildcards, input: os.path.dirname(os.path.dirname(input.report)),
    script:
        "../scripts/audit.py"
