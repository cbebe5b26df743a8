from ebscan.logs import job_log
from ebscan.survey.audit import audit_sector, indexed_sector_files, write_audit

with job_log(snakemake):
    rows = [
        audit_sector(product, sector, indexed_sector_files(snakemake.input, i))
        for i, (product, sector) in enumerate(snakemake.params.surveyed)
    ]
    for row in rows:
        print(row)
    bad = [row for row in rows if not row["ok"]]
    if bad:
        # No audit.tsv: the run is not complete until every light curve is accounted for.
        raise SystemExit(
            "; ".join(f"{r['product']} sector {r['sector']}: {r['problems']}" for r in bad)
        )
    write_audit(rows, snakemake.output[0])
