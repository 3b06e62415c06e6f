"""The 16x8 branch of the conv family (int16 activations, int8 weights, int64 bias), as TFLM's
reference_integer_ops kernels for int16 inputs compute it:

* activations are symmetric (zero point 0 for input and output, so no offsets);
* the accumulator is int64: sum(filter * input) + bias;
* requantisation is the int64 MultiplyByQuantizedMultiplier (multiplier rounded to 16 bits, one
  rounding shift), result truncated to int32, then clamped to the fused activation's range;
* the multipliers come from the same double formula as the int8 kernels.

TFLM also accepts an int32 bias in 16x8 (then it accumulates in int32 with the int32 rescale);
TFLite's converter writes int64, and so does EVO, so only int64 is supported here."""
from __future__ import annotations

from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.ops.base import ConstArray, KernelCall, TensorArg
from evo.ref import fixedpoint as fx

HEADER = "conv_s16.h"


def check_16x8(g: Graph, op: Op, x, w, b, y) -> None:
    desc = f"{op.type} (operator {op.index})"
    if w.dtype != "int8":
        raise EvoError(f"{desc}: int16 activations need int8 weights, got {w.dtype}", "quantize the weights to int8 (16x8 mode)")
    if y.dtype != "int16":
        raise EvoError(f"{desc}: output type {y.dtype} differs from input type int16", "use int16 for input and output")
    if b is not None and b.dtype != "int64":
        raise EvoError(f"{desc}: {b.dtype} bias with int16 activations is not supported", "use an int64 bias (TFLite's 16x8 scheme)")
    for t, what in ((x, "input"), (w, "filter"), (y, "output")):
        if t.quant is None:
            raise EvoError(f"{desc}: the {what} tensor has no quantization parameters", "re-quantize the model")
    for t, what in ((x, "input"), (y, "output")):
        if t.quant.per_channel or int(t.quant.zero_point[0]) != 0:
            raise EvoError(f"{desc}: int16 {what} must be per-tensor with zero point 0", "quantize int16 activations symmetrically")


def accumulate_and_requant(acc: np.ndarray, b, p: dict[str, Any]) -> np.ndarray:
    """int64 accumulator [..., C] (+ bias) -> clamped int16 output."""
    if b is not None:
        acc = acc + b.astype(np.int64)
    r = fx.multiply_by_quantized_multiplier_int64(acc, p["multiplier"].astype(np.int64), p["shift"].astype(np.int64))
    return np.clip(r, p["act_min"], p["act_max"]).astype(np.int16)


def quant_params(p: dict[str, Any]) -> dict[str, Any]:
    return dict(act_min=int(p["act_min"]), act_max=int(p["act_max"]),
                multiplier=ConstArray("mult", p["multiplier"]), shift=ConstArray("shift", p["shift"]))


def geometry(p: dict[str, Any], depthwise: bool) -> dict[str, Any]:
    """The shape fields of evo_(depthwise_)conv2d_s16_params_t from a prepared convolution."""
    def dims(shape):
        return {"n": int(shape[0]), "h": int(shape[1]), "w": int(shape[2]), "c": int(shape[3])}

    geo = {"in": dims(p["in"]), "out": dims(p["out"]),
           **{k: int(p[k]) for k in ("kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")}}
    if depthwise:
        geo["depth_multiplier"] = int(p["depth_multiplier"])
    return geo


def emit(name: str, geometry: dict[str, Any], p: dict[str, Any], op: Op) -> KernelCall:
    bias = op.inputs[2] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    args = [TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(bias) if bias is not None else None, TensorArg(op.outputs[0])]
    return KernelCall(
        func=f"evo_{name}_s16",
        sources=[f"{name}_s16.c"],
        header=HEADER,
        params_type=f"evo_{name}_s16_params_t",
        params={**geometry, **quant_params(p)},
        args=args,
    )
