"""CALNet (Shan et al. 2025): CNN + CBAM attention + LSTM on the LC and GLS vectors.

Shapes with the defaults (see ../shared/REFERENCE.md):

- LC branch: (4000, 1) -> 3 x [Conv1D(k=8, same, ReLU) -> CBAM -> MaxPool(4)] with 64,
  128, 256 filters -> (62, 256) -> LSTM(128, sequences) -> Flatten 7936.
- GLS branch: (1000, 1) -> 2 blocks with 32, 64 filters -> (62, 64) -> LSTM(64) ->
  Flatten 3968 -> RepeatVector(2) -> Flatten 7936.
- Fusion Add -> Dense(1024, sigmoid) -> Dropout(0.5) -> Dense(2, softmax); 8.73 M
  parameters.

``use_fold`` adds a third branch, not in the paper: the folded view of
:mod:`ebscan.lightcurves.fold` (128 phase bins, 4 channels) through
``fold_filters`` convolutions with max pooling by 2 after all but the last, whose
maps are summed up as their global maximum and mean and a 4-fold max pooling; those
features are concatenated to the fused LC and GLS features before the dense layer.

CBAM is the standard one (Woo et al. 2018): channel attention from a shared MLP on
average- and max-pooled features, then spatial attention from a 7-wide convolution
of the channel mean and max.
"""

from __future__ import annotations

import keras
from keras import layers

from ebscan.lightcurves.fold import FOLD_BINS, FOLD_CHANNELS, FOLD_INPUT

DEFAULT_HPARAMS: dict = {
    "lc_length": 4000,
    "gls_length": 1000,
    "lc_filters": [64, 128, 256],
    "gls_filters": [32, 64],
    "kernel_size": 8,
    "pool_size": 4,
    "use_lc": True,
    "use_gls": True,
    "cbam": True,
    "cbam_reduction": 8,
    "cbam_kernel_size": 7,
    # "standard" (Woo et al. 2018, as the paper's figure) or "reference-code": the
    # Keras code of Shan et al., whose shared MLP ends in a ReLU and whose "spatial"
    # attention pools over time, giving one scalar gate per sample (kernel 8).
    "cbam_variant": "standard",
    "lstm": True,
    "lc_lstm_units": 128,
    "gls_lstm_units": 64,
    "fusion": "add",
    "dense_units": 1024,
    "dropout": 0.5,
    "n_classes": 2,
    "use_fold": False,
    "fold_filters": [16, 32, 32],
    "fold_kernel_size": 5,
}


@keras.saving.register_keras_serializable(package="ebscan")
class ChannelPool(layers.Layer):
    """Mean and max over channels, stacked: (length, C) -> (length, 2)."""

    def call(self, x):
        return keras.ops.concatenate(
            [keras.ops.mean(x, axis=-1, keepdims=True), keras.ops.max(x, axis=-1, keepdims=True)],
            axis=-1,
        )


@keras.saving.register_keras_serializable(package="ebscan")
class TimePool(layers.Layer):
    """Mean and max over time, side by side: (length, C) -> (1, 2C) (reference code)."""

    def call(self, x):
        return keras.ops.concatenate(
            [keras.ops.mean(x, axis=1, keepdims=True), keras.ops.max(x, axis=1, keepdims=True)],
            axis=-1,
        )


