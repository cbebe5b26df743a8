"""The ONNX export scores like the Keras model, for every registered model."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

keras = pytest.importorskip("keras")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from ebscan.cli import main  # noqa: E402
from ebscan.models import MODELS, build  # noqa: E402
from ebscan.models.onnx.dft import dft_convolution  # noqa: E402
from ebscan.models.onnx.export import TILES, export_onnx, to_onnx  # noqa: E402
from ebscan.models.onnx.graph import FEATURES  # noqa: E402
from ebscan.survey.inference import OnnxPredictor, load_predictor, resolve_engine  # noqa: E402

# Small layers and short inputs keep each export under a second; the lengths still
# give odd pooled lengths (250 / 4 = 62), as at full size.
SMALL = {
    "lc_length": 1000,
    "gls_length": 250,
    "lc_filters": [8, 16, 32],
    "gls_filters": [8, 16],
    "lc_lstm_units": 16,
    "gls_lstm_units": 8,
    "dense_units": 16,
}


def _inputs(model, batch: int, seed: int) -> dict:
    """Sinusoids of random period, amplitude and offset plus noise: inputs that differ
    from one sample to the next by more than noise, so their scores differ too."""
    rng = np.random.default_rng(seed)
    x = {}
    for t in model.inputs:
        _, length, channels = t.shape
        phase = np.arange(length) / length * rng.uniform(1, 40, (batch, 1))
        wave = rng.uniform(0.1, 2, (batch, 1)) * np.sin(2 * np.pi * phase)
        noisy = wave + rng.uniform(-1, 1, (batch, 1))
        noisy = noisy[..., None] + 0.2 * rng.standard_normal((batch, length, channels))
        x[t.name] = noisy.astype(np.float32)
    return x


def _randomised(model, seed: int):
    """The model with normal weights and biases of variance 4 / fan-in.

    Keras initialises biases to zero and LSTM forget biases to one; random ones
    check that every bias reaches the right place.
    """
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.weights:
        fan_in = int(np.prod(w.shape[:-1])) if len(w.shape) > 1 else 1
        weights.append((rng.standard_normal(w.shape) * 2 / np.sqrt(fan_in)).astype(np.float32))
    model.set_weights(weights)
    return model


# Wide enough for convolutions by Fourier transform: 32 -> 64 channels at tile
# lengths 10 (25 tiles of the 1000 LC samples, pooled once) and 50 (5 tiles).
WIDE = {**SMALL, "lc_filters": [32, 64, 64], "gls_filters": [32, 64]}


def _assert_scores_like_keras(model, tiles):
    x = _inputs(model, batch=5, seed=4)
    expected = model.predict_on_batch(x)
    got = OnnxPredictor(to_onnx(model, tiles), threads=1).predict_on_batch(x)
    assert got.shape == expected.shape == (5, 2)
    np.testing.assert_allclose(got, expected, atol=2e-6, rtol=0)
    # The class probabilities saturate with random weights, so the fused features
    # (the classifier head's input: thousands of unsaturated values per segment) are
    # compared too.
    features = keras.Model(model.inputs, model.get_layer("dense").input)
    expected = features.predict_on_batch(x)
    got = OnnxPredictor(to_onnx(features, tiles), threads=1).predict_on_batch(x)
    tolerance = 1e-5 * np.abs(expected).max()
    assert expected.std(axis=0).mean() > 100 * tolerance  # segments differ
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=tolerance)


@pytest.mark.parametrize("tiles", [TILES, None])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_exports_and_scores_like_keras(name, tiles):
    _assert_scores_like_keras(_randomised(build(name, **SMALL), seed=3), tiles)


@pytest.mark.parametrize("tiles", [TILES, 5])
@pytest.mark.parametrize("name", ["calnet", "calnet_reference_cbam"])
def test_convolutions_by_fourier_transform_score_like_keras(name, tiles):
    model = _randomised(build(name, **WIDE), seed=21)
    # The LC branch's 1000 samples in tiles of 40 (pooled to 10: one sub-tile of 10
    # for conv2) or of 200 (pooled to 50: five sub-tiles of 10); 250 GLS samples
    # pooled to 62.5 per tile do not stay tiled.
    graph = to_onnx(model, tiles).graph
    dft = {i.name.rsplit("_", 1)[0]: tuple(i.dims) for i in graph.initializer if "dft" in i.name}
    assert dft == {"dft": (25, 17), "lc_conv2_kernel_dft": (25, 32, 64), "inverse_dft": (10, 25)}
    _assert_scores_like_keras(model, tiles)


@pytest.mark.parametrize(
    ("taps", "sub", "channels"), [(8, 10, (3, 2)), (8, 5, (2, 4)), (7, 12, (1, 1))]
)
def test_dft_convolution_matrices_convolve_a_tile(taps, sub, channels):
    # Against the direct sum: out[j, o] = sum_{s, c} kernel[s, c, o] * e[j + s, c].
    rng = np.random.default_rng(22)
    kernel = rng.standard_normal((taps, *channels))
    extended = rng.standard_normal((sub + taps - 1, channels[0]))
    expected = sum(extended[s : s + sub] @ kernel[s] for s in range(taps))
    forward, weights, inverse = dft_convolution(kernel, sub)
    length = sub + taps - 1
    real = 2 if length % 2 == 0 else 1
    assert forward.shape == (3 * (length // 2 + 1 - real) + real, length)
    products = np.einsum("pc,pco->po", forward @ extended, weights)
    np.testing.assert_allclose(inverse @ products, expected, atol=1e-12)


def test_full_size_calnet_matches_keras():
    model = build("calnet")
    x = _inputs(model, batch=3, seed=6)
    got = OnnxPredictor.from_keras(model, threads=2).predict_on_batch(x)
    np.testing.assert_allclose(got, model.predict_on_batch(x), atol=2e-6, rtol=0)
    # All but the first convolution of each branch by Fourier transform.
    dft_kernels = [i.name for i in to_onnx(model).graph.initializer if "kernel_dft" in i.name]
    assert sorted(name.split("_kernel")[0] for name in dft_kernels) == [
        "gls_conv2",
        "lc_conv2",
        "lc_conv3",
    ]


def test_batch_size_does_not_change_a_score():
    model = _randomised(build("calnet", **SMALL), seed=8)
    predictor = OnnxPredictor.from_keras(model, threads=2)
    x = _inputs(model, batch=7, seed=9)
    whole = predictor.predict_on_batch(x)
    one = predictor.predict_on_batch({k: v[3:4] for k, v in x.items()})
    np.testing.assert_allclose(one[0], whole[3], atol=1e-6, rtol=0)


@pytest.mark.parametrize(("threads", "micro_batch"), [(2, 3), (1, 3), (2, 11)])
def test_micro_batches_score_like_the_whole_batch(threads, micro_batch):
    model = _randomised(build("calnet", **SMALL), seed=14)
    x = _inputs(model, batch=11, seed=15)  # 11 = 3 + 3 + 3 + 2 segments
    predictor = OnnxPredictor.from_keras(model, threads=threads, micro_batch=micro_batch)
    got = predictor.predict_on_batch(x)
    np.testing.assert_allclose(got, model.predict_on_batch(x), atol=2e-6, rtol=0)


def test_head_input_is_named_features():
    """The classifier head (Dense, Dropout, Dense) is cut off at the fused features."""
    model = build("calnet", **SMALL)
    graph = onnx.shape_inference.infer_shapes(to_onnx(model)).graph
    (info,) = [v for v in graph.value_info if v.name == FEATURES]
    width = [d.dim_value for d in info.type.tensor_type.shape.dim][1:]
    assert width == [model.get_layer("dense").input.shape[-1]] == [240]
    features = keras.Model(model.inputs, model.get_layer("dense").input)
    assert FEATURES not in [o for node in to_onnx(features).graph.node for o in node.output]


def test_exported_graph_names_inputs_and_output():
    model = build("lc_only", **SMALL)
    graph = to_onnx(model).graph
    assert [i.name for i in graph.input] == ["lc"]
    dims = graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 1000, 1]
    assert [o.name for o in graph.output] == ["probabilities"]
    assert graph.output[0].type.tensor_type.shape.dim[1].dim_value == 2


def test_unsupported_layer_is_named():
    inputs = keras.Input((100, 1), name="lc")
    x = keras.layers.Conv1D(4, 3, strides=2, name="strided")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match=r"^cannot export strided: only stride 1, undilated"):
        to_onnx(model)
    inputs = keras.Input((100, 1), name="lc")
    model = keras.Model(inputs, keras.layers.GRU(2, name="gru")(inputs))
    with pytest.raises(ValueError, match=r"^cannot export layer gru \(GRU\) to ONNX$"):
        to_onnx(model)
    inputs = keras.Input((100, 1), name="lc")
    x = keras.layers.Conv1D(4, 3, padding="causal", name="causal")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match=r"^cannot export causal: 'causal' padding$"):
        to_onnx(model)
    inputs = keras.Input((1, 100), name="lc")
    x = keras.layers.MaxPooling1D(2, data_format="channels_first", name="pool_cf")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    with pytest.raises(ValueError, match=r"^cannot export pool_cf: only channels_last data$"):
        to_onnx(model)


def test_layers_without_bias_and_valid_padding():
    inputs = keras.Input((100, 1), name="lc")
    x = keras.layers.Conv1D(4, 5, padding="valid", use_bias=False, activation="tanh")(inputs)
    x = keras.layers.Dense(3, use_bias=False, activation="relu")(keras.layers.Flatten()(x))
    model = _randomised(keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x)), 12)
    x = _inputs(model, batch=4, seed=13)
    got = OnnxPredictor.from_keras(model, threads=1).predict_on_batch(x)
    np.testing.assert_allclose(got, model.predict_on_batch(x), atol=2e-6, rtol=0)


def test_engines_load_a_saved_model_alike(tmp_path):
    model = _randomised(build("calnet", **SMALL), seed=10)
    model.save(tmp_path / "model.keras")
    x = _inputs(model, batch=4, seed=11)
    keras_scores = load_predictor(tmp_path / "model.keras", "keras").predict_on_batch(x)
    onnx_scores = load_predictor(tmp_path / "model.keras", "onnxruntime", 1).predict_on_batch(x)
    np.testing.assert_allclose(onnx_scores, keras_scores, atol=2e-6, rtol=0)
    np.testing.assert_allclose(keras_scores, model.predict_on_batch(x), atol=0, rtol=0)


def test_exported_file_scores_without_tensorflow(tmp_path, capsys):
    model = _randomised(build("calnet", **SMALL), seed=16)
    model.save(tmp_path / "model.keras")
    export_onnx(tmp_path / "model.keras", tmp_path / "model.onnx")
    props = {p.key: p.value for p in onnx.load(tmp_path / "model.onnx").metadata_props}
    digest = hashlib.sha256((tmp_path / "model.keras").read_bytes()).hexdigest()
    assert props["source"] == "model.keras"
    assert props["source_sha256"] == digest
    x = _inputs(model, batch=9, seed=17)
    np.savez(tmp_path / "x.npz", **x)
    # A fresh interpreter, as an infer job: scores from the .onnx, never imports TensorFlow.
    script = f"""
