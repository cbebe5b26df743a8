"""Commands that make and combine shards: ``preprocess``, ``gls`` and ``merge``."""

from __future__ import annotations

import argparse
import os
import sys

from ebscan.cli.options import (
    add_segment_length,
    check_inputs,
    no_segments_status,
    positive_int,
)


def add_preprocess(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan preprocess``."""
    from ebscan.config import PreprocessConfig
    from ebscan.lightcurves.periodogram import METHODS
    from ebscan.lightcurves.resample import SPLINE_MODES

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
    p.add_argument("--jobs", "-j", type=positive_int, default=1, help="worker processes")
    p.add_argument("--gap-days", type=float, default=defaults.gap_days)
    add_segment_length(p)
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


def _preprocess(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.config import PreprocessConfig
    from ebscan.lightcurves.periodogram import calnet_period_grid
    from ebscan.lightcurves.preprocess import preprocess_files
    from ebscan.lightcurves.shards import ShardWriter, source_files

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
    return no_segments_status("preprocess", len(todo), n_segments)


def add_merge(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan merge``."""
    p.add_argument("shards", nargs="+", metavar="SHARD.h5")
    p.add_argument("--output", "-o", required=True, metavar="MERGED.h5")
    p.set_defaults(handler=_merge, subparser=p, writes=("output",))


def _merge(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.lightcurves.shards import merge_shards

    check_inputs(parser, args.shards)
    try:
        merge_shards(args.shards, args.output)
    except ValueError as exc:  # not shards, or shards made with different parameters
        print(f"ebscan merge: error: {exc}", file=sys.stderr)
        return 2
    return 0


def add_gls(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan gls``."""
    p.add_argument("shard", metavar="SHARD.h5")
    p.add_argument("--output", "-o", required=True, metavar="OUT.h5")
    p.set_defaults(handler=_gls, subparser=p, writes=("output",))


def _gls(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.lightcurves.shards import add_gls, open_shard

    check_inputs(parser, [args.shard])
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
