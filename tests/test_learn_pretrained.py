"""The pretrained CALNet that ships in the package: files, provenance, scores on real stars."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from ebscan.cli import main
from ebscan.learn.pretrained import PRETRAINED, pretrained_description, pretrained_model

REPO = Path(__file__).resolve().parents[1]
#: Held-out test stars of the recipe (never trained or validated on).
EB_2MIN = "tess2018206045859-s0001-0000000261746657-0120-s_lc.fits"  # Prsa 2022, P = 1.32 d
QUIET_2MIN = "tess2018206045859-s0001-0000000029829699-0120-s_lc.fits"  # no EB catalogue lists it


def test_model_files_are_small_and_described():
    sizes = {p.name: p.stat().st_size for p in PRETRAINED.iterdir()}
    assert {"model.keras", "model.onnx", "model.json", "light_curves.csv"} <= set(sizes)
    assert sum(sizes.values()) < 40 * 2**20
    description = pretrained_description()
    assert description["model"] == "calnet_fold"
    assert {"slope", "offset"} <= set(description["calibration"])
    assert description["test_metrics"]["threshold"] == 0.9
    assert pretrained_model("keras").name == "model.keras"
    assert pretrained_model("onnxruntime").name == "model.onnx"


def test_light_curves_listed_with_their_roles():
    """The recipe's real light curves by TIC and sector; held-out stars are test stars."""
    from ebscan.learn.recipe import role_of

    with open(PRETRAINED / "light_curves.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["role"] for r in rows} == {"train", "validation", "test"}
    recipe = pretrained_description()["recipe"]
    two_minute_ebs = {r["tic"] for r in rows if r["class"] == "EB" and r["cadence"] == "2.0"}
    for row in rows:
        expected = "test" if row["tic"] in two_minute_ebs else role_of(
            int(row["tic"]), recipe["seed"], recipe["test_fraction"], recipe["validation_fraction"]
        )  # fmt: skip
        assert row["role"] == expected, row
    test_files = {r["tic"] for r in rows if r["role"] == "test"}
    assert {"261746657", "29829699"} <= test_files


@pytest.mark.shared
def test_score_without_a_model_uses_the_pretrained_one(spoc_dir, tmp_path):
    output = tmp_path / "scores.csv"
    files = [str(spoc_dir / EB_2MIN), str(spoc_dir / QUIET_2MIN)]
    assert main(["score", *files, "-o", str(output)]) == 0
    with open(tmp_path / "scores.files.csv", newline="") as handle:
        best = {int(r["tic"]): float(r["max_score"]) for r in csv.DictReader(handle)}
    assert best[261746657] >= 0.9 > best[29829699]


@pytest.mark.shared
def test_onnx_and_keras_files_are_the_same_model(spoc_dir):
    from ebscan.lightcurves.fold import model_inputs
    from ebscan.lightcurves.periodogram import calnet_period_grid
    from ebscan.lightcurves.preprocess import preprocess_file
    from ebscan.survey.inference import load_predictor

    result = preprocess_file(spoc_dir / EB_2MIN)
    onnx_predictor = load_predictor(pretrained_model("onnxruntime"), "onnxruntime")
    keras_predictor = load_predictor(pretrained_model("keras"), "keras")
    assert onnx_predictor.input_names == keras_predictor.input_names == ["lc", "gls", "fold"]
    spans = np.array([s["t_end"] - s["t_start"] for s in result.segments])
    x = model_inputs(
        onnx_predictor.input_names, result.lc, result.gls, calnet_period_grid(), spans,
        np.full(spans.size, result.cadence_minutes / 1440),
    )  # fmt: skip
    onnx = onnx_predictor.predict_on_batch(x)
    np.testing.assert_allclose(onnx, keras_predictor.predict_on_batch(x), atol=2e-6)


def test_an_onnx_file_scores_with_onnxruntime_on_a_gpu_machine_too(monkeypatch):
    """``auto`` picks Keras where TensorFlow sees a GPU; an ONNX file still loads."""
    from ebscan.survey import inference

    monkeypatch.setattr(inference, "resolve_engine", lambda engine: "keras")
    predictor = inference.load_predictor(pretrained_model("onnxruntime"))
    assert isinstance(predictor, inference.OnnxPredictor)
    with pytest.raises(ValueError, match=r"the keras engine needs the \.keras model"):
        inference.load_predictor(pretrained_model("onnxruntime"), "keras")


def test_metrics_recorded_per_cadence_and_class():
    metrics = json.loads((REPO / "docs" / "model-card" / "metrics.json").read_text())
    assert metrics == pretrained_description()["test_metrics"]
    for cadence in ("2-min", "30-min"):
        per_class = metrics["per_light_curve"][cadence]["per_class"]
        assert per_class["EB"]["light_curves"] > 0
        assert all(0 <= c["fraction_above"] <= 1 for c in per_class.values())


def test_metrics_measured_with_the_survey_resampling():
    """The held-out metrics hold for what a survey feeds the model: re-measure them
    (``make model``) when the default resampling changes."""
    from ebscan.config import PreprocessConfig
    from ebscan.learn.recipe import RecipeConfig

    description = pretrained_description()
    assert description["test_metrics"]["test_spline_mode"] == PreprocessConfig().spline_mode
    recipe = RecipeConfig.from_yaml(REPO / "config" / "pretrained.yaml")
    assert description["recipe"]["training_spline_mode"] == recipe.training_spline_mode
