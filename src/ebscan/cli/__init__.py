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
import sys
from collections.abc import Callable, Iterable, Sequence

from ebscan import __version__
from ebscan.cli.acquire import add_download, add_manifest
from ebscan.cli.learn import add_evaluate, add_labels, add_train
from ebscan.cli.lightcurves import add_gls, add_merge, add_preprocess
from ebscan.cli.survey import add_audit, add_score, add_vetted
from ebscan.errors import InputError, WriteError
from ebscan.lock import ResultsLock, ResultsLocked, results_folder
from ebscan.logs import quiet_tensorflow

# A command imports what it needs when it runs, and its options are only built when it
# is the one asked for: `ebscan --help` and the commands that do not train or score
# start without NumPy, SciPy or TensorFlow (bench/cli_startup.py).

#: The commands, in the order of --help: (function adding the options, parser keywords).
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], dict]] = {
    "manifest": (
        add_manifest,
        dict(
            help="list light curves: a sector's of one product (MAST's bulk download "
            "script) or a TIC list's 2-minute ones (MAST's search)",
        ),
    ),
    "labels": (
        add_labels,
        dict(
            help="labels table (tic, sector, label, subtype, source, reason) from catalogs",
            description="Build a labels table: catalogued EB light curves minus known planet "
            "hosts, plus random negatives from the manifests (--catalogs); the light curves "
            "in shards of known non-EB variables of GCVS 5.1 (--gcvs); or the labelled "
            "evaluation set of a shared data folder's labels.csv (--evaluation).",
        ),
    ),
    "download": (
        add_download,
        dict(
            help="fetch a manifest's light curves: verified, resumable, polite",
            description="Download every file of a manifest into DEST. Files already there "
            "and complete are skipped; partial ones resume; each file is verified before it "
            "gets its final name. Exits 1 if any file failed after all retries.",
        ),
    ),
    "preprocess": (
        add_preprocess,
        dict(
            help="light-curve files -> HDF5 shard of (LC, GLS) vectors and rejects",
            description="Turn light-curve FITS files into an HDF5 shard of CALNet input vectors. "
            "Files that yield no segment are listed on stderr and in the shard's rejects table.",
        ),
    ),
    "gls": (
        add_gls,
        dict(
            help="add GLS vectors to a shard made with --no-gls",
            description="Compute the GLS vector of every segment of a light-curve-only shard "
            "from its source files, with the shard's own preprocessing parameters.",
        ),
    ),
    "merge": (add_merge, dict(help="merge shards made with the same parameters")),
    "train": (
        add_train,
        dict(
            help="train a model on labelled segments of shards",
            description="Join LABELS (tic, sector, label) to the SHARDS' segments, split by "
            "star into train and validation, and train; writes OUT/model.keras, "
            "OUT/model.json (the resolved configuration) and OUT/history.csv.",
        ),
    ),
    "evaluate": (
        add_evaluate,
        dict(
            help="metrics and plots of a trained model on labelled segments",
            description="Score the labelled segments of SHARDS and write OUT/metrics.json "
            "(accuracy, precision, recall, F1 at the threshold, ROC and PR AUC, per class), "
            "OUT/scores.csv and PNG plots.",
        ),
    ),
    "score": (
        add_score,
        dict(
            help="preprocess, GLS and score light-curve files in one go",
            description="Score ad-hoc light curves with a trained model: one row per segment "
            "in OUTPUT and one per file (best score, or why it was rejected, and the "
            "catalog's ephemeris and eclipse-geometry columns) in OUTPUT with .files.csv.",
        ),
    ),
    "vetted": (
        add_vetted,
        dict(
            help="merge decisions exported from the vetting page into a vetted catalog",
        ),
    ),
    "audit": (
        add_audit,
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
