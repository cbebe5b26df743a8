"""Scoring shards with a trained model, one batch at a time.

Two engines score a model: ``keras`` (TensorFlow, on a GPU when one is visible) and
``onnxruntime`` (the model exported to ONNX, on the CPU: 2 to 4 times as fast as
TensorFlow there, bench/inference.py). They agree to float32 rounding (about 3e-7
in the score). ``auto`` takes ``keras`` when TensorFlow sees a GPU and
``onnxruntime`` otherwise.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import os
from pathlib import Path

import numpy as np

from ebscan.atomic import atomic_open
from ebscan.config import InferenceConfig
from ebscan.lightcurves.fold import model_inputs
from ebscan.lightcurves.periodogram import calnet_period_grid
from ebscan.lightcurves.shards import current_segments, open_shard, shard_inputs, source_paths
from ebscan.models import load_model
from ebscan.models.onnx.export import to_onnx
from ebscan.models.onnx.graph import FEATURES, PROBABILITIES
from ebscan.paths import recorded

SCORE_FIELDS = (
    "tic",
    "sector",
    "segment",
    "t_start",
    "t_end",
    "cadence_minutes",
    "ra",
    "dec",
    "tmag",
    "score",
    "model",
    "source_file",
)


ENGINES = ("auto", "keras", "onnxruntime")

#: Segments per micro-batch of :class:`OnnxPredictor`'s feature extractor.
MICRO_BATCH = 4


def model_identity(path: str | os.PathLike) -> str:
    """Which model file scored: its name and the first 16 hex digits of its SHA-256.

    The pretrained model that ships with ebscan is named ``pretrained/<file>``; e.g.
    ``pretrained/model.onnx sha256:3f1c...``. Score tables record it on every row.
    """
    from ebscan.learn.pretrained import PRETRAINED

    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    name = f"pretrained/{path.name}" if path.resolve().parent == PRETRAINED.resolve() else path.name
    return f"{name} sha256:{digest}"


class KerasPredictor:
    """A Keras model behind the predictor interface: ``input_names``, ``predict_on_batch``,
    and ``model_id``, the :func:`model_identity` of its file (:func:`load_predictor` sets
    it).
    """

    model_id = ""

    def __init__(self, model) -> None:
        self.model = model
        self.input_names = [t.name for t in model.inputs]

    def predict_on_batch(self, x: dict) -> np.ndarray:
        """Class probabilities for a batch given as ``{input name: array}``."""
        return self.model.predict_on_batch({name: x[name] for name in self.input_names})


class OnnxPredictor:
    """ONNX Runtime sessions that score like ``keras.Model.predict_on_batch``.

    On ``threads`` cores, a batch is cut into micro-batches of ``micro_batch``
    segments, and each core runs the feature extractor on its own micro-batches
    with one thread. The classifier head then runs once on the whole batch with all
    threads. Small micro-batches keep each convolution's feature maps in the
    processor's cache, one thread per micro-batch saves the threads waiting on each
    other at every small operator, and one pass of the head reads its weights (32 MB
    for CALNet) once per batch rather than once per micro-batch: together 1.3 times
    as fast as the whole model in one session, at batch 32 or 256 on 2 cores. Memory
    for the feature maps is bounded by ``threads`` micro-batches, whatever the
    batch size. A batch of one micro-batch or less runs through the whole model
    with all threads at once.

    Parameters
    ----------
    exported
        An ONNX model from :func:`ebscan.models.onnx.export.to_onnx` (see
        :meth:`from_keras`), or the path of one written by
        :func:`ebscan.models.onnx.export.export_onnx`.
    threads
        Cores to use (default: all).
    micro_batch
        Segments per micro-batch of the feature extractor.

    Attributes
    ----------
    model_id : str
        The :func:`model_identity` of the file it was loaded from (set by
        :func:`load_predictor`).
    """

    model_id = ""

    def __init__(
        self, exported, threads: int | None = None, micro_batch: int = MICRO_BATCH
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        import onnx
        import onnx.shape_inference
        import onnx.utils

        if isinstance(exported, str | os.PathLike):
            exported = onnx.load(exported)
        self.input_names = [i.name for i in exported.graph.input]
        self.threads = threads or os.cpu_count() or 1
        self.micro_batch = micro_batch
        self._whole = self._session(exported, self.threads, spinning=True)
        if any(FEATURES in node.output for node in exported.graph.node):
            parts = onnx.utils.Extractor(onnx.shape_inference.infer_shapes(exported))
            extractor_graph = parts.extract_model(self.input_names, [FEATURES])
            head_graph = parts.extract_model([FEATURES], [PROBABILITIES])
            # Threads that spin after the head would take the cores from the
            # micro-batches of the next batch.
            self._head = self._session(head_graph, self.threads, spinning=False)
        else:
            extractor_graph, self._head = exported, None
        self._extractor = self._session(extractor_graph, 1, spinning=False)
        self._workers = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-micro-batch")

    @classmethod
    def from_keras(
        cls, model, threads: int | None = None, micro_batch: int = MICRO_BATCH
    ) -> OnnxPredictor:
        """The predictor of a Keras model from :func:`ebscan.models.build` (or loaded)."""
        return cls(to_onnx(model), threads, micro_batch)

    @staticmethod
    def _session(onnx_model, threads: int, spinning: bool):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", str(int(spinning)))
        return onnxruntime.InferenceSession(
            onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def predict_on_batch(self, x: dict) -> np.ndarray:
        """Class probabilities for a batch given as ``{input name: array}``."""
        feed = {name: np.ascontiguousarray(x[name], dtype=np.float32) for name in self.input_names}
        n = len(feed[self.input_names[0]])
        if n <= self.micro_batch:
            return self._whole.run(None, feed)[0]

        def extract(start: int) -> np.ndarray:
            part = {name: value[start : start + self.micro_batch] for name, value in feed.items()}
            return self._extractor.run(None, part)[0]

        starts = range(0, n, self.micro_batch)
        features = np.concatenate(list(self._workers.map(extract, starts)))
        if self._head is None:
            return features
        return self._head.run(None, {FEATURES: features})[0]


def _nvidia_gpu_visible() -> bool:
    """Whether the system shows this process an NVIDIA GPU (without asking TensorFlow)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", "unset").strip() in ("", "-1"):
        return False
    return bool(glob.glob("/dev/nvidia[0-9]*"))


