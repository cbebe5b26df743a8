"""Scoring shards with a trained model, one batch at a time."""

from __future__ import annotations

import csv
import os

import h5py

from ebscan.atomic import atomic_open
from ebscan.shards import _as_str

SCORE_FIELDS = (
    "tic",
    "sector",
    "segment",
    "t_start",
    "t_end",
    "ra",
    "dec",
    "tmag",
    "score",
    "source_file",
)


def load_model(path: str | os.PathLike):
    """Load a ``.keras`` model saved by :func:`ebscan.training.train_model`."""
    import keras

    import ebscan.models.calnet  # noqa: F401  (registers the custom layers)

    return keras.models.load_model(path)


def score_shard(
    model, shard: str | os.PathLike, output: str | os.PathLike, batch_size: int = 256
) -> int:
    """Write the EB score (softmax class 1) of every segment of ``shard`` as CSV, atomically.

    Returns the number of segments scored.
    """
    names = [t.name for t in model.inputs]
    with h5py.File(shard, "r") as f, atomic_open(output, newline="") as handle:
        segments = f["segments"]
        n = segments.shape[0]
        writer = csv.writer(handle)
        writer.writerow(SCORE_FIELDS)
        for start in range(0, n, batch_size):
            rows = slice(start, min(start + batch_size, n))
            x = {name: f[name][rows][..., None] for name in names}
            scores = model.predict_on_batch(x)[:, 1]
            table = segments[rows]
            files = _as_str(table["source_file"])
            for i, record in enumerate(table):
                writer.writerow(
                    [
                        int(record["tic"]),
                        int(record["sector"]),
                        int(record["segment"]),
                        f"{record['t_start']:.6f}",
                        f"{record['t_end']:.6f}",
                        record["ra"],
                        record["dec"],
                        record["tmag"],
                        f"{float(scores[i]):.6f}",
                        files[i],
                    ]
                )
    return n


def score_results(model, results) -> tuple[list[dict], list[dict]]:
    """Score preprocessed files: (one row per segment, one row per file).

    ``results`` are :class:`ebscan.preprocess.FileResult` objects with GLS vectors.
    A rejected file gets a file row with its reason and no segment rows.
    """
    names = [t.name for t in model.inputs]
    segment_rows, file_rows = [], []
    for result in results:
        if result.rejected:
            file_rows.append(
                {
                    "file": result.path,
                    "tic": result.tic,
                    "sector": result.sector,
                    "n_segments": 0,
                    "max_score": "",
                    "reason": result.reject_reason,
                }
            )
            continue
        x = {"lc": result.lc[..., None], "gls": result.gls[..., None]}
        scores = model.predict_on_batch({name: x[name] for name in names})[:, 1]
        for segment, score in zip(result.segments, scores, strict=True):
            segment_rows.append(
                {
                    "file": result.path,
                    "tic": result.tic,
                    "sector": result.sector,
                    **segment,
                    "score": f"{float(score):.6f}",
                }
            )
        file_rows.append(
            {
                "file": result.path,
                "tic": result.tic,
                "sector": result.sector,
                "n_segments": len(scores),
                "max_score": f"{float(scores.max()):.6f}",
                "reason": "",
            }
        )
    return segment_rows, file_rows
