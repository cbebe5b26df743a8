"""Export a CALNet-family Keras model to ONNX, for inference with ONNX Runtime.

On CPU, :class:`ebscan.inference.OnnxPredictor` scores CALNet 1.5 to 4 times as fast as TensorFlow
(bench/inference.py), with the same probabilities to float32 rounding. ``tf2onnx``,
the usual converter, does not support Keras 3, so this walks the Keras graph and
writes ONNX nodes for the layers the models of :mod:`ebscan.models` use.

Sequences are carried as (batch, channels, 1, time): a one-pixel-high image, the
layout of ONNX Runtime's blocked convolution kernels, which run CALNet's two largest
convolutions 1.3 and 1.8 times as fast as its one-dimensional kernels. Keras keeps
sequences as (batch, time, channels), so the exporter transposes where a layer's
meaning depends on the order (inputs, LSTM, Flatten, Reshape).

The input of the classifier head (the Dense layers that end the model) is named
``features`` in the exported graph, so that :class:`ebscan.inference.OnnxPredictor`
can run the feature extractor and the head at different batch sizes.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from ebscan.atomic import atomic_open
from ebscan.inference import FEATURES, PROBABILITIES

OPSET = 18

#: Layers that make up the classifier head when they end the model.
_HEAD_LAYERS = ("Dense", "Dropout", "Activation")


class _Graph:
    """ONNX nodes and weights being collected, with unique names."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, value, hint: str) -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attributes) -> str:
        from onnx import helper

        output = self.name(hint)
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output


