"""Options and checks that several commands share."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable


def positive_int(text: str) -> int:
    """An option's value as an integer of at least 1 (an argparse ``type``)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_retries(p: argparse.ArgumentParser, requests: str = "") -> None:
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


def add_segment_length(p: argparse.ArgumentParser) -> None:
    """``--min-segment-days`` and ``--min-points``: the shortest segment kept."""
    from ebscan.config import PreprocessConfig

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


#: The fields of :func:`ebscan.acquire.mast.product_url` that name one file: a download
#: URL needs one of them (the config schema's ``mast.download_url`` pattern).
FILE_FIELDS = ("{filename}", "{uri}", "{path}")


def check_download_url(parser: argparse.ArgumentParser, url: str) -> None:
    """Exit with a usage error unless ``url`` names the file to download."""
    if not any(field in url for field in FILE_FIELDS):
        parser.error("--download-url must contain {filename}, {uri} or {path}")


def check_inputs(parser: argparse.ArgumentParser, paths: list[str]) -> None:
    """Stop with a usage error naming the first of ``paths`` that does not exist."""
    for path in paths:
        if not os.path.exists(path):
            parser.error(f"no such file: {path}")


def no_segments_status(command: str, n_files: int, n_segments: int) -> int:
    """1, with a line saying so, when files were given and none produced a segment."""
    if n_files and not n_segments:
        print(
            f"ebscan {command}: error: none of the {n_files} input files produced a segment "
            "(the reasons are above)",
            file=sys.stderr,
        )
        return 1
    return 0


def listed(numbers: Iterable[int]) -> str:
    """Numbers sorted and joined by commas, for a message."""
    return ", ".join(map(str, sorted(numbers)))
