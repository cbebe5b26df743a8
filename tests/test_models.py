"""CALNet shapes and a small training run that learns."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

keras = pytest.importorskip("keras")

from ebscan.models import build, resolve_hparams  # noqa: E402


def test_calnet_shapes_and_parameter_count():
    model = build("calnet")
    layer = {each.name: each for each in model.layers}
    assert layer["lc_flatten"].output.shape == (None, 7936)
    assert layer["gls_flatten"].output.shape == (None, 3968)
    assert layer["gls_tiled"].output.shape == (None, 7936)
    assert model.output.shape == (None, 2)
    assert model.count_params() == pytest.approx(8.73e6, rel=0.005)
    assert layer["dense"].count_params() == 7936 * 1024 + 1024


def test_unknown_hyperparameter_is_named():
    with pytest.raises(ValueError, match="unknown hyperparameter\\(s\\) for calnet: lstm_units"):
        resolve_hparams("calnet", lstm_units=3)
    with pytest.raises(ValueError, match="unknown model 'astronet'"):
        build("astronet")
