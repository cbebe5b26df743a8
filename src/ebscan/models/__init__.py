"""Classifiers built from a config dict (astronet style): ``build(name, **hparams)``.

Every name is the CALNet architecture with a preset of hyperparameters: the paper's
model, its baseline CNN, the ablations of its Table 5, the fusion variants of its
Table 4, and the CBAM of the reference code. The registry resolves a name plus
overrides into a full config, which training saves next to the weights so that a
model can always be rebuilt.

The registry itself imports nothing heavy (the workflow and the ONNX Runtime engine
read it without TensorFlow); a model's module, which imports Keras, is imported when
the model is resolved or built.
"""

from __future__ import annotations

import os
from importlib import import_module
from types import ModuleType

from ebscan.lightcurves.fold import FOLD_INPUT

_BASIC = {"cbam": False, "lstm": False}

#: name -> (module of :mod:`ebscan.models`, preset hyperparameters over its defaults)
MODELS: dict[str, tuple[str, dict]] = {
    "calnet": ("calnet", {}),
    "calnet_reference_cbam": ("calnet", {"cbam_variant": "reference-code"}),
    # Table 5 of Shan et al. 2025 (inputs x CBAM x LSTM).
    "basic_cnn": ("calnet", {"use_gls": False, **_BASIC}),
    "gls_cnn": ("calnet", {"use_lc": False, **_BASIC}),
    "lc_only": ("calnet", {"use_gls": False}),
    "gls_only": ("calnet", {"use_lc": False}),
    "lc_gls": ("calnet", _BASIC),
    "lc_gls_cbam": ("calnet", {"lstm": False}),
    "lc_gls_lstm": ("calnet", {"cbam": False}),
    # Table 4: fusion of the two branches.
    "calnet_concatenate": ("calnet", {"fusion": "concatenate"}),
    "calnet_multiply": ("calnet", {"fusion": "multiply"}),
    # Not in the paper: CALNet with the folded view (ebscan.lightcurves.fold).
    "calnet_fold": ("calnet", {"use_fold": True}),
}


def _module(name: str) -> ModuleType:
    """The module that builds model ``name`` (imports Keras)."""
    return import_module(f"ebscan.models.{MODELS[name][0]}")


def resolve_hparams(name: str, **overrides: object) -> dict:
    """Defaults and preset of model ``name`` updated with ``overrides``.

    Raises
    ------
    ValueError
        For an unknown model name or hyperparameter.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    module, preset = _module(name), MODELS[name][1]
    unknown = sorted(set(overrides) - set(module.DEFAULT_HPARAMS))
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) for {name}: {', '.join(unknown)}")
    return {**module.DEFAULT_HPARAMS, **preset, **overrides}


def build(name: str, **hparams: object):
    """An uncompiled Keras model ``name`` with ``hparams`` over its defaults and preset."""
    resolved = resolve_hparams(name, **hparams)
    return _module(name).build_model({**resolved, "name": name})


def input_names(hparams: dict) -> list[str]:
    """The inputs of a model with these hyperparameters, in order.

    ``lc`` and ``gls`` are shard datasets; ``fold`` is made from them
    (:func:`ebscan.lightcurves.fold.model_inputs`). Configs saved before ``use_fold``
    existed have no fold.
    """
    flags = (("lc", "use_lc"), ("gls", "use_gls"), (FOLD_INPUT, "use_fold"))
    return [key for key, flag in flags if hparams.get(flag, False)]


def load_model(path: str | os.PathLike):
    """Load a ``.keras`` model saved by :func:`ebscan.learn.training.train_model`."""
    import keras

    import ebscan.models.calnet  # noqa: F401  (registers the custom layers)

    return keras.models.load_model(path)


__all__ = ["MODELS", "build", "input_names", "load_model", "resolve_hparams"]


def limit_threads(threads: int) -> None:
    """Run TensorFlow's ops on at most ``threads`` cores.

    TensorFlow sizes its thread pools to the whole machine, which on a shared cluster
    node oversubscribes the cores a job was given. Call before the first TensorFlow op.
    The thread count is part of what a result depends on: reductions split their work
    by thread, so scores and trained weights are bit-identical between runs with the
    same count and agree to rounding (about 1e-7) between counts.
    """
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
