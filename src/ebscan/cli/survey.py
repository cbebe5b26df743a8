"""Commands on scores and results: ``score``, ``vetted`` and ``audit``."""

from __future__ import annotations

import argparse
import itertools
import os
import sys

from ebscan.acquire.products import PRODUCTS
from ebscan.cli.options import (
    add_retries,
    add_segment_length,
    check_download_url,
    check_inputs,
    listed,
    no_segments_status,
    positive_int,
)
from ebscan.config import PreprocessConfig


def add_score(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan score``."""
    from ebscan.config import InferenceConfig, MastConfig
    from ebscan.survey.inference import ENGINES

    p.add_argument("files", nargs="*", metavar="FILE", help="light-curve FITS files")
    p.add_argument(
        "--tic",
        type=positive_int,
        nargs="+",
        default=[],
        metavar="TIC",
        help="stars to score: their 2-minute SPOC light curves are found at MAST "
        "(astroquery) and downloaded into --cache",
    )
    p.add_argument(
        "--sector",
        type=positive_int,
        nargs="+",
        metavar="N",
        help="only these sectors of the --tic stars (default: all at MAST)",
    )
    p.add_argument(
        "--cache",
        metavar="DIR",
        help="folder of the light curves fetched for --tic; a verified file there is not "
        "fetched again (default: $XDG_CACHE_HOME/ebscan/lightcurves, i.e. "
        "~/.cache/ebscan/lightcurves)",
    )
    p.add_argument(
        "--mast-url",
        metavar="URL",
        help="search a server answering like MAST's portal API instead of MAST "
        "(a mirror; python -m ebscan.acquire.mirror_server serves one)",
    )
    p.add_argument(
        "--download-url",
        default=MastConfig.download_url,
        help="template with {filename}, {uri} or {path} for --tic downloads (default: MAST's)",
    )
    p.add_argument(
        "--model",
        metavar="MODEL",
        help="a .keras model, or its ONNX export (model.onnx beside it in the workflow's "
        "results) for the onnxruntime engine, which then never imports TensorFlow "
        "(default: the pretrained CALNet that ships with ebscan, docs/model-card.md)",
    )
    p.add_argument("--output", "-o", required=True, metavar="SCORES.csv")
    add_segment_length(p)
    p.add_argument("--jobs", "-j", type=positive_int, default=1)
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default=InferenceConfig.engine,
        help="onnxruntime (fastest on CPU), keras (TensorFlow; GPU) or auto (keras "
        "when TensorFlow sees a GPU)",
    )
    add_retries(p, "for --tic searches and downloads")
    p.set_defaults(handler=_score, subparser=p, writes=("output",))


def _add_ephemerides(files: list[dict], config: PreprocessConfig, jobs: int) -> None:
    """Add the catalog's ephemeris and geometry columns to each scored file's row."""
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from ebscan.survey.candidates import ephemeris_row

    scored = [row for row in files if not row["reason"]]
    measure = partial(ephemeris_row, flux_column=config.flux_column)
    paths = [row["file"] for row in scored]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            measured = list(pool.map(measure, paths))
    else:
        measured = [measure(path) for path in paths]
    for row, columns in zip(scored, measured, strict=True):
        row.update(columns)


def _score(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.acquire.search import preprocess_fetched
    from ebscan.atomic import write_csv
    from ebscan.config import PreprocessConfig
    from ebscan.learn.pretrained import pretrained_model
    from ebscan.lightcurves.preprocess import preprocess_files
    from ebscan.paths import recorded
    from ebscan.survey.candidates import EPHEMERIS_COLUMNS
    from ebscan.survey.inference import load_predictor, resolve_engine, score_results

    if args.sector and not args.tic:
        parser.error("--sector selects sectors of the --tic stars: give --tic")
    if not args.files and not args.tic:
        parser.error("nothing to score: give FILE arguments or --tic")
    check_download_url(parser, args.download_url)
    if args.model is None:
        args.model = str(pretrained_model(resolve_engine(args.engine)))
    check_inputs(parser, [args.model])
    try:
        config = PreprocessConfig(
            min_segment_days=args.min_segment_days, min_points=args.min_points
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        predictor = load_predictor(args.model, args.engine)
    except ValueError as exc:
        parser.error(str(exc))
    fetched = _fetched(args) if args.tic else []
    if not fetched and not args.files:
        print("ebscan score: error: no light curve to score", file=sys.stderr)
        return 1
    segments, files = score_results(
        predictor,
        itertools.chain(
            preprocess_fetched(fetched, config, args.jobs),
            preprocess_files(args.files, config, args.jobs),
        ),
    )
    _add_ephemerides(files, config, args.jobs)
    per_file = os.path.splitext(args.output)[0] + ".files.csv"
    for path, rows, fields in (
        (
            args.output,
            segments,
            [
                *("file", "tic", "sector", "cadence_minutes", "segment", "t_start", "t_end"),
                *("n_points", "score", "model"),
            ],
        ),
        (
            per_file,
            files,
            [
                *("file", "tic", "sector", "cadence_minutes", "n_segments", "max_score"),
                *("model", "reason", *EPHEMERIS_COLUMNS),
            ],
        ),
    ):
        write_csv(path, [{**row, "file": recorded(row["file"], path)} for row in rows], fields)
    for row in files:
        if row["reason"]:
            print(f"rejected {row['file']}: {row['reason']}", file=sys.stderr)
    print(
        f"{args.output}: {len(segments)} segments of {len(files)} files scored ({per_file})",
        file=sys.stderr,
    )
    return no_segments_status("score", len(files), len(segments))


def _fetched(args: argparse.Namespace) -> list:
    """``ebscan score --tic``: the stars' light curves, found at MAST and fetched into the
    cache, with a line for each star MAST has none of."""
    from ebscan.acquire.search import fetch_light_curves, not_found

    fetched = fetch_light_curves(
        args.tic,
        args.sector,
        args.cache,
        args.mast_url,
        args.download_url,
        args.retries,
        args.timeout,
        progress=sys.stderr.isatty(),
    )
    for line in not_found(args.tic, args.sector, fetched):
        print(f"ebscan score: {line}", file=sys.stderr)
    if fetched:
        print(
            f"{len(fetched)} light curves of TIC {listed({f.tic for f in fetched})} "
            f"from MAST in {os.path.dirname(fetched[0].path)}",
            file=sys.stderr,
        )
    return fetched


def add_vetted(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan vetted``."""
    p.add_argument("--candidates", required=True, metavar="CANDIDATES.csv")
    p.add_argument(
        "--decisions",
        required=True,
        metavar="DECISIONS.csv",
        help="tic,decision as exported by vetting.html",
    )
    p.add_argument("--output", "-o", required=True, metavar="VETTED.csv")
    p.add_argument("--include-unsure", action="store_true")
    p.set_defaults(handler=_vetted, subparser=p, writes=("output",))


def _vetted(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.survey.vetting import merge_decisions

    check_inputs(parser, [args.candidates, args.decisions])
    keep = ("accept", "unsure") if args.include_unsure else ("accept",)
    try:
        counts = merge_decisions(args.candidates, args.decisions, args.output, keep)
    except ValueError as exc:
        print(f"ebscan vetted: error: {exc}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{k}: {v}" for k, v in counts.items())
    print(f"{args.output}: {sum(counts[k] for k in keep)} stars kept ({summary})", file=sys.stderr)
    return 0


def add_audit(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan audit``."""
    p.add_argument("results", metavar="RESULTS_DIR")
    p.add_argument("--sectors", nargs="+", help="sectors to check (default: all with a manifest)")
    p.add_argument(
        "--products",
        nargs="+",
        choices=list(PRODUCTS),
        help="products to check (default: all with a manifest)",
    )
    p.add_argument("--output", "-o", metavar="AUDIT.tsv", help="also write the table here")
    p.set_defaults(handler=_audit, subparser=p, writes=("output",))


def _audit(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.config import parse_sectors
    from ebscan.survey.audit import (
        AUDIT_FIELDS,
        audit_sector,
        sector_files,
        surveyed_in,
        write_audit,
    )

    if not os.path.isdir(args.results):
        parser.error(f"no such results folder: {args.results}")
    try:
        sectors = set(parse_sectors(args.sectors)) if args.sectors else None
    except ValueError as exc:
        parser.error(str(exc))
    surveyed = [
        (product, sector)
        for product, sector in surveyed_in(args.results)
        if (sectors is None or sector in sectors)
        and (args.products is None or product in args.products)
    ]
    if not surveyed:
        parser.error(f"{args.results}: no sector manifests found (manifests/PRODUCT/sector_N.csv)")
    rows = [
        audit_sector(product, sector, sector_files(args.results, product, sector))
        for product, sector in surveyed
    ]
    print("\t".join(AUDIT_FIELDS))
    for row in rows:
        print("\t".join(str(row[k]) for k in AUDIT_FIELDS))
    if args.output:
        write_audit(rows, args.output)
    bad = [row for row in rows if not row["ok"]]
    for row in bad:
        print(f"{row['product']} sector {row['sector']}: {row['problems']}", file=sys.stderr)
    return 1 if bad else 0
