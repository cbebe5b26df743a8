"""Honest evaluation: metrics at a threshold, per input class, with plots."""

from __future__ import annotations

import csv
import json
import os

import numpy as np

from ebscan.atomic import atomic_open
from ebscan.config import InferenceConfig, SurveyConfig


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct score, from (0, 0) to (1, 1)."""
    order = np.argsort(-scores, kind="stable")
    labels, scores = labels[order], scores[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(scores)), labels.size - 1]
    tp = np.cumsum(labels)[last_of_each]
    fp = (last_of_each + 1) - tp
    n_pos, n_neg = labels.sum(), labels.size - labels.sum()
    return np.r_[0.0, fp / max(n_neg, 1)], np.r_[0.0, tp / max(n_pos, 1)]


def precision_recall_curve(labels: np.ndarray, scores: np.ndarray):
    """Precision and recall at every distinct score (recall increasing)."""
    order = np.argsort(-scores, kind="stable")
    labels, scores = labels[order], scores[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(scores)), labels.size - 1]
    tp = np.cumsum(labels)[last_of_each]
    precision = tp / (last_of_each + 1)
    recall = tp / max(labels.sum(), 1)
    return precision, recall


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """Accuracy, precision, recall, F1 at ``threshold``; ROC AUC and PR AUC (average precision)."""
    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    predicted = scores >= threshold
    tp = int(np.sum(predicted & (labels == 1)))
    fp = int(np.sum(predicted & (labels == 0)))
    fn = int(np.sum(~predicted & (labels == 1)))
    tn = int(np.sum(~predicted & (labels == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    out = {
        "n": int(labels.size),
        "n_positive": int(labels.sum()),
        "threshold": threshold,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "accuracy": (tp + tn) / labels.size if labels.size else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }
    if 0 < labels.sum() < labels.size:
        fpr, tpr = roc_curve(labels, scores)
        out["roc_auc"] = float(np.trapezoid(tpr, fpr))
        precision_curve, recall_curve = precision_recall_curve(labels, scores)
        out["pr_auc"] = float(np.sum(np.diff(np.r_[0.0, recall_curve]) * precision_curve))
    return out


def training_curves(history_csv: str | os.PathLike, output: str | os.PathLike) -> str:
    """Plot loss and accuracy per epoch (training and validation) from ``history.csv``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(history_csv, newline="") as handle:
        history = list(csv.DictReader(handle))
    figure, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for key, ax in (("loss", axes[0]), ("accuracy", axes[1])):
        for prefix in ("", "val_"):
            if history and prefix + key in history[0]:
                ax.plot([float(h[prefix + key]) for h in history], label=prefix + key)
        ax.set_xlabel("epoch")
        ax.legend()
    figure.tight_layout()
    with atomic_open(output, "wb") as handle:
        figure.savefig(handle, format="png", dpi=100)
    plt.close(figure)
    return os.fspath(output)


def _plots(labels, scores, threshold, history_csv, out_dir) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []

    def save(figure, name):
        path = os.path.join(out_dir, name)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)

    m = binary_metrics(labels, scores, threshold)
    figure, axes = plt.subplots(figsize=(4, 3.6))
    matrix = np.array([[m["tn"], m["fp"]], [m["fn"], m["tp"]]])
    axes.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        axes.text(j, i, str(value), ha="center", va="center")
    axes.set_xticks([0, 1], ["non-EB", "EB"])
    axes.set_yticks([0, 1], ["non-EB", "EB"])
    axes.set_xlabel(f"predicted (score >= {threshold})")
    axes.set_ylabel("label")
    save(figure, "confusion_matrix.png")
    if 0 < labels.sum() < labels.size:
        fpr, tpr = roc_curve(labels, scores)
        figure, axes = plt.subplots(figsize=(4, 3.6))
        axes.plot(fpr, tpr)
        axes.plot([0, 1], [0, 1], ":", color="grey")
        axes.set_xlabel("false-positive rate")
        axes.set_ylabel("true-positive rate")
        axes.set_title(f"ROC AUC {m['roc_auc']:.3f}")
        save(figure, "roc.png")
        precision, recall = precision_recall_curve(labels, scores)
        figure, axes = plt.subplots(figsize=(4, 3.6))
        axes.step(recall, precision, where="post")
        axes.set_xlabel("recall")
        axes.set_ylabel("precision")
        axes.set_title(f"PR AUC {m['pr_auc']:.3f}")
        save(figure, "pr.png")
    if history_csv and os.path.exists(history_csv):
        written.append(training_curves(history_csv, os.path.join(out_dir, "training.png")))
    return written


def score_rows(
    predictor, rows: list[dict], batch_size: int = InferenceConfig.batch_size
) -> np.ndarray:
    """Scores of shard rows (``shard``, ``row``), batch by batch."""
    import h5py

    from ebscan.lightcurves.shards import shard_rows_inputs

    scores = np.empty(len(rows))
    files: dict[str, h5py.File] = {}

    def opened(path: str) -> h5py.File:
        if path not in files:
            files[path] = h5py.File(path, "r")
        return files[path]

    try:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            x = shard_rows_inputs(
                predictor.input_names, [(opened(row["shard"]), int(row["row"])) for row in batch]
            )
            scores[start : start + len(batch)] = predictor.predict_on_batch(x)[:, 1]
    finally:
        for handle in files.values():
            handle.close()
    return scores


def evaluate_model(
    model_path: str | os.PathLike,
    rows: list[dict],
    out_dir: str | os.PathLike,
    threshold: float = SurveyConfig.threshold,
    batch_size: int = InferenceConfig.batch_size,
) -> dict:
    """Score labelled shard rows (``ebscan.learn.training.read_training_set`` form) and report.

    Writes ``metrics.json`` (overall and per subtype: recall for EB subtypes, the
    false-positive rate for non-EB ones), ``scores.csv`` and PNG plots (confusion
    matrix, ROC, PR, and training curves when ``history.csv`` sits beside the model).
    """
    from ebscan.models import load_model
    from ebscan.survey.inference import KerasPredictor

    scores = score_rows(KerasPredictor(load_model(model_path)), rows, batch_size)
    labels = np.array([r["label"] for r in rows], dtype=int)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    per_class = {}
    for subtype in sorted({r.get("subtype", "") for r in rows}):
        mask = np.array([r.get("subtype", "") == subtype for r in rows])
        m = binary_metrics(labels[mask], scores[mask], threshold)
        per_class[subtype or "(none)"] = {
            "n": m["n"],
            "label": "EB"
            if labels[mask].all()
            else "non-EB"
            if not labels[mask].any()
            else "mixed",
            "fraction_above_threshold": float(np.mean(scores[mask] >= threshold)),
        }
    metrics = {
        "overall": binary_metrics(labels, scores, threshold),
        "per_class": per_class,
        "model": os.fspath(model_path),
    }
    with atomic_open(os.path.join(out_dir, "scores.csv"), newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tic", "sector", "segment", "label", "subtype", "score"])
        for row, score in zip(rows, scores, strict=True):
            writer.writerow(
                [
                    row["tic"],
                    row["sector"],
                    row.get("segment", ""),
                    row["label"],
                    row.get("subtype", ""),
                    f"{score:.6f}",
                ]
            )
    history = os.path.join(os.path.dirname(os.fspath(model_path)), "history.csv")
    metrics["plots"] = _plots(labels, scores, threshold, history, out_dir)
    with atomic_open(os.path.join(out_dir, "metrics.json")) as handle:
        json.dump(metrics, handle, indent=2)
    return metrics
