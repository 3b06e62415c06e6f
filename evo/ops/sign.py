"""SIGN (float32): -1, 0 or +1 per element (NaN -> 0, as TFLite's `(0 < x) - (x < 0)`).

The stock TensorFlow converter turns Larq's `ste_sign` into SIGN ops (see evo/passes/binarize.py,
which replaces the binary layers around them with bit-packed kernels); this op lets any SIGN the
pass leaves in place run as written, including the int8 form DEQUANTIZE -> SIGN -> QUANTIZE."""
from __future__ import annotations

from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.ops.base import KernelCall, OpImpl, TensorArg, register


@register
class Sign(OpImpl):
    types = ("SIGN",)
    inplace_inputs = (0,)  # out[i] = f(in[i]), i ascending

    def check(self, g: Graph, op: Op) -> None:
        if len(op.inputs) < 1 or op.inputs[0] < 0 or len(op.outputs) != 1:
            raise EvoError(f"SIGN (operator {op.index}) needs one input and one output", "re-export the model")
        x, y = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        if x.dtype != "float32" or y.dtype != "float32":
            raise EvoError(f"SIGN (operator {op.index}) with {x.dtype} tensors is not supported", "use float32 (int8 models keep SIGN between DEQUANTIZE and QUANTIZE)")
        if x.size != y.size:
            raise EvoError(f"SIGN (operator {op.index}): output shape {list(y.shape)} does not match input {list(x.shape)}", "re-export the model")

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        return {"size": g.tensor(op.inputs[0]).size}

    def reference(self, g, op, p, inputs):
        x = inputs[0]
        return [((x > 0).astype(np.float32) - (x < 0).astype(np.float32)).astype(np.float32)]

    def emit(self, g, op, p):
        return KernelCall(func="evo_sign_f32", sources=["sign_f32.c"], header="bnn.h", params_type="evo_sign_params_t",
                          params={"size": p["size"]}, args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])])
