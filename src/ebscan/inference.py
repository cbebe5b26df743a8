"""Scoring shards with a trained model, one batch at a time.

Two engines score a model: ``keras`` (TensorFlow, on a GPU when one is visible) and
``onnxruntime`` (the model exported to ONNX, on the CPU: 1.4 to 4 times as fast as
TensorFlow there, bench/inference.py). They agree to float32 rounding (about 3e-7
in the score). ``auto`` takes ``keras`` when TensorFlow sees a GPU and
``onnxruntime`` otherwise.
"""

from __future__ import annotations

import csv
import os
from typing import TYPE_CHECKING

import h5py
import numpy as np

from ebscan.atomic import atomic_open
from ebscan.shards import _as_str

if TYPE_CHECKING:
    from ebscan.models.onnx_export import OnnxPredictor

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


ENGINES = ("auto", "keras", "onnxruntime")


def load_model(path: str | os.PathLike):
    """Load a ``.keras`` model saved by :func:`ebscan.training.train_model`."""
    import keras

    import ebscan.models.calnet  # noqa: F401  (registers the custom layers)

    return keras.models.load_model(path)


class KerasPredictor:
    """A Keras model behind the predictor interface: ``input_names``, ``predict_on_batch``."""

    def __init__(self, model) -> None:
        self.model = model
        self.input_names = [t.name for t in model.inputs]

    def predict_on_batch(self, x: dict) -> np.ndarray:
        """Class probabilities for a batch given as ``{input name: array}``."""
        return self.model.predict_on_batch({name: x[name] for name in self.input_names})


def resolve_engine(engine: str = "auto") -> str:
    """``keras`` or ``onnxruntime``: what ``engine`` means on this machine.

    Raises
    ------
    ValueError
        For an engine not in :data:`ENGINES`.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown inference engine {engine!r}; choose from {list(ENGINES)}")
    if engine != "auto":
        return engine
    import tensorflow as tf

    return "keras" if tf.config.list_physical_devices("GPU") else "onnxruntime"


def load_predictor(
    path: str | os.PathLike, engine: str = "auto", threads: int | None = None
) -> KerasPredictor | OnnxPredictor:
    """A predictor for the ``.keras`` model at ``path``, on ``engine``.

    Parameters
    ----------
    path
        A model saved by :func:`ebscan.training.train_model`.
    engine
        One of :data:`ENGINES`; see :func:`resolve_engine`.
    threads
        Cores for ONNX Runtime (default: all); TensorFlow's come from
        :func:`ebscan.models.limit_threads`.

    Returns
    -------
    KerasPredictor or ebscan.models.onnx_export.OnnxPredictor
        Both take ``{input name: (batch, length, 1) array}`` and return the class
        probabilities, (batch, n_classes).
    """
    engine = resolve_engine(engine)
    model = load_model(path)
    if engine == "keras":
        return KerasPredictor(model)
    from ebscan.models.onnx_export import OnnxPredictor

    return OnnxPredictor(model, threads)


def score_shard(
    predictor, shard: str | os.PathLike, output: str | os.PathLike, batch_size: int = 32
) -> int:
    """Write the EB score (softmax class 1) of every segment of ``shard`` as CSV, atomically.

    ``predictor`` comes from :func:`load_predictor`. Returns the number of segments
    scored.
    """
    names = predictor.input_names
    with h5py.File(shard, "r") as f, atomic_open(output, newline="") as handle:
        segments = f["segments"]
        n = segments.shape[0]
        writer = csv.writer(handle)
        writer.writerow(SCORE_FIELDS)
        for start in range(0, n, batch_size):
            rows = slice(start, min(start + batch_size, n))
            x = {name: f[name][rows][..., None] for name in names}
            scores = predictor.predict_on_batch(x)[:, 1]
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


def score_results(predictor, results) -> tuple[list[dict], list[dict]]:
    """Score preprocessed files: (one row per segment, one row per file).

    ``predictor`` comes from :func:`load_predictor`; ``results`` are
    :class:`ebscan.preprocess.FileResult` objects with GLS vectors. A rejected file
    gets a file row with its reason and no segment rows.
    """
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
        scores = predictor.predict_on_batch(x)[:, 1]
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
