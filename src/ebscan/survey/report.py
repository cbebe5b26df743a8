"""A self-contained HTML report of a survey run."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from collections.abc import Iterable, Mapping

from ebscan.atomic import atomic_open


def sector_summary(product: str, sector: int, files: Mapping) -> dict:
    """Counts of one product's sector: manifest, downloads, shards, rejects, candidates.

    ``files`` holds the sector's :data:`ebscan.survey.audit.SECTOR_FILES`; the counts
    are the audit's (:func:`ebscan.survey.audit.audit_sector`), with the segments at
    or above the threshold.
    """
    from ebscan.survey.audit import audit_sector

    audit = audit_sector(product, sector, files)
    with open(files["sector_scores"], newline="") as handle:
        flagged = sum(int(r["candidate"]) for r in csv.DictReader(handle))
    return {
        "product": product,
        "sector": sector,
        "light curves": audit["manifest"],
        "downloaded": audit["downloaded"],
        "failed downloads": audit["failed"],
        "rejected": audit["rejected"],
        "segments": audit["segments"],
        "segments above threshold": flagged,
    }


def _histogram_png(scores: list[float], threshold: float) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3.2), dpi=100)
    axes.hist(scores, bins=50, range=(0, 1), color="#3b6ea5")
    axes.axvline(threshold, color="#c0392b", linestyle="--", label=f"threshold {threshold}")
    axes.set_yscale("log")
    axes.set_xlabel("EB score")
    axes.set_ylabel("segments")
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _placeholder_png(text: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(6, 1))
    figure.text(0.5, 0.5, text, ha="center", va="center")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _table(rows: list[dict], fields: list[str]) -> str:
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(f, '')))}</td>" for f in fields) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(
    sector_summaries: list[dict],
    segment_csvs: Iterable[str | os.PathLike],
    candidates_csv: str | os.PathLike,
    model_json: str | os.PathLike,
    threshold: float,
    output: str | os.PathLike,
    histogram_output: str | os.PathLike,
    training_output: str | os.PathLike,
    top: int = 50,
) -> None:
    """Write the run report: per-sector accounting, model metrics, scores, top candidates.

    Also writes the score histogram and the training curves as PNG files of their own
    (``snakemake --report`` shows them).
    """
    from ebscan.learn.evaluation import training_curves

    scores = []
    for path in segment_csvs:
        with open(path, newline="") as handle:
            scores += [float(r["score"]) for r in csv.DictReader(handle)]
    with open(candidates_csv, newline="") as handle:
        candidates = list(csv.DictReader(handle))
    with open(model_json) as handle:
        model = json.load(handle)
    metrics = {k: f"{v:.4f}" for k, v in model["final_metrics"].items()}
    training = model["training"]
    png = _histogram_png(scores, threshold)
    with atomic_open(histogram_output, "wb") as handle:
        handle.write(png)
    histogram = base64.b64encode(png).decode()
    history = os.path.join(os.path.dirname(os.fspath(model_json)), "history.csv")
    if os.path.exists(history):
        training_curves(history, training_output)
    else:  # a model trained elsewhere (training.model_path) may come without its history
        with atomic_open(training_output, "wb") as handle:
            handle.write(_placeholder_png("no training history beside the model"))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>ebscan survey report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>",
        "<h1>ebscan survey report</h1>",
        f"<p>{len(scores)} segments scored; {len(candidates)} stars with a segment at or "
        f"above the threshold {threshold}.</p>",
        "<h2>Sectors</h2>",
        _table(sector_summaries, list(sector_summaries[0]) if sector_summaries else []),
        "<h2>Model</h2>",
        f"<p>{html.escape(model['model'])}: trained on {training['n_train']} segments, "
        f"validated on {training['n_validation']} (split by star).</p>",
        _table([metrics], list(metrics)),
        "<h2>Scores</h2>",
        f"<img alt='score histogram' src='data:image/png;base64,{histogram}'>",
        f"<h2>Top {min(top, len(candidates))} candidates</h2>",
        _table(
            candidates[:top],
            [
                "tic",
                "max_score",
                "mean_score",
                "n_segments_above",
                "sectors_by_product",
                "sectors_above",
                "tmag",
            ],
        ),
        "</body></html>",
    ]
    with atomic_open(output) as handle:
        handle.write("\n".join(parts))
