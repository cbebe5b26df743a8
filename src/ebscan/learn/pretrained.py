"""The pretrained CALNet that ships with ebscan.

:func:`pretrained_model` gives the path of the model files in the package
(``ebscan/models/pretrained``): ``model.onnx`` for ONNX Runtime (no TensorFlow needed),
``model.keras`` for TensorFlow. ``model.json`` beside them records the architecture,
the training, the calibration and the held-out metrics; ``light_curves.csv`` lists the
real light curves of the recipe (:mod:`ebscan.learn.recipe`) by TIC and sector with their role
(train, validation, test). ``docs/model-card.md`` says how well it works and where it
fails.
"""

from __future__ import annotations

import json
from pathlib import Path

#: Where the pretrained model's files live in the package.
PRETRAINED = Path(__file__).parents[1] / "models" / "pretrained"


def pretrained_model(engine: str = "onnxruntime") -> Path:
    """Path of the pretrained model for an inference engine.

    Parameters
    ----------
    engine : {'onnxruntime', 'keras'}
        ``onnxruntime`` gives ``model.onnx``, ``keras`` gives ``model.keras``.

    Raises
    ------
    FileNotFoundError
        If the package was installed without its model files.
    """
    path = PRETRAINED / ("model.keras" if engine == "keras" else "model.onnx")
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: the pretrained model is missing from this installation; "
            "reinstall ebscan or rebuild it with `make model`"
        )
    return path


def pretrained_description() -> dict:
    """The pretrained model's ``model.json``: architecture, training, calibration, metrics."""
    return json.loads((PRETRAINED / "model.json").read_text())


def resampling_warning(spline_mode: str) -> str | None:
    """Why the pretrained model's scores of vectors resampled with ``spline_mode`` may
    not mean what its model card says; None when they were measured so.

    The held-out metrics hold for one resampling (``test_spline_mode`` in
    ``model.json``): with another, the 2-minute vectors differ (a config from before
    ``binned`` became the default still names ``adaptive``, which finds fewer EBs).

    Examples
    --------
    >>> from ebscan.learn.pretrained import resampling_warning
    >>> resampling_warning("binned") is None
    True
    """
    measured = pretrained_description()["test_metrics"]["test_spline_mode"]
    if spline_mode == measured:
        return None
    return (
        f"preprocess.spline_mode is {spline_mode!r}, but the pretrained model was measured "
        f"on {measured!r} vectors (docs/model-card.md): its scores of these may not mean "
        f"what the model card says; set spline_mode: {measured} to score as it was tested"
    )
