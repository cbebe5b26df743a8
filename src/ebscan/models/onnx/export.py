"""Export a CALNet-family Keras model to ONNX, for inference with ONNX Runtime.

On CPU, :class:`ebscan.survey.inference.OnnxPredictor` scores CALNet 2 to 4 times as fast
as TensorFlow (bench/inference.py), with the same probabilities to float32 rounding.
``tf2onnx``, the usual converter, does not support Keras 3, so this walks the Keras
graph and writes ONNX nodes for the layers the models of :mod:`ebscan.models` use.

Sequences are carried in one of two layouts. Where its length divides into
:data:`TILES` tiles, a sequence is *tiled*: (m, batch, tiles, channels), time cut
into tiles of ``m`` samples, the place within a tile outermost. There a "same"
convolution is three matrix products and no reordering of data: each sub-tile's
Fourier transform, its product with the kernel's spectrum frequency by frequency,
and the inverse transform (:func:`dft_convolution`), which takes 2.6 and 2.8 times
fewer multiplications than the direct sum for CALNet's second and third LC
convolutions; a pooling is a reshape and a max while the tile length stays
divisible; CBAM's pools and gates reduce and broadcast along whole axes. Elsewhere
(after a pooling that does not divide the tiles, and for LSTM, Flatten, Reshape and
RepeatVector) a sequence is (batch, channels, 1, time): a one-pixel-high image, the
layout of ONNX Runtime's blocked convolution kernels, which run convolutions 1.3 to
1.8 times as fast as its one-dimensional kernels. Keras keeps sequences as (batch,
time, channels), so the exporter transposes where a layer's meaning depends on the
order.

The input of the classifier head (the Dense layers that end the model) is named
``features`` in the exported graph, so that :class:`ebscan.survey.inference.OnnxPredictor`
can run the feature extractor and the head at different batch sizes.
"""

from __future__ import annotations

import hashlib
import os

from ebscan.atomic import atomic_open
from ebscan.models.onnx.graph import (
    FEATURES,
    OPSET,
    PROBABILITIES,
    Graph,
    call,
    sequence_from_keras,
    tiled_from_keras,
)

#: Tile count of tiled sequences (see the module's docstring). CALNet with its LC
#: branch in 25 tiles of 160, 40 and 10 samples scored 460 segments/s at batch 256 on
#: 2 cores, in 10 or 50 tiles 423 and 457, untiled 390 (bench/inference.py).
TILES = 25


#: Layers that make up the classifier head when they end the model.
_HEAD_LAYERS = ("Dense", "Dropout", "Activation")


def _head_input(model, nodes: list):
    """The Keras tensor the classifier head takes, or None if the model has no head.

    The head is the chain of Dense, Dropout and Activation layers on feature vectors
    that ends the model; its input is the first tensor of the chain that is not a
    model input.
    """
    producers = {id(t): node for node in nodes for t in node.output_tensors}
    model_inputs = {id(t) for t in model.inputs}
    (tensor,) = model.outputs
    head_input = None
    while True:
        node = producers.get(id(tensor))
        if node is None or type(node.operation).__name__ not in _HEAD_LAYERS:
            return head_input
        (tensor,) = node.input_tensors
        if len(tensor.shape) != 2 or id(tensor) in model_inputs:
            return head_input
        head_input = tensor


def to_onnx(model, tiles: int | None = TILES):
    """Translate ``model`` (an :func:`ebscan.models.build` model) to an ONNX model.

    The ONNX model takes the same named inputs, (batch, length, channels) float32, and
    returns the class probabilities, (batch, n_classes). Weights are copied, so
    it scores like the Keras model to float32 rounding.

    Parameters
    ----------
    model
        The Keras model.
    tiles
        Sequences whose length this divides are carried cut into this many tiles
        (see the module's docstring); None carries all as (batch, C, 1, time).

    Raises
    ------
    ValueError
        If the model uses a layer or option the exporter does not translate.
    """
    from onnx import TensorProto, checker, helper

    graph = Graph()
    # Each Keras tensor's ONNX name and its tile count (0: not tiled).
    names: dict[int, tuple[str, int]] = {}
    graph_inputs = []
    for tensor in model.inputs:
        length, channels = tensor.shape[1:]
        graph_inputs.append(
            helper.make_tensor_value_info(
                tensor.name, TensorProto.FLOAT, ["batch", length, channels]
            )
        )
        if tiles and length % tiles == 0:
            names[id(tensor)] = (
                tiled_from_keras(graph, tensor.name, tiles, length, f"{tensor.name}_in"),
                tiles,
            )
        else:
            names[id(tensor)] = (sequence_from_keras(graph, tensor.name, f"{tensor.name}_in"), 0)
    # Keras has no public walk over a functional model's calls; a layer called twice
    # (CBAM's shared MLP) has one node per call, and depth orders them (the output
    # at depth 0, so the walk goes from the deepest).
    nodes = [
        node for depth in sorted(model._nodes_by_depth) for node in model._nodes_by_depth[depth]
    ]
    head_input = _head_input(model, nodes)
    for node in reversed(nodes):
        layer = node.operation
        if type(layer).__name__ == "InputLayer":
            continue
        (tensor,) = node.output_tensors
        names[id(tensor)] = call(graph, layer, node.input_tensors, names)
        if head_input is not None and id(tensor) == id(head_input):
            graph.nodes.append(helper.make_node("Identity", [names[id(tensor)][0]], [FEATURES]))
            names[id(tensor)] = (FEATURES, 0)
    (output,) = model.outputs
    graph.nodes.append(helper.make_node("Identity", [names[id(output)][0]], [PROBABILITIES]))
    outputs = [
        helper.make_tensor_value_info(PROBABILITIES, TensorProto.FLOAT, ["batch", output.shape[-1]])
    ]
    onnx_graph = helper.make_graph(
        graph.nodes, model.name, graph_inputs, outputs, initializer=graph.initializers
    )
    onnx_model = helper.make_model(
        onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="ebscan"
    )
    checker.check_model(onnx_model)
    return onnx_model


def export_onnx(keras_path: str | os.PathLike, onnx_path: str | os.PathLike) -> None:
    """Write the ``.keras`` model at ``keras_path`` as ONNX to ``onnx_path``, atomically.

    The ONNX file records where it came from in its metadata: ``source`` (the
    ``.keras`` file's name), ``source_sha256`` and ``ebscan_version``. Scoring from it
    (:func:`ebscan.survey.inference.load_predictor`) needs neither TensorFlow nor Keras,
    which take 8 s of CPU and 550 MB to import.
    """
    from onnx import helper

    from ebscan import __version__
    from ebscan.models import load_model

    exported = to_onnx(load_model(keras_path))
    with open(keras_path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    helper.set_model_props(
        exported,
        {
            "source": os.path.basename(keras_path),
            "source_sha256": digest,
            "ebscan_version": __version__,
        },
    )
    with atomic_open(onnx_path, "wb") as handle:
        handle.write(exported.SerializeToString())
