"""CALNet inference throughput (segments per second) per engine and batch size.

Full-size CALNet (8.73 M parameters) on random inputs of the real shapes. For each
batch size the engines take turns, a few seconds each, several rounds, and the
median rate is reported: the machines this runs on share their cores, and turns
spread the noise over both engines alike. ``keras`` runs on whatever TensorFlow
finds (the CPU here; a GPU when run on the lent accelerator machine);
``onnxruntime`` runs the ONNX export on the CPU, with sequences tiled as it is
by default (``ebscan.models.onnx.export.TILES``) and, for comparison, with other
tile counts (0: untiled). Target (issue 5): at least 400 segments/s on 2 CPU cores.

Run: .venv/bin/python bench/inference.py [--batches 1 32 256] [--rounds 5] [--seconds 2]
     [--tiles 25 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from ebscan.models import build
from ebscan.models.onnx.export import TILES, to_onnx
from ebscan.survey.inference import MICRO_BATCH, KerasPredictor, OnnxPredictor

from results import record


def rate(predictor, x: dict, batch: int, seconds: float) -> float:
    """Segments per second over ``seconds`` of back-to-back batches."""
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        predictor.predict_on_batch(x)
        n += batch
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 256])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="per turn")
    parser.add_argument("--model", default="calnet")
    parser.add_argument(
        "--tiles", type=int, nargs="+", default=[TILES, 0], help="tile counts (0: untiled)"
    )
    args = parser.parse_args()
    model = build(args.model)
    cores = f"{os.cpu_count()} cores"
    gpu = bool(tf.config.list_physical_devices("GPU"))
    engines = {"keras": (KerasPredictor(model), "GPU" if gpu else f"CPU ({cores})")}
    for tiles in args.tiles:
        layout = f"{tiles} tiles" if tiles else "untiled"
        predictor = OnnxPredictor(to_onnx(model, tiles or None))
        engines[f"onnxruntime ({layout})"] = (predictor, f"CPU ({cores})")
    rng = np.random.default_rng(0)
    rows = []
    for batch in args.batches:
        x = {t.name: rng.random((batch, *t.shape[1:]), dtype=np.float32) for t in model.inputs}
        rates: dict[str, list[float]] = {name: [] for name in engines}
        for predictor, _ in engines.values():
            predictor.predict_on_batch(x)  # warm-up: graph tracing, memory plans
        for _ in range(args.rounds):
            for name, (predictor, _) in engines.items():
                rates[name].append(rate(predictor, x, batch, args.seconds))
        for name, (_, device) in engines.items():
            median = statistics.median(rates[name])
            low, high = min(rates[name]), max(rates[name])
            rows.append(
                [
                    args.model,
                    name,
                    device,
                    str(batch),
                    f"{median:.0f}",
                    f"{low:.0f}-{high:.0f}",
                    f"{1e3 * batch / median:.1f}",
                ]
            )
            print(" | ".join(rows[-1]), flush=True)
    shapes = " and ".join(str(tuple(t.shape[1:])) for t in model.inputs)
    record(
        f"Inference throughput, {args.model} (bench/inference.py)",
        ["model", "engine", "device", "batch", "segments/s", "range", "ms/batch"],
        rows,
        f"{model.count_params():,} parameters; random inputs of shape {shapes}; median "
        f"of {args.rounds} turns of {args.seconds:g} s per engine, "
        "the engines alternating, after one warm-up batch. Both engines use all cores; "
        "onnxruntime runs the feature extractor on micro-batches of "
        f"{MICRO_BATCH}, one core each, and the classifier head "
        "on the whole batch (batches of one micro-batch or less run whole, on all cores). "
        f"Its default export cuts sequences into {TILES} tiles (convolutions by Fourier "
        "transform); the untiled rows are the export without tiles. "
        "Target (issue 5): 400 segments/s on 2 cores.",
    )


if __name__ == "__main__":
    main()