import sys, numpy as np
from ebscan.survey.inference import load_predictor
predictor = load_predictor({str(tmp_path / "model.onnx")!r}, "onnxruntime", 2)
scores = predictor.predict_on_batch(dict(np.load({str(tmp_path / "x.npz")!r})))
np.save({str(tmp_path / "scores.npy")!r}, scores)
print(sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    scores = np.load(tmp_path / "scores.npy")
    np.testing.assert_allclose(scores, model.predict_on_batch(x), atol=2e-6, rtol=0)
    with pytest.raises(ValueError, match=r"model\.onnx: the keras engine needs the \.keras model"):
        load_predictor(tmp_path / "model.onnx", "keras")
    onnx_file = str(tmp_path / "model.onnx")
    with pytest.raises(SystemExit) as exited:
        main(["score", onnx_file, "--model", onnx_file, "--engine", "keras", "-o", "x.csv"])
    assert exited.value.code == 2
    assert "model.onnx: the keras engine needs the .keras model, not an ONNX file" in (
        capsys.readouterr().err
    )


def test_auto_engine_without_a_gpu_device_skips_tensorflow():
    script = (
        "import sys; from ebscan.survey.inference import resolve_engine; "
        "print(resolve_engine('auto'), 'tensorflow' in sys.modules)"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "-1"}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert run.stdout.split() == ["onnxruntime", "False"], run.stderr


def test_engine_choice():
    import tensorflow as tf

    gpu = bool(tf.config.list_physical_devices("GPU"))
    assert resolve_engine("auto") == ("keras" if gpu else "onnxruntime")
    assert resolve_engine("keras") == "keras"
    with pytest.raises(ValueError, match=r"^unknown inference engine 'tflite'; choose from"):
        resolve_engine("tflite")