def _activation(graph: _Graph, x: str, activation, hint: str) -> str:
    name = getattr(activation, "__name__", str(activation))
    ops = {"linear": None, "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    if name == "softmax":
        return graph.node("Softmax", [x], hint, axis=-1)
    if name not in ops:
        raise ValueError(f"cannot export activation {name!r} of layer {hint} to ONNX")
    return x if ops[name] is None else graph.node(ops[name], [x], hint)


def _axes(graph: _Graph, *axes: int) -> str:
    return graph.constant(np.array(axes), "axes")


def _sequence_from_keras(graph: _Graph, x: str, hint: str) -> str:
    """Keras (batch, time, C) -> (batch, C, 1, time)."""
    y = graph.node("Unsqueeze", [x, _axes(graph, 1)], hint)
    return graph.node("Transpose", [y], hint, perm=[0, 3, 1, 2])


def _sequence_to_keras(graph: _Graph, x: str, hint: str) -> str:
    """(batch, C, 1, time) -> Keras (batch, time, C)."""
    y = graph.node("Squeeze", [x, _axes(graph, 2)], hint)
    return graph.node("Transpose", [y], hint, perm=[0, 2, 1])


def _same_padding(kernel: int) -> list[int]:
    # TensorFlow's "same" puts the odd extra padding on the right.
    return [(kernel - 1) // 2, kernel // 2]


def _kernel_and_bias(layer) -> tuple[np.ndarray, np.ndarray]:
    kernel, *bias = (np.asarray(w) for w in layer.get_weights())
    return kernel, bias[0] if bias else np.zeros(kernel.shape[-1], kernel.dtype)


def _conv1d(graph: _Graph, layer, x: str) -> str:
    kernel, bias = _kernel_and_bias(layer)
    size = kernel.shape[0]
    if layer.strides != (1,) or layer.dilation_rate != (1,) or layer.groups != 1:
        raise ValueError(f"cannot export {layer.name}: only stride 1, undilated, ungrouped")
    if layer.padding not in ("same", "valid"):
        raise ValueError(f"cannot export {layer.name}: {layer.padding!r} padding")
    left, right = _same_padding(size) if layer.padding == "same" else (0, 0)
    # (size, in, out) -> (out, in, 1, size)
    weight = graph.constant(kernel.transpose(2, 1, 0)[:, :, None, :], f"{layer.name}_kernel")
    inputs = [x, weight, graph.constant(bias, f"{layer.name}_bias")]
    y = graph.node("Conv", inputs, layer.name, kernel_shape=[1, size], pads=[0, left, 0, right])
    return _activation(graph, y, layer.activation, f"{layer.name}_act")


def _dense(graph: _Graph, layer, x: str) -> str:
    kernel, bias = _kernel_and_bias(layer)
    inputs = [x, graph.constant(kernel, f"{layer.name}_kernel"), graph.constant(bias, "bias")]
    y = graph.node("Gemm", inputs, layer.name)
    return _activation(graph, y, layer.activation, f"{layer.name}_act")


def _lstm(graph: _Graph, layer, x: str) -> str:
    """Keras LSTM (gates i, f, c, o; one bias) as ONNX LSTM (gates i, o, f, c)."""
    cell = layer.cell
    if (
        cell.activation.__name__ != "tanh"
        or cell.recurrent_activation.__name__ != "sigmoid"
        or not layer.return_sequences
        or layer.go_backwards
        or not cell.use_bias
    ):
        raise ValueError(f"cannot export {layer.name}: only a forward tanh/sigmoid sequence LSTM")
    kernel, recurrent, bias = (np.asarray(w) for w in layer.get_weights())

    def onnx_gates(matrix):
        i, f, c, o = np.split(matrix, 4, axis=-1)
        return np.concatenate([i, o, f, c], axis=-1)

    w = graph.constant(onnx_gates(kernel).T[None], f"{layer.name}_W")
    r = graph.constant(onnx_gates(recurrent).T[None], f"{layer.name}_R")
    b = graph.constant(np.concatenate([onnx_gates(bias), np.zeros_like(bias)])[None], "B")
    # (batch, C, 1, time) -> (time, batch, C)
    y = graph.node("Squeeze", [x, _axes(graph, 2)], f"{layer.name}_in")
    y = graph.node("Transpose", [y], f"{layer.name}_in", perm=[2, 0, 1])
    y = graph.node("LSTM", [y, w, r, b], layer.name, hidden_size=cell.units)
    # (time, 1 direction, batch, units) -> (batch, units, 1, time)
    return graph.node("Transpose", [y], f"{layer.name}_out", perm=[2, 3, 1, 0])


def _reshape(graph: _Graph, layer, x: str, sequence: bool) -> str:
    target = tuple(layer.target_shape)
    if len(target) > 2:
        raise ValueError(f"cannot export {layer.name}: reshape to rank {len(target) + 1}")
    if sequence:
        x = _sequence_to_keras(graph, x, f"{layer.name}_in")
    shape = graph.constant(np.array([-1, *target]), f"{layer.name}_shape")
    y = graph.node("Reshape", [x, shape], layer.name)
    return _sequence_from_keras(graph, y, f"{layer.name}_out") if len(target) == 2 else y


def _repeat_vector(graph: _Graph, layer, x: str) -> str:
    # Repeated in Keras's (batch, n, F) order, whole rows at a time (an Expand along
    # the innermost axis copies one number at a time and took 2% of CALNet's time);
    # ONNX Runtime cancels the transposes into and out of the sequence layout when
    # a Flatten follows, as in CALNet.
    y = graph.node("Unsqueeze", [x, _axes(graph, 1)], f"{layer.name}_in")
    y = graph.node("Expand", [y, graph.constant(np.array([1, layer.n, 1]), "n")], layer.name)
    return _sequence_from_keras(graph, y, f"{layer.name}_out")


def _pool_pair(graph: _Graph, x: str, axis: int, name: str) -> str:
    mean = graph.node("ReduceMean", [x, _axes(graph, axis)], f"{name}_mean", keepdims=1)
    peak = graph.node("ReduceMax", [x, _axes(graph, axis)], f"{name}_max", keepdims=1)
    return graph.node("Concat", [mean, peak], name, axis=1)


def _layer(graph: _Graph, layer, inputs: list[str], sequences: list[bool]) -> str:
    """ONNX nodes for one call of ``layer``.

    ``sequences`` says which inputs are sequences, carried as (batch, C, 1, time);
    the others are feature vectors, (batch, F).
    """
    kind = type(layer).__name__
    x = inputs[0]
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError(f"cannot export {layer.name}: only channels_last data")
    if kind == "Conv1D":
        return _conv1d(graph, layer, x)
    if kind == "Dense":
        if sequences[0]:
            raise ValueError(f"cannot export {layer.name}: Dense on a sequence")
        return _dense(graph, layer, x)
    if kind == "LSTM":
        return _lstm(graph, layer, x)
    if kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        # The Global*Pool ops (not Reduce*) have kernels for ONNX Runtime's blocked
        # layout, so the feature map is not reordered for them.
        op = "GlobalAveragePool" if kind == "GlobalAveragePooling1D" else "GlobalMaxPool"
        return graph.node("Flatten", [graph.node(op, [x], layer.name)], layer.name, axis=1)
    if kind == "MaxPooling1D":
        (size,), (stride,) = layer.pool_size, layer.strides
        if layer.padding != "valid":
            raise ValueError(f"cannot export {layer.name}: only 'valid' pooling")
        return graph.node("MaxPool", [x], layer.name, kernel_shape=[1, size], strides=[1, stride])
    if kind in ("Add", "Multiply"):
        op = "Add" if kind == "Add" else "Mul"
        for other in inputs[1:]:
            x = graph.node(op, [x, other], layer.name)
        return x
    if kind == "Concatenate":
        if any(sequences):
            raise ValueError(f"cannot export {layer.name}: Concatenate of sequences")
        return graph.node("Concat", inputs, layer.name, axis=1)
    if kind == "Activation":
        return _activation(graph, x, layer.activation, layer.name)
    if kind == "Reshape":
        return _reshape(graph, layer, x, sequences[0])
    if kind == "RepeatVector":
        return _repeat_vector(graph, layer, x)
    if kind == "Flatten":
        if sequences[0]:
            x = _sequence_to_keras(graph, x, f"{layer.name}_in")
        return graph.node("Flatten", [x], layer.name, axis=1)
    if kind == "Dropout":
        return x
    if kind == "ChannelPool":
        return _pool_pair(graph, x, 1, layer.name)
    if kind == "TimePool":
        # (batch, C, 1, time) -> (batch, 2C, 1, 1): Keras's (batch, 1, 2C).
        return _pool_pair(graph, x, 3, layer.name)
    raise ValueError(f"cannot export layer {layer.name} ({kind}) to ONNX")


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


def to_onnx(model):
    """Translate ``model`` (an :func:`ebscan.models.build` model) to an ONNX model.

    The ONNX model takes the same named inputs, (batch, length, 1) float32, and
    returns the class probabilities, (batch, n_classes). Weights are copied, so
    it scores like the Keras model to float32 rounding.

    Raises
    ------
    ValueError
        If the model uses a layer or option the exporter does not translate.
    """
    from onnx import TensorProto, checker, helper

    graph = _Graph()
    names: dict[int, str] = {}
    graph_inputs = []
    for tensor in model.inputs:
        length, channels = tensor.shape[1:]
        graph_inputs.append(
            helper.make_tensor_value_info(
                tensor.name, TensorProto.FLOAT, ["batch", length, channels]
            )
        )
        names[id(tensor)] = _sequence_from_keras(graph, tensor.name, f"{tensor.name}_in")
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
        inputs = [names[id(t)] for t in node.input_tensors]
        # A Keras (batch, time, C) tensor is a sequence; (batch, F) a feature vector.
        sequences = [len(t.shape) == 3 for t in node.input_tensors]
        (tensor,) = node.output_tensors
        names[id(tensor)] = _layer(graph, layer, inputs, sequences)
        if head_input is not None and id(tensor) == id(head_input):
            graph.nodes.append(helper.make_node("Identity", [names[id(tensor)]], [FEATURES]))
            names[id(tensor)] = FEATURES
    (output,) = model.outputs
    graph.nodes.append(helper.make_node("Identity", [names[id(output)]], [PROBABILITIES]))
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
    (:func:`ebscan.inference.load_predictor`) needs neither TensorFlow nor Keras,
    which take 8 s of CPU and 550 MB to import.
    """
    from onnx import helper

    from ebscan import __version__
    from ebscan.inference import load_model

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