def cbam(x, reduction: int, kernel_size: int, name: str, variant: str = "standard"):
    """Channel then spatial attention over a (length, channels) feature map."""
    if variant not in ("standard", "reference-code"):
        raise ValueError(f"cbam_variant must be 'standard' or 'reference-code', not {variant!r}")
    reference = variant == "reference-code"
    channels = x.shape[-1]
    hidden = layers.Dense(max(channels // reduction, 1), activation="relu", name=f"{name}_mlp1")
    out = layers.Dense(channels, activation="relu" if reference else None, name=f"{name}_mlp2")
    average = out(hidden(layers.GlobalAveragePooling1D(name=f"{name}_gap")(x)))
    maximum = out(hidden(layers.GlobalMaxPooling1D(name=f"{name}_gmp")(x)))
    gate = layers.Activation("sigmoid", name=f"{name}_channel_gate")(
        layers.Add(name=f"{name}_channel_sum")([average, maximum])
    )
    x = layers.Multiply(name=f"{name}_channel")([x, layers.Reshape((1, channels))(gate)])
    pooled = (TimePool if reference else ChannelPool)(name=f"{name}_pool")(x)
    spatial = layers.Conv1D(
        1,
        8 if reference else kernel_size,
        padding="same",
        activation="sigmoid",
        name=f"{name}_spatial_gate",
    )(pooled)
    return layers.Multiply(name=f"{name}_spatial")([x, spatial])


def _branch(inputs, filters, hp: dict, lstm_units: int, name: str):
    x = inputs
    for i, n in enumerate(filters):
        x = layers.Conv1D(
            n, hp["kernel_size"], padding="same", activation="relu", name=f"{name}_conv{i + 1}"
        )(x)
        if hp["cbam"]:
            x = cbam(
                x,
                hp["cbam_reduction"],
                hp["cbam_kernel_size"],
                f"{name}_cbam{i + 1}",
                hp["cbam_variant"],
            )
        x = layers.MaxPooling1D(hp["pool_size"], name=f"{name}_pool{i + 1}")(x)
    if hp["lstm"]:
        x = layers.LSTM(lstm_units, return_sequences=True, name=f"{name}_lstm")(x)
    return layers.Flatten(name=f"{name}_flatten")(x)


def _fold_branch(inputs, hp: dict):
    x = inputs
    for i, n in enumerate(hp["fold_filters"]):
        x = layers.Conv1D(
            n, hp["fold_kernel_size"], padding="same", activation="relu", name=f"fold_conv{i + 1}"
        )(x)
        if i < len(hp["fold_filters"]) - 1:
            x = layers.MaxPooling1D(2, name=f"fold_pool{i + 1}")(x)
    summaries = [
        layers.GlobalMaxPooling1D(name="fold_max")(x),
        layers.GlobalAveragePooling1D(name="fold_mean")(x),
        layers.Flatten(name="fold_flatten")(layers.MaxPooling1D(4, name="fold_coarse")(x)),
    ]
    return layers.Concatenate(name="fold_features")(summaries)


def build_model(hp: dict) -> keras.Model:
    """Build CALNet (or an ablation of it) from a full hyperparameter dict."""
    if not (hp["use_lc"] or hp["use_gls"]):
        raise ValueError("CALNet needs at least one of use_lc, use_gls")
    inputs, features = [], []
    if hp["use_lc"]:
        lc = keras.Input((hp["lc_length"], 1), name="lc")
        inputs.append(lc)
        features.append(_branch(lc, hp["lc_filters"], hp, hp["lc_lstm_units"], "lc"))
    if hp["use_gls"]:
        gls = keras.Input((hp["gls_length"], 1), name="gls")
        inputs.append(gls)
        g = _branch(gls, hp["gls_filters"], hp, hp["gls_lstm_units"], "gls")
        if hp["use_lc"]:
            # Tile the GLS features to the LC feature length so they can be fused
            # element-wise (7936 = 2 x 3968 with the defaults).
            repeats = features[0].shape[-1] // g.shape[-1]
            if repeats * g.shape[-1] != features[0].shape[-1]:
                raise ValueError(
                    f"LC features ({features[0].shape[-1]}) are not a multiple of "
                    f"GLS features ({g.shape[-1]})"
                )
            g = layers.Flatten(name="gls_tiled")(layers.RepeatVector(repeats, name="gls_repeat")(g))
        features.append(g)
    if len(features) == 1:
        x = features[0]
    else:
        fusion = {
            "add": layers.Add,
            "concatenate": layers.Concatenate,
            "multiply": layers.Multiply,
        }[hp["fusion"]]
        x = fusion(name=f"fusion_{hp['fusion']}")(features)
    if hp["use_fold"]:
        fold = keras.Input((FOLD_BINS, FOLD_CHANNELS), name=FOLD_INPUT)
        inputs.append(fold)
        x = layers.Concatenate(name="with_fold")([x, _fold_branch(fold, hp)])
    x = layers.Dense(hp["dense_units"], activation="sigmoid", name="dense")(x)
    x = layers.Dropout(hp["dropout"], name="dropout")(x)
    outputs = layers.Dense(hp["n_classes"], activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name=hp.get("name", "calnet"))
