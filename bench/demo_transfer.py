"""How a model trained on simulated light curves only does on real ones: the demo's.

``make demo`` trains a small CALNet on its simulated sectors (the physical EB model, a
SPOC-like noise model: ``docs/simulation.md``). This scores the real light curves of
the pretrained model's held-out test stars (``../shared``; the stars listed as ``test``
in ``src/ebscan/models/pretrained/light_curves.csv``) with that model, each light curve
by its best segment, and records per cadence and class the fraction at or above 0.9
beside the pretrained model's, in bench/RESULTS.md.

Run (after ``make demo``): .venv/bin/python bench/demo_transfer.py [--model MODEL]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ebscan.config import PreprocessConfig
from ebscan.learn.pretrained import pretrained_description, pretrained_model
from ebscan.learn.recipe import RecipeConfig, real_light_curves, test_metrics
from ebscan.lightcurves.preprocess import preprocess_lightcurve
from ebscan.survey.inference import load_predictor, score_results

from results import record

REPO = Path(__file__).resolve().parents[1]


def scored_light_curves(model: str, rows: list[dict]) -> list[dict]:
    """One row per light curve: its best segment's score, class, cadence and role."""
    from ebscan.lightcurves.io import read_lightcurve

    predictor = load_predictor(model)
    # One configuration for every cadence: segments are as long in days (as the recipe's).
    config = PreprocessConfig()
    results = (preprocess_lightcurve(read_lightcurve(r["path"]), config) for r in rows)
    _, files = score_results(predictor, results)
    return [
        {"cadence": f"{r['cadence']:g}", "class": r["class"], "role": "test",
         "score": float(f["max_score"] or -1), "snr": 0.0}
        for r, f in zip(rows, files, strict=True)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="results/demo/model/model.onnx")
    parser.add_argument("--config", default=str(REPO / "config" / "pretrained.yaml"))
    args = parser.parse_args()
    config = RecipeConfig.from_yaml(args.config)
    test = [r for r in real_light_curves(config) if r["role"] == "test"]
    demo = test_metrics(scored_light_curves(args.model, test), config.threshold)
    shipped = pretrained_description()["test_metrics"]["per_light_curve"]
    rows = []
    for cadence, result in demo.items():
        for name, m in result["per_class"].items():
            ours = shipped[cadence]["per_class"][name]
            rows.append(
                [cadence, name, str(m["light_curves"]),
                 f"{m['above_threshold']} ({m['fraction_above']:.2f})",
                 f"{ours['above_threshold']} ({ours['fraction_above']:.2f})"]
            )  # fmt: skip
    record(
        "The demo's model on real light curves (bench/demo_transfer.py)",
        ["cadence", "class", "light curves", "demo model >= 0.9", "pretrained >= 0.9"],
        rows,
        f"{args.model}: the small CALNet `make demo` trains on its two simulated sectors "
        "(150 light curves each; nothing real), scoring the real light curves of the "
        f"pretrained model's test stars ({pretrained_model()} for comparison), each by its "
        "best segment; 30-minute segments of at least 2.8 days, as the pretrained "
        "model's recipe preprocesses them.",
    )


if __name__ == "__main__":
    main()
