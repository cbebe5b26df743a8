"""Table 5 of Shan et al. 2025 (inputs x CBAM x LSTM) on one star-disjoint data set.

Data: simulated light curves (ebscan.simulate, sectors 1-2) and the shared real light
curves labelled EB / non-EB (2-minute SPOC and 30-minute FFI sets). Stars, not
segments, are split: a hash of the TIC puts every star, with all its sectors and
segments, on the training side or the test side (``--test-fraction``); training then
holds out stars of its own for early stopping. Every row trains on the same rows with
the same seed, epochs and batch size, and is scored on the same test stars, reported
apart for simulated, real 2-minute and real 30-minute light curves (the 30-minute ones
preprocessed with ``--min-points-30min``). Metrics are at a score threshold of 0.5,
as the paper's Table 5 (argmax of two classes).

The CALNet row is the reference model: its metrics, plots and scores are kept in
``--reference-dir`` (default docs/reference-model).

``--width`` scales every layer (filters, LSTM units, dense units) so the table can run
on a CPU; 1.0 is the paper's size (8.73 M parameters for CALNet).

Run: .venv/bin/python bench/ablation.py [--stars 400] [--epochs 10] [--width 0.25]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ebscan.atomic import write_csv
from ebscan.catalogs import evaluation_labels, write_labels
from ebscan.cli import main as ebscan
from ebscan.evaluation import evaluate_model
from ebscan.simulate import build_mirror
from ebscan.training import (
    TRAINING_FIELDS,
    build_training_set,
    read_training_set,
    split_by_star,
    train_model,
)

from results import record

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

#: Table 5 rows: (data, CBAM, LSTM) -> the paper's accuracy, precision, recall, F1.
TABLE5 = [
    ("LC", False, False, (0.944, 0.940, 0.938, 0.939)),
    ("LC", True, False, (0.946, 0.944, 0.936, 0.940)),
    ("LC", False, True, (0.964, 0.966, 0.950, 0.958)),
    ("LC", True, True, (0.967, 0.971, 0.958, 0.964)),
    ("GLS", False, False, (0.936, 0.935, 0.919, 0.927)),
    ("GLS", True, False, (0.940, 0.936, 0.933, 0.934)),
    ("GLS", False, True, (0.958, 0.963, 0.955, 0.959)),
    ("GLS", True, True, (0.962, 0.950, 0.960, 0.955)),
    ("LC+GLS", False, False, (0.968, 0.962, 0.972, 0.967)),
    ("LC+GLS", True, False, (0.972, 0.972, 0.980, 0.976)),
    ("LC+GLS", False, True, (0.980, 0.978, 0.984, 0.981)),
    ("LC+GLS", True, True, (0.989, 0.986, 0.991, 0.989)),
]
SETS = ("simulated", "real 2-min", "real 30-min")


def scaled(width: float) -> dict:
    """CALNet's layer sizes times ``width`` (at least 2 each).

    The last LC block keeps twice the filters of the last GLS block, as in CALNet, so
    the two flattened branches still add up (7936 features each at full size).
    """

    def size(n: int) -> int:
        return max(2, round(n * width))

    return {
        "lc_filters": [size(64), size(128), 2 * size(128)],
        "gls_filters": [size(64), size(128)],
        "lc_lstm_units": size(128),
        "gls_lstm_units": size(64),
        "dense_units": size(1024),
    }


def prepare(work: Path, n_stars: int, min_points_30min: int) -> dict[str, list[dict]]:
    """Shards and labelled rows of the three sets, keyed by set name."""
    truth = build_mirror(work / "mirror", [1, 2], n_stars, seed=2025)
    simulated = [str(work / "mirror" / "files" / r["filename"]) for r in truth]
    rows = {}
    sources = {
        "simulated": (simulated, work / "mirror" / "truth.csv", []),
        "real 2-min": (SHARED / "tess-spoc-2min", None, []),
        "real 30-min": (
            SHARED / "tess-ffi-30min",
            None,
            ["--flux-column", "FLUX", "--min-points", str(min_points_30min)],
        ),
    }
    for name, (files, labels, options) in sources.items():
        if labels is None:  # a shared set: its labels.csv, EB / non-EB only
            labels = work / f"{name}.labels.csv"
            write_labels(evaluation_labels(files / "labels.csv"), labels)
            files = sorted(str(p) for p in files.glob("*.fits"))
        shard = work / f"{name}.h5"
        ebscan(["preprocess", *files, *options, "--jobs", "2", "-o", str(shard)])
        table = work / f"{name}.training.csv"
        build_training_set([shard], labels, table)
        rows[name] = read_training_set(table)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stars", type=int, default=400, help="simulated stars per sector")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--test-fraction", type=float, default=0.3)
    parser.add_argument("--min-points-30min", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reference-dir", default=str(Path("docs") / "reference-model"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ebscan-ablation-"))
    try:
        by_set = prepare(work, args.stars, args.min_points_30min)
        train, test = [], {}
        for name, rows in by_set.items():
            # Another seed than training's validation split, or the two would coincide.
            kept, held_out = split_by_star(rows, args.test_fraction, args.seed + 1)
            train += kept
            test[name] = held_out
        train_csv = work / "train.csv"
        write_csv(train_csv, train, TRAINING_FIELDS)
        counts = {name: f"{len(t)} ({sum(r['label'] for r in t)} EB)" for name, t in test.items()}
        print(f"training segments: {len(train)}; test segments: {counts}", flush=True)
        table = []
        for data, cbam, lstm, paper in TABLE5:
            hparams = {
                **scaled(args.width),
                "use_lc": "LC" in data.split("+"),
                "use_gls": "GLS" in data.split("+"),
                "cbam": cbam,
                "lstm": lstm,
            }
            out = work / f"model-{data}-{cbam}-{lstm}"
            start = time.perf_counter()
            config = train_model(
                train_csv,
                out,
                hparams=hparams,
                epochs=args.epochs,
                batch_size=args.batch_size,
                patience=args.epochs,
                seed=args.seed,
            )
            minutes = (time.perf_counter() - start) / 60
            results = {}
            for name, rows in test.items():
                if rows:
                    m = evaluate_model(out / "model.keras", rows, out / name, threshold=0.5)
                    results[name] = m["overall"]
            row = [data, "yes" if cbam else "-", "yes" if lstm else "-"]
            for name in SETS:
                m = results.get(name)
                row.append(
                    "n/a"
                    if m is None
                    else f"{m['accuracy']:.3f} / {m['precision']:.3f} / "
                    f"{m['recall']:.3f} / {m['f1']:.3f}"
                )
            row += ["{:.3f} / {:.3f} / {:.3f} / {:.3f}".format(*paper), f"{minutes:.1f}"]
            table.append(row)
            print(" | ".join(row), flush=True)
            if data == "LC+GLS" and cbam and lstm:
                reference = Path(args.reference_dir)
                shutil.rmtree(reference, ignore_errors=True)
                for name in results:
                    shutil.copytree(out / name, reference / name.replace(" ", "-"))
                shutil.copy(out / "model.json", reference / "model.json")
                shutil.copy(out / "history.csv", reference / "history.csv")
                (reference / "metrics.json").write_text(json.dumps(results, indent=2))
        record(
            "Table 5 ablation, star-disjoint (bench/ablation.py)",
            ["data", "CBAM", "LSTM", *(f"{s}: acc / prec / rec / F1" for s in SETS),
             "paper: acc / prec / rec / F1", "train min"],
            table,
            f"Width {args.width} of the paper's layer sizes ({config['hparams']['lc_filters']} "
            f"LC filters, dense {config['hparams']['dense_units']}); {args.epochs} epochs, "
            f"batch {args.batch_size}, seed {args.seed}, best validation-loss weights. "
            f"Training: {len(train)} segments ({config['training']['n_positive']} EB) of "
            f"simulated and real stars; test segments (stars never trained on): "
            + "; ".join(f"{k} {v}" for k, v in counts.items())
            + ". Threshold 0.5. The paper's numbers come from a random segment split "
            "(segments of one star on both sides) of a different, far larger data set.",
        )  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
