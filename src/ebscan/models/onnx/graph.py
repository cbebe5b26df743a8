"""ONNX nodes for Keras layers: the graph being built, the layouts of sequences
(tiled, or one-pixel-high images) and each layer the models of :mod:`ebscan.models`
use (see :mod:`ebscan.models.onnx.export`).
"""

from __future__ import annotations

import numpy as np

from ebscan.models.onnx.dft import dft_convolution, dft_cost

OPSET = 18


#: Names in an exported graph: the classifier head's input and the output
#: (:class:`ebscan.survey.inference.OnnxPredictor` splits the graph there).
FEATURES = "features"


PROBABILITIES = "probabilities"


class Graph:
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


def _activation(graph: Graph, x: str, activation, hint: str) -> str:
    name = getattr(activation, "__name__", str(activation))
    ops = {"linear": None, "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    if name == "softmax":
        return graph.node("Softmax", [x], hint, axis=-1)
    if name not in ops:
        raise ValueError(f"cannot export activation {name!r} of layer {hint} to ONNX")
    return x if ops[name] is None else graph.node(ops[name], [x], hint)


def _axes(graph: Graph, *axes: int) -> str:
    return graph.constant(np.array(axes), "axes")


def sequence_from_keras(graph: Graph, x: str, hint: str) -> str:
    """Keras (batch, time, C) -> (batch, C, 1, time)."""
    y = graph.node("Unsqueeze", [x, _axes(graph, 1)], hint)
    return graph.node("Transpose", [y], hint, perm=[0, 3, 1, 2])


def _sequence_to_keras(graph: Graph, x: str, hint: str) -> str:
    """(batch, C, 1, time) -> Keras (batch, time, C)."""
    y = graph.node("Squeeze", [x, _axes(graph, 2)], hint)
    return graph.node("Transpose", [y], hint, perm=[0, 2, 1])


def _same_padding(kernel: int) -> list[int]:
    # TensorFlow's "same" puts the odd extra padding on the right.
    return [(kernel - 1) // 2, kernel // 2]


def _kernel_and_bias(layer) -> tuple[np.ndarray, np.ndarray]:
    kernel, *bias = (np.asarray(w) for w in layer.get_weights())
    return kernel, bias[0] if bias else np.zeros(kernel.shape[-1], kernel.dtype)


def _conv1d(graph: Graph, layer, x: str) -> str:
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


def _dense(graph: Graph, layer, x: str) -> str:
    kernel, bias = _kernel_and_bias(layer)
    inputs = [x, graph.constant(kernel, f"{layer.name}_kernel"), graph.constant(bias, "bias")]
    y = graph.node("Gemm", inputs, layer.name)
    return _activation(graph, y, layer.activation, f"{layer.name}_act")


def _lstm(graph: Graph, layer, x: str) -> str:
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


def _reshape(graph: Graph, layer, x: str, sequence: bool) -> str:
    target = tuple(layer.target_shape)
    if len(target) > 2:
        raise ValueError(f"cannot export {layer.name}: reshape to rank {len(target) + 1}")
    if sequence:
        x = _sequence_to_keras(graph, x, f"{layer.name}_in")
    shape = graph.constant(np.array([-1, *target]), f"{layer.name}_shape")
    y = graph.node("Reshape", [x, shape], layer.name)
    return sequence_from_keras(graph, y, f"{layer.name}_out") if len(target) == 2 else y


def _repeat_vector(graph: Graph, layer, x: str) -> str:
    # Repeated in Keras's (batch, n, F) order, whole rows at a time (an Expand along
    # the innermost axis copies one number at a time and took 2% of CALNet's time);
    # ONNX Runtime cancels the transposes into and out of the sequence layout when
    # a Flatten follows, as in CALNet.
    y = graph.node("Unsqueeze", [x, _axes(graph, 1)], f"{layer.name}_in")
    y = graph.node("Expand", [y, graph.constant(np.array([1, layer.n, 1]), "n")], layer.name)
    return sequence_from_keras(graph, y, f"{layer.name}_out")


def _pool_pair(graph: Graph, x: str, axes: tuple, channel_axis: int, name: str) -> str:
    """Mean and max over ``axes``, side by side along ``channel_axis``."""
    mean = graph.node("ReduceMean", [x, _axes(graph, *axes)], f"{name}_mean", keepdims=1)
    peak = graph.node("ReduceMax", [x, _axes(graph, *axes)], f"{name}_max", keepdims=1)
    return graph.node("Concat", [mean, peak], name, axis=channel_axis)


def _shape(graph: Graph, *dims: int) -> str:
    return graph.constant(np.array(dims), "shape")


def tiled_from_keras(graph: Graph, x: str, tiles: int, length: int, hint: str) -> str:
    """Keras (batch, time, C) -> tiled (time // tiles, batch, tiles, C)."""
    y = graph.node("Reshape", [x, _shape(graph, 0, tiles, length // tiles, -1)], hint)
    return graph.node("Transpose", [y], hint, perm=[2, 0, 1, 3])


def _tiled_to_keras(graph: Graph, x: str, length: int, hint: str) -> str:
    """Tiled (m, batch, tiles, C) -> Keras (batch, time, C)."""
    y = graph.node("Transpose", [x], hint, perm=[1, 2, 0, 3])
    return graph.node("Reshape", [y, _shape(graph, 0, length, -1)], hint)


def _tiled_to_sequence(graph: Graph, x: str, length: int, hint: str) -> str:
    """Tiled (m, batch, tiles, C) -> (batch, C, 1, time)."""
    y = graph.node("Transpose", [x], hint, perm=[1, 3, 2, 0])
    return graph.node("Reshape", [y, _shape(graph, 0, 0, 1, length)], hint)


def _tiled_from_sequence(graph: Graph, x: str, tiles: int, length: int, hint: str) -> str:
    """(batch, C, 1, time) -> tiled (time // tiles, batch, tiles, C)."""
    y = graph.node("Reshape", [x, _shape(graph, 0, 0, tiles, length // tiles)], hint)
    return graph.node("Transpose", [y], hint, perm=[3, 0, 2, 1])


def _extended_tiles(
    graph: Graph, x: str, m: int, tiles: int, channels: int, sub: int, size: int
) -> str:
    """The input a "same" convolution of ``size`` taps needs, sub-tile by sub-tile.

    Each tile of ``m`` samples is cut into ``m // sub`` sub-tiles of ``sub``; each
    sub-tile gets the samples before and after it that the convolution reads (zeros
    beyond the ends of a segment): tiled (m, batch, tiles, C) -> (m // sub,
    sub + size - 1, batch, tiles, C).
    """
    left, right = _same_padding(size)
    count = m // sub
    x = graph.node("Reshape", [x, _shape(graph, count, sub, -1, tiles, channels)], "subtiles")
    end = 2**62

    def part(starts, ends, axes, pad_tile: int | None = None) -> str:
        y = graph.node(
            "Slice", [x, _shape(graph, *starts), _shape(graph, *ends), _axes(graph, *axes)], "edge"
        )
        if pad_tile is None:
            return y
        # One tile of zeros before (0) or after (1) the tiles: past a segment's end.
        pads = [0] * 10
        pads[3 + 5 * pad_tile] = 1
        return graph.node("Pad", [y, _shape(graph, *pads)], "edge")

    parts = []
    if left:
        # A tile's first sub-tile reads the end of the previous tile's last one.
        before = [part((count - 1, sub - left, 0), (count, sub, -1), (0, 1, 3), pad_tile=0)]
        if count > 1:
            before.append(part((0, sub - left), (count - 1, sub), (0, 1)))
        parts.append(_concat(graph, before, 0, "before"))
    parts.append(x)
    if right:
        after = [part((1, 0), (count, right), (0, 1))] if count > 1 else []
        after.append(part((0, 0, 1), (1, right, end), (0, 1, 3), pad_tile=1))
        parts.append(_concat(graph, after, 0, "after"))
    return _concat(graph, parts, 1, "extended")


def _concat(graph: Graph, parts: list[str], axis: int, hint: str) -> str:
    return parts[0] if len(parts) == 1 else graph.node("Concat", parts, hint, axis=axis)


def _tiled_conv1d(graph: Graph, layer, x: str, m: int, tiles: int) -> str:
    """A "same" Conv1D on a tiled sequence.

    By Fourier transform (:func:`dft_convolution`) on the sub-tile length that
    takes the fewest multiplications, when that is fewer than the direct sum's;
    else by one matrix product of each output's k x C_in inputs with the kernel.
    """
    kernel, bias = _kernel_and_bias(layer)
    size, channels_in, channels_out = kernel.shape
    # A sub-tile reads its neighbours' edges, so it must be as long as the reach.
    reach = max(_same_padding(size))
    cost, sub = min(
        (dft_cost(size, sub, channels_in, channels_out), sub)
        for sub in range(reach, m + 1)
        if m % sub == 0
    )
    if cost < size * channels_in:
        extended = _extended_tiles(graph, x, m, tiles, channels_in, sub, size)
        forward, weights, inverse = dft_convolution(kernel, sub)
        terms = len(forward)
        count = m // sub
        flat = graph.node("Reshape", [extended, _shape(graph, count, sub + size - 1, -1)], "flat")
        spectra = graph.node(
            "MatMul", [graph.constant(forward.astype(np.float32), "dft"), flat], layer.name
        )
        spectra = graph.node(
            "Reshape", [spectra, _shape(graph, count, terms, -1, channels_in)], "spectra"
        )
        weights = graph.constant(weights.astype(np.float32), f"{layer.name}_kernel_dft")
        products = graph.node("MatMul", [spectra, weights], layer.name)
        products = graph.node("Reshape", [products, _shape(graph, count, terms, -1)], "products")
        inverse = graph.constant(inverse.astype(np.float32), "inverse_dft")
        y = graph.node("MatMul", [inverse, products], layer.name)
        y = graph.node("Reshape", [y, _shape(graph, m, -1, tiles, channels_out)], layer.name)
        y = graph.node("Add", [y, graph.constant(bias, f"{layer.name}_bias")], layer.name)
        return _activation(graph, y, layer.activation, f"{layer.name}_act")
    extended = _extended_tiles(graph, x, m, tiles, channels_in, m, size)
    shifts = [
        graph.node(
            "Slice",
            [extended, _shape(graph, s), _shape(graph, s + m), _axes(graph, 1)],
            f"{layer.name}_shift",
        )
        for s in range(size)
    ]
    windows = graph.node("Concat", shifts, f"{layer.name}_windows", axis=4)
    windows = graph.node("Reshape", [windows, _shape(graph, -1, size * channels_in)], "windows")
    # A two-dimensional Gemm, into which ONNX Runtime fuses the bias and activation.
    kernel = graph.constant(
        kernel.reshape(size * channels_in, channels_out), f"{layer.name}_kernel"
    )
    y = graph.node("Gemm", [windows, kernel, graph.constant(bias, "bias")], layer.name)
    y = _activation(graph, y, layer.activation, f"{layer.name}_act")
    return graph.node("Reshape", [y, _shape(graph, m, -1, tiles, channels_out)], layer.name)


def _over_time(graph: Graph, op: str, x: str, hint: str) -> str:
    """Tiled (m, batch, tiles, C) reduced over time, to (1, batch, 1, C).

    Over the tiles first: ONNX Runtime's ReduceMax over a long leading axis is ten
    times as slow as over a middle one."""
    y = graph.node(op, [x, _axes(graph, 2)], hint, keepdims=1)
    return graph.node(op, [y, _axes(graph, 0)], hint, keepdims=1)


def _tiled_layer(graph: Graph, layer, inputs: list[str], tiles: int, shape: tuple):
    """ONNX nodes for one call of ``layer`` on sequences cut into ``tiles`` tiles
    (first input of Keras shape ``shape``), and the tile count of its output (0: not
    a tiled sequence); None where the layer needs the (batch, C, 1, time) layout."""
    kind = type(layer).__name__
    x, (_, length, channels) = inputs[0], shape
    m = length // tiles
    if kind == "Conv1D":
        (size,) = layer.kernel_size
        left, right = _same_padding(size)
        simple = layer.strides == (1,) and layer.dilation_rate == (1,) and layer.groups == 1
        if simple and layer.padding == "same" and max(left, right) <= m:
            return _tiled_conv1d(graph, layer, x, m, tiles), tiles
        return None
    if kind in ("GlobalAveragePooling1D", "GlobalMaxPooling1D"):
        op = "ReduceMean" if kind == "GlobalAveragePooling1D" else "ReduceMax"
        y = _over_time(graph, op, x, layer.name)
        return graph.node("Reshape", [y, _shape(graph, -1, channels)], layer.name), 0
    if kind == "MaxPooling1D":
        (size,), (stride,) = layer.pool_size, layer.strides
        if layer.padding != "valid" or stride != size:
            return None
        if m % size == 0:
            pooled_shape = _shape(graph, m // size, size, -1, tiles, channels)
            y = graph.node("Reshape", [x, pooled_shape], layer.name)
            return graph.node("ReduceMax", [y, _axes(graph, 1)], layer.name, keepdims=0), tiles
        # Pooled windows would straddle tiles: pool in Keras's layout, which the tiled
        # one reaches moving whole rows of channels (the (batch, C, 1, time) layout
        # would reorder single numbers).
        y = _tiled_to_keras(graph, x, length, f"{layer.name}_in")
        pooled = length // size
        if pooled * size != length:
            y = graph.node(
                "Slice",
                [y, _shape(graph, 0), _shape(graph, pooled * size), _axes(graph, 1)],
                layer.name,
            )
        y = graph.node("Reshape", [y, _shape(graph, 0, pooled, size, -1)], layer.name)
        y = graph.node("ReduceMax", [y, _axes(graph, 2)], layer.name, keepdims=0)
        return sequence_from_keras(graph, y, f"{layer.name}_out"), 0
    if kind in ("Add", "Multiply"):
        op = "Add" if kind == "Add" else "Mul"
        for other in inputs[1:]:
            x = graph.node(op, [x, other], layer.name)
        return x, tiles
    if kind == "Activation":
        return _activation(graph, x, layer.activation, layer.name), tiles
    if kind == "Dropout":
        return x, tiles
    if kind == "ChannelPool":
        return _pool_pair(graph, x, (3,), 3, layer.name), tiles
    if kind == "TimePool":
        # -> (1, batch, 1, 2C): a sequence of one sample, in one tile.
        mean = _over_time(graph, "ReduceMean", x, f"{layer.name}_mean")
        peak = _over_time(graph, "ReduceMax", x, f"{layer.name}_max")
        return graph.node("Concat", [mean, peak], layer.name, axis=3), 1
    if kind == "Flatten":
        y = _tiled_to_keras(graph, x, length, f"{layer.name}_in")
        return graph.node("Flatten", [y], layer.name, axis=1), 0
    return None


def _layer(graph: Graph, layer, inputs: list[str], sequences: list[bool]) -> str:
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
        return _pool_pair(graph, x, (1,), 1, layer.name)
    if kind == "TimePool":
        # (batch, C, 1, time) -> (batch, 2C, 1, 1): Keras's (batch, 1, 2C).
        return _pool_pair(graph, x, (3,), 1, layer.name)
    raise ValueError(f"cannot export layer {layer.name} ({kind}) to ONNX")


def call(graph: Graph, layer, tensors: list, names: dict) -> tuple[str, int]:
    """ONNX nodes for one call of ``layer`` on the Keras ``tensors``: its output's
    name and tile count, tiled where the layer and its inputs allow."""
    inputs = [names[id(t)][0] for t in tensors]
    tile_counts = [names[id(t)][1] for t in tensors]
    lengths = [t.shape[1] if len(t.shape) == 3 else None for t in tensors]
    tiles = max(tile_counts)
    if tiles:
        # Every input of more than one sample in the same tiles, those of one sample
        # (CBAM's gates) tiled too, so that they broadcast.
        aligned = all(
            n == tiles or length == 1 for n, length in zip(tile_counts, lengths, strict=True)
        )
        if aligned:
            tiled = [
                _tiled_from_sequence(graph, x, 1, 1, f"{layer.name}_in") if n == 0 else x
                for x, n in zip(inputs, tile_counts, strict=True)
            ]
            result = _tiled_layer(graph, layer, tiled, tiles, tensors[0].shape)
            if result is not None:
                return result
    inputs = [
        _tiled_to_sequence(graph, x, length, f"{layer.name}_in") if n else x
        for x, n, length in zip(inputs, tile_counts, lengths, strict=True)
    ]
    # A Keras (batch, time, C) tensor is a sequence; (batch, F) a feature vector.
    return _layer(graph, layer, inputs, [length is not None for length in lengths]), 0
