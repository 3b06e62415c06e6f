"""Build one-operator test models without touching flatbuffers.

Property tests sweep shapes, quantization and options of a single operator; this module turns
a short description of the operator's tensors into an IR Graph (and, through the writer, into
a .tflite model that TFLM, LiteRT and EVO can all load), so each test states only what varies.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evo.frontend.tflite_writer import write_tflite
from evo.ir.graph import DTYPES, Graph, Op, Quant, Tensor


@dataclass
class TensorSpec:
    """One operator input/output. A spec with `data` becomes a constant; `scale` given means
    quantized (per-channel along `axis` when scale/zero_point are arrays of length > 1)."""

    shape: tuple[int, ...]
    dtype: str
    scale: float | np.ndarray | None = None
    zero_point: int | np.ndarray | None = None
    axis: int = 0
    data: np.ndarray | None = None
    name: str | None = None


def _quant(spec: TensorSpec) -> Quant | None:
    if spec.scale is None:
        return None
    scale = np.atleast_1d(np.asarray(spec.scale, dtype=np.float32))
    zp = 0 if spec.zero_point is None else spec.zero_point
    zero_point = np.atleast_1d(np.asarray(zp, dtype=np.int64))
    if zero_point.size == 1 and scale.size > 1:
        zero_point = np.zeros(scale.size, dtype=np.int64) + zero_point[0]
    return Quant(scale=scale, zero_point=zero_point, axis=spec.axis)


def _tensor(index: int, spec: TensorSpec, default_name: str) -> Tensor:
    data = None
    if spec.data is not None:
        data = np.asarray(spec.data, dtype=DTYPES[spec.dtype]).reshape(spec.shape)
    return Tensor(
        index=index,
        name=spec.name or default_name,
        shape=tuple(int(d) for d in spec.shape),
        dtype=spec.dtype,
        quant=_quant(spec),
        data=data,
    )


def single_op_graph(
    op_type: str,
    inputs: list[TensorSpec | None],
    outputs: list[TensorSpec],
    attrs: dict | None = None,
    custom_options: bytes | None = None,
) -> Graph:
    """A graph holding one `op_type` operator.

    Inputs without data are the graph inputs (in order, named input_0, ...); constants are
    named const_<position>; a `None` input is an omitted optional input (-1). Outputs are the
    graph outputs (output_0, ...)."""
    tensors: list[Tensor] = []
    op_inputs: list[int] = []
    graph_inputs: list[int] = []
    for pos, spec in enumerate(inputs):
        if spec is None:
            op_inputs.append(-1)
            continue
        is_const = spec.data is not None
        default = f"const_{pos}" if is_const else f"input_{len(graph_inputs)}"
        tensors.append(_tensor(len(tensors), spec, default))
        op_inputs.append(len(tensors) - 1)
        if not is_const:
            graph_inputs.append(len(tensors) - 1)
    graph_outputs = []
    for pos, spec in enumerate(outputs):
        tensors.append(_tensor(len(tensors), spec, f"output_{pos}"))
        graph_outputs.append(len(tensors) - 1)
    op = Op(0, op_type, op_inputs, graph_outputs, dict(attrs or {}), custom_options)
    return Graph(
        tensors=tensors,
        ops=[op],
        inputs=graph_inputs,
        outputs=graph_outputs,
        input_names=[f"input_{i}" for i in range(len(graph_inputs))],
        output_names=[f"output_{i}" for i in range(len(graph_outputs))],
        name=op_type.lower(),
        file_inputs=list(graph_inputs),
        file_outputs=list(graph_outputs),
    )


def single_op_model(
    op_type: str,
    inputs: list[TensorSpec | None],
    outputs: list[TensorSpec],
    attrs: dict | None = None,
    custom_options: bytes | None = None,
) -> bytes:
    """`single_op_graph` serialised as .tflite bytes."""
    return write_tflite(single_op_graph(op_type, inputs, outputs, attrs, custom_options))
