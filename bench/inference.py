"""CALNet inference throughput (segments per second) at several batch sizes.

Full-size CALNet (8.73 M parameters) on random inputs of the real shapes, after a
warm-up batch; the device is whatever TensorFlow finds (the CPU here; a GPU when run on
the lent accelerator machine). Target (issue 5): at least 400 segments/s on 2 CPU cores.

Run: .venv/bin/python bench/inference.py [--batches 1 32 256] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from ebscan.models import build

from results import record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 256])
    parser.add_argument("--seconds", type=float, default=10.0, help="time per batch size")
    parser.add_argument("--model", default="calnet")
    args = parser.parse_args()
    model = build(args.model)
    device = "GPU" if tf.config.list_physical_devices("GPU") else f"CPU ({os.cpu_count()} cores)"
    rng = np.random.default_rng(0)
    rows = []
    for batch in args.batches:
        x = {t.name: rng.random((batch, *t.shape[1:]), dtype=np.float32) for t in model.inputs}
        model.predict_on_batch(x)  # warm-up: graph tracing
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            model.predict_on_batch(x)
            n += batch
        rate = n / (time.perf_counter() - start)
        rows.append([args.model, device, str(batch), f"{rate:.0f}", f"{1e3 * batch / rate:.1f}"])
    record(
        f"Inference throughput, {args.model} on {device} (bench/inference.py)",
        ["model", "device", "batch", "segments/s", "ms/batch"],
        rows,
        f"{model.count_params():,} parameters; random inputs of shape (4000, 1) and "
        "(1000, 1); predict_on_batch after one warm-up batch.",
    )


if __name__ == "__main__":
    main()
