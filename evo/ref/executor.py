"""NumPy reference executor: runs a graph op by op with each op's `reference` method.

Used by tests, `evo verify --layers`, and calibration. Returns every tensor's value so that
intermediate tensors can be compared with TFLM and with the generated C."""
from __future__ import annotations

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph
from evo.ops.base import impl_for


def check_inputs(g: Graph, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Validate user inputs against the graph's inputs; returns them as contiguous arrays."""
    if len(inputs) != len(g.inputs):
        raise EvoError(f"the model takes {len(g.inputs)} input(s) but {len(inputs)} were given", "pass one array per model input")
    out = []
    for name, t, x in zip(g.input_names, (g.tensor(i) for i in g.inputs), inputs):
        x = np.asarray(x)
        if x.dtype != np.dtype(t.np_dtype):
            raise EvoError(
                f"input {name} is {x.dtype} but the model expects {t.dtype}",
                f"convert it, e.g. with quantization scale={t.quant.scalar_scale:.6g} zero_point={t.quant.scalar_zero_point}"
                if t.quant is not None
                else f"cast it to {t.dtype}",
            )
        if x.size != t.size:
            raise EvoError(f"input {name} has shape {list(x.shape)} but the model expects {list(t.shape)}", "reshape or resize the input")
        out.append(np.ascontiguousarray(x.reshape(t.shape)))
    return out


def run(g: Graph, inputs: list[np.ndarray]) -> dict[int, np.ndarray]:
    """Execute `g`; returns {tensor index: value} for inputs, constants and every op output."""
    values: dict[int, np.ndarray] = {}
    for t in g.tensors:
        if t.is_const:
            values[t.index] = t.data
    for t, x in zip(g.inputs, check_inputs(g, inputs)):
        values[t] = x
    for op in g.ops:
        impl = impl_for(op)
        p = impl.prepare(g, op)
        args = [values[i] if i >= 0 else None for i in op.inputs]
        outs = impl.reference(g, op, p, args)
        for t, v in zip(op.outputs, outs):
            tensor = g.tensor(t)
            values[t] = np.asarray(v).astype(tensor.np_dtype, copy=False).reshape(tensor.shape)
    return values


def outputs(g: Graph, values: dict[int, np.ndarray]) -> list[np.ndarray]:
    return [values[t] for t in g.outputs]
