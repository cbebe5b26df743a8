"""Table 5 of Shan et al. 2025 (inputs x CBAM x LSTM) on the pretrained model's data.

Every row trains on the training examples of the pretrained model's recipe
(:mod:`ebscan.learn.recipe`: real light curves, EBs and impostors injected into real non-EB
stars, simulated light curves; run ``make model`` first, or give ``--work``), with the
same seed, epochs and batch size and early stopping on the same validation examples, and
is scored on the real light curves of the recipe's test stars, which no row trained on.
Each light curve counts once, by its best segment (as the catalog ranks a star), EBs
with visible eclipses against every non-EB class, apart for 2-minute and 30-minute
light curves. Accuracy, precision, recall and F1 are at a score of 0.5 (the argmax of
the two classes, as the paper's Table 5); "rec@0.9" is the recall at the survey's
threshold, before any calibration.

``--width`` scales every layer (filters, LSTM units, dense units) so the table can run
on a CPU; 1.0 is the paper's size (8.73 M parameters for CALNet).

Run: .venv/bin/python bench/ablation.py [--work build/pretrained] [--epochs 8] [--width 0.25]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from ebscan.learn.evaluation import binary_metrics, score_rows
from ebscan.learn.recipe import HIDDEN_EB, per_light_curve, read_examples, training_tables
from ebscan.learn.training import train_model
from ebscan.models import load_model
from ebscan.survey.inference import KerasPredictor

from results import record

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
CADENCES = ("2", "30")


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


def light_curve_metrics(curves: list[dict], cadence: str) -> dict:
    """EBs with visible eclipses against every non-EB class, one row per light curve."""
    ranked = [c for c in curves if c["cadence"] == cadence and c["class"] != HIDDEN_EB]
    labels = np.array([c["class"] == "EB" for c in ranked], dtype=int)
    scores = np.array([c["score"] for c in ranked])
    return {
        "at_0.5": binary_metrics(labels, scores, 0.5),
        "recall_at_0.9": float(np.mean(scores[labels == 1] >= 0.9)),
        "n": (int(labels.sum()), int((1 - labels).sum())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default="build/pretrained", help="the recipe's work folder")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(args.work)
    table = work / "examples.csv"
    if not table.exists():
        raise SystemExit(
            f"{table}: missing; run `make model` (python -m ebscan.learn.recipe) first"
        )
    settings = work / "recipe.json"
    # A folder made before the settings record, or before the setting, repeated nothing.
    recipe = json.loads(settings.read_text()) if settings.exists() else {}
    train_csv, validation_csv = training_tables(work, table, recipe.get("real_repeats", 1))
    test = [r for r in read_examples(table) if r["role"] == "test"]
    out = work / "ablation"
    rows = []
    for data, cbam, lstm, paper in TABLE5:
        hparams = {
            **scaled(args.width),
            "use_lc": "LC" in data.split("+"),
            "use_gls": "GLS" in data.split("+"),
            "cbam": cbam,
            "lstm": lstm,
        }
        folder = out / f"{data}-{cbam}-{lstm}"
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        config = train_model(
            train_csv, folder, hparams=hparams, epochs=args.epochs, batch_size=args.batch_size,
            patience=args.epochs, seed=args.seed, validation_csv=validation_csv,
        )  # fmt: skip
        minutes = (time.perf_counter() - start) / 60
        predictor = KerasPredictor(load_model(folder / "model.keras"))
        curves = per_light_curve(test, score_rows(predictor, test))
        row = [data, "yes" if cbam else "-", "yes" if lstm else "-"]
        for cadence in CADENCES:
            m = light_curve_metrics(curves, cadence)
            at = m["at_0.5"]
            row.append(
                f"{at['accuracy']:.3f} / {at['precision']:.3f} / {at['recall']:.3f} / "
                f"{at['f1']:.3f} / {m['recall_at_0.9']:.3f}"
            )
        row += ["{:.3f} / {:.3f} / {:.3f} / {:.3f}".format(*paper), f"{minutes:.1f}"]
        rows.append(row)
        print(" | ".join(row), flush=True)
    counts = {c: light_curve_metrics(curves, c)["n"] for c in CADENCES}
    record(
        "Table 5 ablation, star-disjoint (bench/ablation.py)",
        ["data", "CBAM", "LSTM",
         *(f"{c}-min: acc / prec / rec / F1 / rec@0.9" for c in CADENCES),
         "paper: acc / prec / rec / F1", "train min"],
        rows,
        f"Width {args.width} of the paper's layer sizes ({config['hparams']['lc_filters']} "
        f"LC filters, dense {config['hparams']['dense_units']}); {args.epochs} epochs, batch "
        f"{args.batch_size}, seed {args.seed}, best validation-loss weights, no calibration. "
        f"Data: the pretrained model's recipe ({config['training']['n_train']} training and "
        f"{config['training']['n_validation']} validation segments: real light curves, EBs and "
        "impostors injected into real non-EB stars, simulated light curves). Test: the real "
        "light curves of the recipe's test stars, one row per light curve (its best "
        "segment), EBs with visible eclipses against every non-EB class: "
        + "; ".join(f"{c}-min {n[0]} EB, {n[1]} non-EB" for c, n in counts.items())
        + ". The paper's numbers come from a random segment split (segments of one star on "
        "both sides) of a different, far larger data set of 2-minute light curves.",
    )  # fmt: skip


if __name__ == "__main__":
    main()
