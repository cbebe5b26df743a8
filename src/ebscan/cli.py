"""The ``ebscan`` command line.

Every command fails the same way: one line on stderr, ``ebscan COMMAND: error: ...``,
naming the file and the reason, and the exit status says what kind of failure it was:
2 for a usage mistake (a bad option, or a file that is not what the option takes),
1 for a failure (a full disk, the network, a results folder in use, no input that
produced a segment), 130 for Ctrl-C. A traceback means a bug in ebscan.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from ebscan import __version__
from ebscan.errors import InputError, WriteError
from ebscan.lock import ResultsLock, ResultsLocked, results_folder
from ebscan.logs import quiet_tensorflow
from ebscan.products import PRODUCTS, SPOC_2MIN, TESS_SPOC_FFI

if TYPE_CHECKING:  # the module imports SciPy; commands import it when they run
    from ebscan.preprocess import PreprocessConfig

# A command imports what it needs when it runs, and its options are only built when it
# is the one asked for: `ebscan --help` and the commands that do not train or score
# start without NumPy, SciPy or TensorFlow (bench/cli_startup.py).


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _add_retries(p: argparse.ArgumentParser, requests: str = "") -> None:
    """``--retries`` and ``--timeout`` (the ``mast`` section's ``retries`` and
    ``timeout_s``), ``requests`` saying which requests they apply to."""
    from ebscan.config import MastConfig

    p.add_argument("--retries", type=int, default=MastConfig.retries, help=requests or None)
    p.add_argument(
        "--timeout",
        type=float,
        default=MastConfig.timeout_s,
        help=f"seconds{f' ({requests})' if requests else ''}",
    )


def _add_preprocess(p: argparse.ArgumentParser) -> None:
    from ebscan.periodogram import METHODS
    from ebscan.preprocess import PreprocessConfig
    from ebscan.resample import SPLINE_MODES

    defaults = PreprocessConfig()
    p.add_argument("files", nargs="*", metavar="FILE", help="light-curve FITS files")
    p.add_argument(
        "--files-from",
        metavar="LIST",
        help="text file with one light-curve path per line (for long lists)",
    )
    p.add_argument("--output", "-o", required=True, metavar="SHARD.h5", help="shard to write")
    p.add_argument(
        "--append",
        action="store_true",
        help="keep what OUTPUT already holds and add only files it does not account for",
    )
    p.add_argument("--jobs", "-j", type=_positive_int, default=1, help="worker processes")
    p.add_argument("--gap-days", type=float, default=defaults.gap_days)
    _add_segment_length(p)
    p.add_argument("--clip-percentile", type=float, default=defaults.clip_percentile)
    p.add_argument("--n-lc", type=int, default=defaults.n_lc)
    p.add_argument("--spline-mode", choices=sorted(SPLINE_MODES), default=defaults.spline_mode)
    p.add_argument("--knot-spacing-days", type=float, default=defaults.knot_spacing_days)
    p.add_argument("--clip-sigma", type=float, default=defaults.clip_sigma)
    p.add_argument("--clip-rounds", type=int, default=defaults.clip_rounds)
    p.add_argument("--gls-method", choices=sorted(METHODS), default=defaults.gls_method)
    p.add_argument(
        "--no-gls",
        action="store_true",
        help="light-curve vectors only; `ebscan gls` adds the GLS vectors later",
    )
    p.add_argument(
        "--flux-column",
        default=defaults.flux_column,
        help="flux column (default: PDCSAP_FLUX, else FLUX)",
    )
    p.set_defaults(handler=_preprocess, subparser=p, writes=("output",))


def _add_segment_length(p: argparse.ArgumentParser) -> None:
    """``--min-segment-days`` and ``--min-points``: the shortest segment kept."""
    from ebscan.preprocess import PreprocessConfig

    p.add_argument(
        "--min-segment-days",
        type=float,
        default=PreprocessConfig().min_segment_days,
        metavar="DAYS",
        help="drop segments shorter than this many days' cadences at the file's own cadence "
        "(default: the paper's 2000 two-minute cadences, 2.78 days: 134 at 30 minutes)",
    )
    p.add_argument(
        "--min-points",
        type=int,
        metavar="N",
        help="drop segments with fewer than N good cadences at every cadence instead",
    )


def _preprocess(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.periodogram import calnet_period_grid
    from ebscan.preprocess import PreprocessConfig, preprocess_files
    from ebscan.shards import ShardWriter, source_files

    try:
        config = PreprocessConfig(
            gap_days=args.gap_days,
            min_segment_days=args.min_segment_days,
            min_points=args.min_points,
            clip_percentile=args.clip_percentile,
            n_lc=args.n_lc,
            spline_mode=args.spline_mode,
            knot_spacing_days=args.knot_spacing_days,
            clip_sigma=args.clip_sigma,
            clip_rounds=args.clip_rounds,
            gls_method=args.gls_method,
            flux_column=args.flux_column,
        )
    except ValueError as exc:
        parser.error(str(exc))
    files = list(args.files)
    if args.files_from:
        try:
            with open(args.files_from) as listing:
                files += [line.strip() for line in listing if line.strip()]
        except OSError as exc:
            parser.error(f"--files-from {args.files_from}: {exc.strerror}")
    if not files:
        parser.error("no input files (give FILE arguments or --files-from)")
    done: set[str] = set()
    if args.append and os.path.exists(args.output):
        done = source_files(args.output)
    todo = [os.fspath(f) for f in dict.fromkeys(files) if os.path.abspath(f) not in done]
    n_segments = n_rejects = 0
    try:
        period = None if args.no_gls else calnet_period_grid()
        with ShardWriter(args.output, config, period) as writer:
            if done:
                writer.add_shard(args.output)
            for result in preprocess_files(todo, config, args.jobs, with_gls=not args.no_gls):
                writer.add(result)
                if result.rejected:
                    n_rejects += 1
                    print(f"rejected {result.path}: {result.reject_reason}", file=sys.stderr)
                n_segments += len(result.segments)
    except ValueError as exc:  # a shard to append to made with other parameters
        print(f"ebscan preprocess: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{args.output}: {len(todo)} files -> {n_segments} segments, {n_rejects} rejected"
        + (f" ({len(done)} files already there)" if done else ""),
        file=sys.stderr,
    )
    return _no_segments_status("preprocess", len(todo), n_segments)


def _no_segments_status(command: str, n_files: int, n_segments: int) -> int:
    """1, with a line saying so, when files were given and none produced a segment."""
    if n_files and not n_segments:
        print(
            f"ebscan {command}: error: none of the {n_files} input files produced a segment "
            "(the reasons are above)",
            file=sys.stderr,
        )
        return 1
    return 0


def _add_merge(p: argparse.ArgumentParser) -> None:
    p.add_argument("shards", nargs="+", metavar="SHARD.h5")
    p.add_argument("--output", "-o", required=True, metavar="MERGED.h5")
    p.set_defaults(handler=_merge, subparser=p, writes=("output",))


def _merge(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.shards import merge_shards

    missing = [s for s in args.shards if not os.path.exists(s)]
    if missing:
        parser.error(f"no such shard: {missing[0]}")
    try:
        merge_shards(args.shards, args.output)
    except ValueError as exc:  # not shards, or shards made with different parameters
        print(f"ebscan merge: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _add_gls(p: argparse.ArgumentParser) -> None:
    p.add_argument("shard", metavar="SHARD.h5")
    p.add_argument("--output", "-o", required=True, metavar="OUT.h5")
    p.set_defaults(handler=_gls, subparser=p, writes=("output",))


def _gls(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.shards import add_gls, open_shard

    if not os.path.exists(args.shard):
        parser.error(f"no such shard: {args.shard}")
    try:
        moved = add_gls(args.shard, args.output)
    except ValueError as exc:  # not a shard, or one with GLS vectors already
        print(f"ebscan gls: error: {exc}", file=sys.stderr)
        return 2
    if moved:
        print(
            f"{args.output}: {moved} source files unreadable now, moved to rejects", file=sys.stderr
        )
        with open_shard(args.output) as shard:
            if not shard.attrs["n_segments"]:
                print(
                    f"ebscan gls: error: none of the {moved} source files could be read again",
                    file=sys.stderr,
                )
                return 1
    return 0


def _add_manifest(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sector",
        type=_positive_int,
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
    _add_retries(p)
    p.set_defaults(handler=_manifest, subparser=p, writes=("output",))


def _manifest(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan import mast

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
    from ebscan.mast import write_manifest
    from ebscan.search import find_light_curves

    if not tics:
        parser.error("--search needs the stars: give --tics FILE (one TIC per line)")
    rows = find_light_curves(tics, args.sector, args.mast_url, args.retries, args.timeout)
    where = f" in sectors {_listed(args.sector)}" if args.sector else ""
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
        + (f"; none of TIC {_listed(missing)}" if missing else ""),
        file=sys.stderr,
    )
    return 0


def _listed(numbers: Iterable[int]) -> str:
    return ", ".join(map(str, sorted(numbers)))


def _add_download(p: argparse.ArgumentParser) -> None:
    from ebscan.config import MastConfig
    from ebscan.mast import S3_DOWNLOAD_URL

    p.add_argument("--manifest", required=True, metavar="M.csv")
    p.add_argument("--dest", required=True, metavar="DIR")
    p.add_argument(
        "--download-url",
        default=MastConfig.download_url,
        help="template with {filename} or {uri} (default: MAST's Download/file "
        f"API; the S3 layout is {S3_DOWNLOAD_URL})",
    )
    p.add_argument(
        "--concurrency",
        type=_positive_int,
        default=MastConfig.concurrency,
        help=f"simultaneous transfers (default {MastConfig.concurrency}; be polite to MAST)",
    )
    _add_retries(p)
    p.add_argument(
        "--report",
        metavar="R.tsv",
        help="per-file outcome table (default: DEST/download-report.tsv)",
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=_download, subparser=p, writes=("dest", "report"))


def _download(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan import mast

    if "{filename}" not in args.download_url and "{uri}" not in args.download_url:
        parser.error("--download-url must contain {filename} or {uri}")
    _check_inputs(parser, [args.manifest])
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


def _add_labels(p: argparse.ArgumentParser) -> None:
    from ebscan.config import TrainingConfig

    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--catalogs", metavar="DIR", help="folder laid out like shared/catalogs")
    source.add_argument(
        "--gcvs",
        metavar="SOURCE",
        help="'vizier' (online) or a saved copy of VizieR's B/gcvs/gcvs_cat",
    )
    source.add_argument("--evaluation", metavar="LABELS.csv", help="a shared data labels.csv")
    p.add_argument(
        "--manifest",
        action="append",
        default=[],
        metavar="M.csv",
        help="sector manifest(s) to keep positives and draw negatives from",
    )
    p.add_argument("--negative-ratio", type=float, default=TrainingConfig.negative_ratio)
    p.add_argument("--seed", type=int, default=TrainingConfig.seed)
    p.add_argument(
        "--shard", action="append", default=[], metavar="S.h5", help="shards to label (--gcvs)"
    )
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="LABELS.csv",
        help="labels tables whose EBs and planet hosts --gcvs never labels",
    )
    p.add_argument(
        "--radius",
        type=float,
        default=TrainingConfig.gcvs_radius_arcsec,
        metavar="ARCSEC",
        help="(--gcvs)",
    )
    p.add_argument("--output", "-o", required=True, metavar="LABELS.csv")
    p.set_defaults(handler=_labels, subparser=p, writes=("output",))


def _labels(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from pathlib import Path

    from ebscan.catalogs import (
        CatalogSet,
        build_labels,
        build_variable_labels,
        evaluation_labels,
        write_labels,
    )

    source = args.catalogs or args.evaluation or args.gcvs
    for path in [*([source] if source != "vizier" else []), *args.manifest, *args.shard]:
        if not os.path.exists(path):
            parser.error(f"no such file or folder: {path}")
    if args.gcvs and not args.shard:
        parser.error("--gcvs needs the light curves to label: give --shard")
    if args.gcvs:
        rows = build_variable_labels(args.shard, args.gcvs, args.exclude, args.radius)
        summary = {"non-EB": len(rows)}
    elif args.evaluation:
        rows = evaluation_labels(args.evaluation)
        summary = {k: sum(r["label"] == k for r in rows) for k in ("EB", "non-EB", "excluded")}
    else:
        from ebscan.mast import read_manifest

        manifests = [read_manifest(m) for m in args.manifest] or None
        rows, summary = build_labels(
            CatalogSet(Path(args.catalogs)), manifests, args.negative_ratio, args.seed
        )
    write_labels(rows, args.output)
    counts = ", ".join(f"{k}: {v}" for k, v in summary.items())
    print(f"{args.output}: {len(rows)} rows ({counts})", file=sys.stderr)
    return 0


def _add_audit(p: argparse.ArgumentParser) -> None:
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
    from ebscan.audit import AUDIT_FIELDS, audit_sector, sector_files, surveyed_in, write_audit
    from ebscan.config import parse_sectors

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


def _add_train(p: argparse.ArgumentParser) -> None:
    from ebscan.config import TrainingConfig

    p.add_argument("--shards", nargs="+", required=True, metavar="SHARD.h5")
    p.add_argument("--labels", required=True, metavar="LABELS.csv")
    # Checked when the command runs: the registry imports Keras, which would
    # make every command, --help included, take seconds to start.
    p.add_argument(
        "--model",
        default=TrainingConfig.model,
        metavar="NAME",
        help="a model of the registry (docs/models.md)",
    )
    p.add_argument(
        "--hparams",
        default="{}",
        metavar="JSON",
        help="hyperparameter overrides, e.g. '{\"dense_units\": 256}'",
    )
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--epochs", type=_positive_int, default=TrainingConfig.epochs)
    p.add_argument("--batch-size", type=_positive_int, default=TrainingConfig.batch_size)
    p.add_argument("--learning-rate", type=float, default=TrainingConfig.learning_rate)
    p.add_argument("--validation-fraction", type=float, default=TrainingConfig.validation_fraction)
    p.add_argument("--patience", type=_positive_int, default=TrainingConfig.patience)
    p.add_argument("--class-weight", action="store_true")
    p.add_argument("--seed", type=int, default=TrainingConfig.seed)
    p.set_defaults(handler=_train, subparser=p, writes=("out",))


def _json_object(text: str, parser: argparse.ArgumentParser, option: str) -> dict:
    import json

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        parser.error(f"{option}: not JSON ({exc})")
    if not isinstance(value, dict):
        parser.error(f"{option}: must be a JSON object")
    return value


def _check_inputs(parser: argparse.ArgumentParser, paths: list[str]) -> None:
    for path in paths:
        if not os.path.exists(path):
            parser.error(f"no such file: {path}")


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.models import resolve_hparams
    from ebscan.training import build_training_set, train_model

    hparams = _json_object(args.hparams, parser, "--hparams")
    try:
        resolve_hparams(args.model, **hparams)
    except ValueError as exc:
        parser.error(str(exc))
    if not 0 < args.validation_fraction < 1:
        parser.error("--validation-fraction must be between 0 and 1")
    _check_inputs(parser, [*args.shards, args.labels])
    training_set = os.path.join(args.out, "training_set.csv")
    counts = build_training_set(args.shards, args.labels, training_set)
    print(f"training set: {counts}", file=sys.stderr)
    try:
        config = train_model(
            training_set,
            args.out,
            args.model,
            hparams,
            args.epochs,
            args.batch_size,
            args.learning_rate,
            args.validation_fraction,
            args.patience,
            args.class_weight,
            args.seed,
        )
    except ValueError as exc:
        print(f"ebscan train: error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}/model.keras: {config['final_metrics']}", file=sys.stderr)
    return 0


def _add_evaluate(p: argparse.ArgumentParser) -> None:
    from ebscan.config import SurveyConfig

    p.add_argument("--model", required=True, metavar="MODEL.keras")
    p.add_argument("--shards", nargs="+", required=True, metavar="SHARD.h5")
    p.add_argument("--labels", required=True, metavar="LABELS.csv")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--threshold", type=float, default=SurveyConfig.threshold)
    p.set_defaults(handler=_evaluate, subparser=p, writes=("out",))


def _evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import json

    from ebscan.evaluation import evaluate_model
    from ebscan.training import build_training_set, read_training_set

    _check_inputs(parser, [args.model, *args.shards, args.labels])
    if not 0 <= args.threshold <= 1:
        parser.error("--threshold must be between 0 and 1")
    table = os.path.join(args.out, "evaluation_set.csv")
    build_training_set(args.shards, args.labels, table)
    rows = read_training_set(table)
    if not rows:
        print("ebscan evaluate: error: no labelled segment in the shards", file=sys.stderr)
        return 2
    try:
        metrics = evaluate_model(args.model, rows, args.out, args.threshold)
    except ValueError as exc:  # how Keras refuses a file that is no model, with its name
        print(f"ebscan evaluate: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(metrics["overall"], indent=1))
    return 0


def _add_score(p: argparse.ArgumentParser) -> None:
    from ebscan.config import InferenceConfig, MastConfig
    from ebscan.inference import ENGINES

    p.add_argument("files", nargs="*", metavar="FILE", help="light-curve FITS files")
    p.add_argument(
        "--tic",
        type=_positive_int,
        nargs="+",
        default=[],
        metavar="TIC",
        help="stars to score: their 2-minute SPOC light curves are found at MAST "
        "(astroquery) and downloaded into --cache",
    )
    p.add_argument(
        "--sector",
        type=_positive_int,
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
        "(a mirror; python -m ebscan.mirror_server serves one)",
    )
    p.add_argument(
        "--download-url",
        default=MastConfig.download_url,
        help="template with {filename} or {uri} for --tic downloads (default: MAST's)",
    )
    p.add_argument(
        "--model",
        metavar="MODEL",
        help="a .keras model, or its ONNX export (model.onnx beside it in the workflow's "
        "results) for the onnxruntime engine, which then never imports TensorFlow "
        "(default: the pretrained CALNet that ships with ebscan, docs/model-card.md)",
    )
    p.add_argument("--output", "-o", required=True, metavar="SCORES.csv")
    _add_segment_length(p)
    p.add_argument("--jobs", "-j", type=_positive_int, default=1)
    p.add_argument(
        "--engine",
        choices=ENGINES,
        default=InferenceConfig.engine,
        help="onnxruntime (fastest on CPU), keras (TensorFlow; GPU) or auto (keras "
        "when TensorFlow sees a GPU)",
    )
    _add_retries(p, "for --tic searches and downloads")
    p.set_defaults(handler=_score, subparser=p, writes=("output",))


def _add_ephemerides(files: list[dict], config: PreprocessConfig, jobs: int) -> None:
    """Add the catalog's ephemeris and geometry columns to each scored file's row."""
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from ebscan.candidates import ephemeris_row

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
    from ebscan.atomic import write_csv
    from ebscan.candidates import EPHEMERIS_COLUMNS
    from ebscan.inference import load_predictor, resolve_engine, score_results
    from ebscan.paths import recorded
    from ebscan.preprocess import PreprocessConfig, preprocess_files
    from ebscan.pretrained import pretrained_model
    from ebscan.search import preprocess_fetched

    if args.sector and not args.tic:
        parser.error("--sector selects sectors of the --tic stars: give --tic")
    if not args.files and not args.tic:
        parser.error("nothing to score: give FILE arguments or --tic")
    if "{filename}" not in args.download_url and "{uri}" not in args.download_url:
        parser.error("--download-url must contain {filename} or {uri}")
    if args.model is None:
        args.model = str(pretrained_model(resolve_engine(args.engine)))
    _check_inputs(parser, [args.model])
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
    return _no_segments_status("score", len(files), len(segments))


def _fetched(args: argparse.Namespace) -> list:
    """``ebscan score --tic``: the stars' light curves, found at MAST and fetched into the
    cache, with a line for each star MAST has none of."""
    from ebscan.search import fetch_light_curves, not_found

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
            f"{len(fetched)} light curves of TIC {_listed({f.tic for f in fetched})} "
            f"from MAST in {os.path.dirname(fetched[0].path)}",
            file=sys.stderr,
        )
    return fetched


def _add_vetted(p: argparse.ArgumentParser) -> None:
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
    from ebscan.vetting import merge_decisions

    _check_inputs(parser, [args.candidates, args.decisions])
    keep = ("accept", "unsure") if args.include_unsure else ("accept",)
    try:
        counts = merge_decisions(args.candidates, args.decisions, args.output, keep)
    except ValueError as exc:
        print(f"ebscan vetted: error: {exc}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{k}: {v}" for k, v in counts.items())
    print(f"{args.output}: {sum(counts[k] for k in keep)} stars kept ({summary})", file=sys.stderr)
    return 0


#: The commands, in the order of --help: (function adding the options, parser keywords).
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], dict]] = {
    "manifest": (
        _add_manifest,
        dict(
            help="list light curves: a sector's of one product (MAST's bulk download "
            "script) or a TIC list's 2-minute ones (MAST's search)",
        ),
    ),
    "labels": (
        _add_labels,
        dict(
            help="labels table (tic, sector, label, subtype, source, reason) from catalogs",
            description="Build a labels table: catalogued EB light curves minus known planet "
            "hosts, plus random negatives from the manifests (--catalogs); the light curves "
            "in shards of known non-EB variables of GCVS 5.1 (--gcvs); or the labelled "
            "evaluation set of a shared data folder's labels.csv (--evaluation).",
        ),
    ),
    "download": (
        _add_download,
        dict(
            help="fetch a manifest's light curves: verified, resumable, polite",
            description="Download every file of a manifest into DEST. Files already there "
            "and complete are skipped; partial ones resume; each file is verified before it "
            "gets its final name. Exits 1 if any file failed after all retries.",
        ),
    ),
    "preprocess": (
        _add_preprocess,
        dict(
            help="light-curve files -> HDF5 shard of (LC, GLS) vectors and rejects",
            description="Turn light-curve FITS files into an HDF5 shard of CALNet input vectors. "
            "Files that yield no segment are listed on stderr and in the shard's rejects table.",
        ),
    ),
    "gls": (
        _add_gls,
        dict(
            help="add GLS vectors to a shard made with --no-gls",
            description="Compute the GLS vector of every segment of a light-curve-only shard "
            "from its source files, with the shard's own preprocessing parameters.",
        ),
    ),
    "merge": (_add_merge, dict(help="merge shards made with the same parameters")),
    "train": (
        _add_train,
        dict(
            help="train a model on labelled segments of shards",
            description="Join LABELS (tic, sector, label) to the SHARDS' segments, split by "
            "star into train and validation, and train; writes OUT/model.keras, "
            "OUT/model.json (the resolved configuration) and OUT/history.csv.",
        ),
    ),
    "evaluate": (
        _add_evaluate,
        dict(
            help="metrics and plots of a trained model on labelled segments",
            description="Score the labelled segments of SHARDS and write OUT/metrics.json "
            "(accuracy, precision, recall, F1 at the threshold, ROC and PR AUC, per class), "
            "OUT/scores.csv and PNG plots.",
        ),
    ),
    "score": (
        _add_score,
        dict(
            help="preprocess, GLS and score light-curve files in one go",
            description="Score ad-hoc light curves with a trained model: one row per segment "
            "in OUTPUT and one per file (best score, or why it was rejected, and the "
            "catalog's ephemeris and eclipse-geometry columns) in OUTPUT with .files.csv.",
        ),
    ),
    "vetted": (
        _add_vetted,
        dict(
            help="merge decisions exported from the vetting page into a vetted catalog",
        ),
    ),
    "audit": (
        _add_audit,
        dict(
            help="check that every light curve of a run was scored or rejected for a reason",
            description="Per product and sector: files in the manifest = downloaded + failed; "
            "downloaded = files with segments in shards + rejected files; every segment "
            "scored. Prints the table and exits 1 on any mismatch.",
        ),
    ),
}


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The ``ebscan`` argument parser.

    Parameters
    ----------
    commands : iterable of str, optional
        The commands whose options to build (default: all of them). Every command is
        listed either way; building a command's options imports what their defaults
        and choices come from.
    """
    parser = argparse.ArgumentParser(prog="ebscan", description=__doc__)
    parser.add_argument("--version", action="version", version=f"ebscan {__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help=_VERBOSE)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = set(COMMANDS if commands is None else commands)
    for name, (add_options, keywords) in COMMANDS.items():
        p = subparsers.add_parser(name, **keywords)
        if name in wanted:
            add_options(p)
            # SUPPRESS: a command's default would overwrite `ebscan --verbose COMMAND`.
            p.add_argument(
                "--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE
            )
    return parser


_VERBOSE = "show TensorFlow's start-up logs (hidden otherwise)"


def _command_in(argv: Sequence[str]) -> list[str]:
    """The command named in ``argv``: the first word that is not an option (the options
    before a command take no value). Empty when there is none or it is unknown."""
    word = next((arg for arg in argv if not arg.startswith("-")), None)
    return [word] if word in COMMANDS else []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ebscan`` console script; returns the exit status.

    The command holds the lock of every results folder it writes into
    (:mod:`ebscan.lock`), and its expected failures end as one line on stderr.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    if not args.verbose:
        quiet_tensorflow()
    command = f"ebscan {args.command}"
    try:
        with contextlib.ExitStack() as locks:
            for folder in _results_folders(args):
                locks.enter_context(ResultsLock(folder, " ".join(["ebscan", *argv])))
            return args.handler(args, args.subparser)
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except InputError as exc:
        print(f"{command}: error: {exc}", file=sys.stderr)
        return 2
    except (ResultsLocked, OSError) as exc:
        print(f"{command}: error: {_failure(exc)}", file=sys.stderr)
        return 1


def _results_folders(args: argparse.Namespace) -> list[str]:
    """The results folders (:func:`ebscan.lock.results_folder`) a command writes into."""
    paths = [getattr(args, name) for name in args.writes if getattr(args, name)]
    return sorted({folder for path in paths if (folder := results_folder(path))})


def _failure(exc: Exception) -> str:
    """One line for an expected failure (a plain OSError's own text leads with its errno)."""
    if isinstance(exc, OSError) and not isinstance(exc, WriteError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