def resolve_engine(engine: str = InferenceConfig.engine) -> str:
    """``keras`` or ``onnxruntime``: what ``engine`` means on this machine.

    ``auto`` is ``keras`` when TensorFlow sees a GPU. TensorFlow is only asked (and
    imported, 8 s of CPU) where the system shows an NVIDIA GPU device
    (``/dev/nvidiaN``, not hidden by ``CUDA_VISIBLE_DEVICES``); elsewhere ``auto``
    is ``onnxruntime``.

    Raises
    ------
    ValueError
        For an engine not in :data:`ENGINES`.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown inference engine {engine!r}; choose from {list(ENGINES)}")
    if engine != "auto":
        return engine
    if not _nvidia_gpu_visible():
        return "onnxruntime"
    import tensorflow as tf

    return "keras" if tf.config.list_physical_devices("GPU") else "onnxruntime"


def load_predictor(
    path: str | os.PathLike, engine: str = InferenceConfig.engine, threads: int | None = None
) -> KerasPredictor | OnnxPredictor:
    """A predictor for the model at ``path``, on ``engine``.

    Parameters
    ----------
    path
        A ``.keras`` model saved by :func:`ebscan.learn.training.train_model`, or its
        ONNX export (``.onnx``, :func:`ebscan.models.onnx.export.export_onnx`),
        which ONNX Runtime scores without importing TensorFlow.
    engine
        One of :data:`ENGINES`; see :func:`resolve_engine` (``auto`` with an ``.onnx``
        file is ``onnxruntime``).
    threads
        Cores to score on (default: all). For ``keras`` this sizes TensorFlow's
        thread pools (:func:`ebscan.models.limit_threads`), so it must come before
        any other TensorFlow work in the process.

    Returns
    -------
    KerasPredictor or OnnxPredictor
        Both take ``{input name: array}`` (:func:`ebscan.lightcurves.fold.model_inputs`:
        (batch, length, 1) for ``lc`` and ``gls``, (batch, 128, channels) for ``fold``)
        and return the class probabilities, (batch, n_classes); ``model_id`` names the
        file that scores (:func:`model_identity`).

    Raises
    ------
    ValueError
        For the ``keras`` engine with an ``.onnx`` model.
    """
    onnx_file = os.fspath(path).endswith(".onnx")
    # Only ONNX Runtime reads an ONNX file: ``auto`` means it, even beside a GPU.
    engine = "onnxruntime" if onnx_file and engine == "auto" else resolve_engine(engine)
    if engine == "keras":
        if onnx_file:
            raise ValueError(f"{path}: the keras engine needs the .keras model, not an ONNX file")
        if threads:
            from ebscan.models import limit_threads

            limit_threads(threads)
        predictor = KerasPredictor(load_model(path))
    elif onnx_file:
        predictor = OnnxPredictor(path, threads)
    else:
        predictor = OnnxPredictor.from_keras(load_model(path), threads)
    predictor.model_id = model_identity(path)
    return predictor


def score_shard(
    predictor,
    shard: str | os.PathLike,
    output: str | os.PathLike,
    batch_size: int = InferenceConfig.batch_size,
) -> int:
    """Write the EB score (softmax class 1) of every segment of ``shard`` as CSV, atomically.

    ``predictor`` comes from :func:`load_predictor`; every row records its ``model_id``
    (:func:`model_identity`) as ``model``, and the segment's cadence. Returns the number of segments
    scored. ``source_file`` is recorded relative to ``output`` (:mod:`ebscan.paths`).
    """
    names = predictor.input_names
    with open_shard(shard) as f, atomic_open(output, newline="") as handle:
        segments = f["segments"]
        n = segments.shape[0]
        writer = csv.writer(handle)
        writer.writerow(SCORE_FIELDS)
        for start in range(0, n, batch_size):
            rows = slice(start, min(start + batch_size, n))
            x = shard_inputs(names, f, rows)
            scores = predictor.predict_on_batch(x)[:, 1]
            table = current_segments(segments[rows])
            files = [recorded(p, output) for p in source_paths(f, table["source_file"])]
            for i, record in enumerate(table):
                writer.writerow(
                    [
                        int(record["tic"]),
                        int(record["sector"]),
                        int(record["segment"]),
                        f"{record['t_start']:.6f}",
                        f"{record['t_end']:.6f}",
                        record["cadence_minutes"],
                        record["ra"],
                        record["dec"],
                        record["tmag"],
                        f"{float(scores[i]):.6f}",
                        predictor.model_id,
                        files[i],
                    ]
                )
    return n


def score_results(predictor, results) -> tuple[list[dict], list[dict]]:
    """Score preprocessed files: (one row per segment, one row per file).

    ``predictor`` comes from :func:`load_predictor`; ``results`` are
    :class:`ebscan.lightcurves.preprocess.FileResult` objects with GLS vectors. A rejected file
    gets a file row with its reason and no segment rows. Both kinds of row carry the
    light curve's ``cadence_minutes`` and the ``model`` that scored it.
    """
    segment_rows, file_rows = [], []
    for result in results:
        if result.rejected:
            file_rows.append(
                {
                    "file": result.path,
                    "tic": result.tic,
                    "sector": result.sector,
                    "cadence_minutes": result.cadence_minutes,
                    "n_segments": 0,
                    "max_score": "",
                    "model": "",
                    "reason": result.reject_reason,
                }
            )
            continue
        x = model_inputs(
            predictor.input_names,
            result.lc,
            result.gls,
            calnet_period_grid(),
            np.array([s["t_end"] - s["t_start"] for s in result.segments]),
            np.full(len(result.segments), result.cadence_minutes / 1440),
        )
        scores = predictor.predict_on_batch(x)[:, 1]
        for segment, score in zip(result.segments, scores, strict=True):
            segment_rows.append(
                {
                    "file": result.path,
                    "tic": result.tic,
                    "sector": result.sector,
                    "cadence_minutes": result.cadence_minutes,
                    **segment,
                    "score": f"{float(score):.6f}",
                    "model": predictor.model_id,
                }
            )
        file_rows.append(
            {
                "file": result.path,
                "tic": result.tic,
                "sector": result.sector,
                "cadence_minutes": result.cadence_minutes,
                "n_segments": len(scores),
                "max_score": f"{float(scores.max()):.6f}",
                "model": predictor.model_id,
                "reason": "",
            }
        )
    return segment_rows, file_rows
