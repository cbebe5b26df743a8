"""Classifiers built from a config dict (astronet style): ``build(name, **hparams)``.

Each model module exposes ``DEFAULT_HPARAMS`` and ``build_model(hparams)``; the
registry resolves a name plus overrides into a full config, which training saves
next to the weights so that a model can always be rebuilt.
"""

from __future__ import annotations

from ebscan.models import calnet

MODELS = {
    "calnet": calnet,
}


def resolve_hparams(name: str, **overrides: object) -> dict:
    """Defaults of model ``name`` updated with ``overrides``; unknown keys are an error."""
    try:
        module = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}") from None
    unknown = sorted(set(overrides) - set(module.DEFAULT_HPARAMS))
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) for {name}: {', '.join(unknown)}")
    return {**module.DEFAULT_HPARAMS, **overrides}


def build(name: str, **hparams: object):
    """An uncompiled Keras model ``name`` with ``hparams`` over its defaults."""
    resolved = resolve_hparams(name, **hparams)
    return MODELS[name].build_model(resolved)


__all__ = ["MODELS", "build", "resolve_hparams"]
