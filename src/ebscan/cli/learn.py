"""Commands that label, train and evaluate: ``labels``, ``train`` and ``evaluate``."""

from __future__ import annotations

import argparse
import os
import sys

from ebscan.cli.options import (
    check_inputs,
    positive_int,
)


def add_labels(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan labels``."""
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

    from ebscan.labels.catalogs import CatalogSet, build_labels
    from ebscan.labels.gcvs import build_variable_labels
    from ebscan.labels.table import evaluation_labels, write_labels

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
        from ebscan.acquire.mast import read_manifest

        manifests = [read_manifest(m) for m in args.manifest] or None
        rows, summary = build_labels(
            CatalogSet(Path(args.catalogs)), manifests, args.negative_ratio, args.seed
        )
    write_labels(rows, args.output)
    counts = ", ".join(f"{k}: {v}" for k, v in summary.items())
    print(f"{args.output}: {len(rows)} rows ({counts})", file=sys.stderr)
    return 0


def add_train(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan train``."""
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
    p.add_argument("--epochs", type=positive_int, default=TrainingConfig.epochs)
    p.add_argument("--batch-size", type=positive_int, default=TrainingConfig.batch_size)
    p.add_argument("--learning-rate", type=float, default=TrainingConfig.learning_rate)
    p.add_argument("--validation-fraction", type=float, default=TrainingConfig.validation_fraction)
    p.add_argument("--patience", type=positive_int, default=TrainingConfig.patience)
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


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ebscan.learn.training import build_training_set, train_model
    from ebscan.models import resolve_hparams

    hparams = _json_object(args.hparams, parser, "--hparams")
    try:
        resolve_hparams(args.model, **hparams)
    except ValueError as exc:
        parser.error(str(exc))
    if not 0 < args.validation_fraction < 1:
        parser.error("--validation-fraction must be between 0 and 1")
    check_inputs(parser, [*args.shards, args.labels])
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


def add_evaluate(p: argparse.ArgumentParser) -> None:
    """The options of ``ebscan evaluate``."""
    from ebscan.config import SurveyConfig

    p.add_argument("--model", required=True, metavar="MODEL.keras")
    p.add_argument("--shards", nargs="+", required=True, metavar="SHARD.h5")
    p.add_argument("--labels", required=True, metavar="LABELS.csv")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--threshold", type=float, default=SurveyConfig.threshold)
    p.set_defaults(handler=_evaluate, subparser=p, writes=("out",))


def _evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import json

    from ebscan.learn.evaluation import evaluate_model
    from ebscan.learn.training import build_training_set, read_training_set

    check_inputs(parser, [args.model, *args.shards, args.labels])
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
