"""Commands that list and fetch light curves: ``manifest`` and ``download``."""

from __future__ import annotations

import argparse
import os
import re
import sys

from ebscan.acquire.products import PRODUCTS, SPOC_2MIN, TESS_SPOC_FFI
from ebscan.cli.options import (
    add_retries,
    check_download_url,
    check_inputs,
    listed,
    positive_int,
)
from ebscan.errors import WriteError


def add_manifest(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan manifest``."""
    p.add_argument(
        "--sector",
        type=positive_int,
        action="append",
        metavar="N",
        help="the sector (once; with --search, any number of times: default all)",
    )
    p.add_argument("--output", "-o", required=True, metavar="M.csv")
    p.add_argument(
        "--product",
        choices=list(PRODUCTS),
        default=SPOC_2MIN.name,
        help=f"{SPOC_2MIN.name}: the 2-minute targets' SPOC light curves (default); "
        f"{TESS_SPOC_FFI.name}: TESS-SPOC light curves from full-frame images (docs/downloads.md)",
    )
    p.add_argument(
        "--bulk-script-url",
        help="template with {sector} (default: the product's script at MAST, e.g. "
        "tesscurl_sector_{sector}_lc.sh)",
    )
    p.add_argument("--tics", metavar="FILE", help="keep only the TICs listed (one per line)")
    p.add_argument(
        "--search",
        action="store_true",
        help="ask MAST's search (astroquery) for the light curves of the --tics stars "
        "instead of reading the sector's whole bulk script",
    )
    p.add_argument(
        "--mast-url",
        metavar="URL",
        help="with --search: a server answering like MAST's portal API (default MAST)",
    )
    add_retries(p)
    p.set_defaults(handler=_manifest, subparser=p, writes=("output",))


def _manifest(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.acquire import mast

    url = args.bulk_script_url or PRODUCTS[args.product].bulk_script_url
    if not re.search(r"\{sector(:[^}]*)?\}", url):
        parser.error("--bulk-script-url must contain {sector}")
    tics = None
    if args.tics:
        try:
            with open(args.tics) as handle:
                tics = {int(line) for line in handle if line.strip()}
        except (OSError, ValueError) as exc:
            parser.error(f"--tics {args.tics}: {exc}")
    if args.search:
        if args.product != SPOC_2MIN.name:
            parser.error(f"--search finds {SPOC_2MIN.name} light curves, not {args.product}")
        return _searched_manifest(args, parser, tics)
    if args.mast_url:
        parser.error("--mast-url is for --search (the bulk script's is --bulk-script-url)")
    if not args.sector or len(args.sector) > 1:
        parser.error("give one --sector (or --search with --tics for several)")
    (sector,) = args.sector
    try:
        rows, skipped = mast.sector_manifest(
            sector, url, tics, args.retries, args.timeout, product=args.product
        )
    except mast.EmptyManifest as exc:
        print(f"ebscan manifest: error: {exc}", file=sys.stderr)
        return 1
    mast.write_manifest(rows, args.output)
    print(
        f"{args.output}: {len(rows)} {args.product} light curves of sector {sector} "
        f"({mast.skipped_lines(skipped)})",
        file=sys.stderr,
    )
    return 0


def _searched_manifest(
    args: argparse.Namespace, parser: argparse.ArgumentParser, tics: set[int] | None
) -> int:
    """``ebscan manifest --search``: the light curves of a TIC list, from MAST's search."""
    from ebscan.acquire.mast import write_manifest
    from ebscan.acquire.search import find_light_curves

    if not tics:
        parser.error("--search needs the stars: give --tics FILE (one TIC per line)")
    rows = find_light_curves(tics, args.sector, args.mast_url, args.retries, args.timeout)
    where = f" in sectors {listed(args.sector)}" if args.sector else ""
    if not rows:
        print(
            f"ebscan manifest: error: MAST has no 2-minute SPOC light curve of any TIC "
            f"listed in {args.tics}{where}",
            file=sys.stderr,
        )
        return 1
    write_manifest(rows, args.output)
    missing = sorted(tics - {row["tic"] for row in rows})
    print(
        f"{args.output}: {len(rows)} light curves of {len(tics) - len(missing)} TICs{where}"
        + (f"; none of TIC {listed(missing)}" if missing else ""),
        file=sys.stderr,
    )
    return 0


def add_download(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan download``."""
    from ebscan.acquire.mast import S3_DOWNLOAD_URL
    from ebscan.config import MastConfig

    p.add_argument("--manifest", required=True, metavar="M.csv")
    p.add_argument("--dest", required=True, metavar="DIR")
    p.add_argument(
        "--download-url",
        default=MastConfig.download_url,
        help="template with {filename}, {uri} or {path} (default: MAST's Download/file "
        f"API; the S3 layout is {S3_DOWNLOAD_URL})",
    )
    p.add_argument(
        "--concurrency",
        type=positive_int,
        default=MastConfig.concurrency,
        help=f"simultaneous transfers (default {MastConfig.concurrency}; be polite to MAST)",
    )
    add_retries(p)
    p.add_argument(
        "--report",
        metavar="R.tsv",
        help="per-file outcome table (default: DEST/download-report.tsv)",
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=_download, subparser=p, writes=("dest", "report"))


def _download(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.acquire import mast

    check_download_url(parser, args.download_url)
    check_inputs(parser, [args.manifest])
    rows = mast.read_manifest(args.manifest)
    status = 0
    try:
        outcomes = mast.download_files(
            [row["filename"] for row in rows],
            args.dest,
            args.download_url,
            args.concurrency,
            args.retries,
            args.timeout,
            progress=not args.no_progress,
        )
    except mast.DownloadInterrupted as interrupted:
        outcomes, status = interrupted.outcomes, 130
    report = args.report or os.path.join(args.dest, "download-report.tsv")
    try:
        mast.write_download_report(outcomes, report)
    except WriteError as exc:
        # The report is the only record of why each file failed: never lose it.
        print(f"ebscan download: error: {exc}; the report follows", file=sys.stderr)
        print(mast.download_report(outcomes), file=sys.stderr)
        report, status = "above", status or 1
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        if outcome.reason != mast.INTERRUPTED:
            print(f"failed {outcome.filename}: {outcome.reason}", file=sys.stderr)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("downloaded", "present")}
    print(
        f"{args.dest}: {counts['downloaded']} downloaded, {counts['present']} already there, "
        f"{len(failed)} failed (report: {report})",
        file=sys.stderr,
    )
    if status == 130:
        unfinished = sum(o.reason == mast.INTERRUPTED for o in outcomes)
        print(
            f"ebscan download: interrupted; {unfinished} files not fetched: run the same "
            "command again to fetch them (partial transfers resume)",
            file=sys.stderr,
        )
    return status or (1 if failed else 0)
