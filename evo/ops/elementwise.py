"""Element-wise operators: ADD, SUB, MUL, MAXIMUM, MINIMUM (with broadcasting), QUANTIZE, DEQUANTIZE.

Every derived number is computed the way TFLite Micro's Prepare computes it:

* ADD (int8): `left_shift` = 20; the two input multipliers are scale_i / (2 * max input scale)
  and the output multiplier is 2 * max input scale / (2^20 * output scale), all in DOUBLE
  arithmetic, each through QuantizeMultiplierSmallerThanOneExp.
* SUB (int8): the same scheme and the same double arithmetic. (Some TFLM sources of
  sub_common.cc compute the ratios in float32 and widen them afterwards; the TFLM build EVO is
  checked against uses double: exhaustive 256x256 input sweeps matched double on all 55 random
  scale sets tried, while float missed 2 of 15.)
* MUL (int8): one multiplier for in1_scale * in2_scale / out_scale (double), QuantizeMultiplier
  (it may exceed one: positive shift).
* MAXIMUM / MINIMUM compare the stored values (TFLM has no Prepare for them), so EVO requires the
  inputs and the output to share one quantization.
* QUANTIZE float32 -> int8/int16: q = zero_point + round_half_away(float32(x) / float32(scale)),
  saturated. int8/int16 -> int8/int16: TFLM's Requantize with QuantizeMultiplier(double
  in_scale / out_scale).
* DEQUANTIZE int8/int16 -> float32: float32(double(scale) * (q - zero_point)).

Broadcasting follows NumPy/TFLite rules for up to 6 dimensions. The shapes are reduced in Python
(size-1 output dimensions dropped, dimensions that are contiguous in every operand merged) to
at most EVO_EW_MAX_DIMS extents plus per-input element strides (0 on broadcast dimensions), so
the C kernels walk the output once with running input offsets.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.ops.base import KernelCall, OpImpl, TensorArg, register
from evo.ref import fixedpoint as fx

MAX_DIMS = 6  # EVO_EW_MAX_DIMS in kernels_c/include/evo/elementwise.h
HEADER = "elementwise.h"
DTYPE_SUFFIX = {"int8": "s8", "int16": "s16", "float32": "f32"}


# --------------------------------------------------------------------------------------------
# Broadcasting
# --------------------------------------------------------------------------------------------


def broadcast_layout(shape1: tuple[int, ...], shape2: tuple[int, ...], out_shape: tuple[int, ...]) -> dict[str, list[int]]:
    """Reduced iteration space of a broadcasting binary op.

    Returns {'shape': [MAX_DIMS extents, outermost first], 'stride1': [...], 'stride2': [...]}
    where stride_k is the element stride of input k along that dimension (0 = broadcast)."""
    rank = max(len(shape1), len(shape2), len(out_shape))
    if rank > MAX_DIMS:
        raise EvoError(f"element-wise operands of rank {rank} are not supported", f"use at most {MAX_DIMS} dimensions")
    s1 = (1,) * (rank - len(shape1)) + tuple(shape1)
    s2 = (1,) * (rank - len(shape2)) + tuple(shape2)
    so = (1,) * (rank - len(out_shape)) + tuple(out_shape)
    for a, b, o in zip(s1, s2, so):
        if a not in (1, o) or b not in (1, o) or max(a, b) != o:
            raise EvoError(
                f"shapes {list(shape1)} and {list(shape2)} do not broadcast to {list(out_shape)}",
                "fix the model's tensor shapes",
            )

    def strides(shape):
        st = [0] * rank
        acc = 1
        for d in range(rank - 1, -1, -1):
            st[d] = acc if shape[d] != 1 else 0
            acc *= shape[d]
        return st

    st1, st2 = strides(s1), strides(s2)
    # drop size-1 output dimensions, then merge neighbours that are contiguous in both inputs
    dims = [(so[d], st1[d], st2[d]) for d in range(rank) if so[d] != 1]
    merged: list[tuple[int, int, int]] = []
    for ext, a, b in dims:
        if merged:
            pe, pa, pb = merged[-1]
            if pa == a * ext and pb == b * ext:
                merged[-1] = (pe * ext, a, b)
                continue
        merged.append((ext, a, b))
    pad = [(1, 0, 0)] * (MAX_DIMS - len(merged))
    full = pad + merged
    return {
        "shape": [e for e, _, _ in full],
        "stride1": [a for _, a, _ in full],
        "stride2": [b for _, _, b in full],
    }


def _bcast_params(g: Graph, op: Op) -> dict[str, list[int]]:
    t1, t2, to = (g.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    return broadcast_layout(t1.shape, t2.shape, to.shape)


def _broadcast_pair(g: Graph, op: Op, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out_shape = g.tensor(op.outputs[0]).shape
    a = np.asarray(a).reshape(g.tensor(op.inputs[0]).shape)
    b = np.asarray(b).reshape(g.tensor(op.inputs[1]).shape)
    return np.broadcast_to(a, out_shape), np.broadcast_to(b, out_shape)


# --------------------------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------------------------


def _per_tensor(g: Graph, index: int, what: str) -> tuple[float, int]:
    t = g.tensor(index)
    if t.quant is None:
        raise EvoError(f"{what} tensor {t.name} ({t.dtype}) has no quantization parameters", "quantize the model fully (int8)")
    if t.quant.per_channel:
        raise EvoError(f"{what} tensor {t.name} is quantized per channel", "use per-tensor quantization for element-wise operators")
    scale = t.quant.scalar_scale
    if not (scale > 0.0 and np.isfinite(scale)):
        raise EvoError(f"{what} tensor {t.name} has scale {scale}", "quantization scales must be positive and finite")
    return scale, t.quant.scalar_zero_point


def _activation(op: Op) -> str:
    return op.attrs.get("fused_activation_function", "NONE") or "NONE"


def _check_binary(g: Graph, op: Op, dtypes: tuple[str, ...], quantized: bool = True) -> str:
    if len(op.inputs) != 2 or len(op.outputs) != 1 or min(op.inputs) < 0:
        raise EvoError(f"{op.type} needs two inputs and one output", "fix the model")
    t1, t2, to = (g.tensor(i) for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if not (t1.dtype == t2.dtype == to.dtype):
        raise EvoError(
            f"{op.type} with {t1.dtype}/{t2.dtype} inputs and a {to.dtype} output is not supported",
            "use the same type for both inputs and the output",
        )
    if to.dtype not in dtypes:
        raise EvoError(f"{op.type} on {to.dtype} is not supported", f"EVO runs {op.type} on {' and '.join(dtypes)}")
    if to.size == 0:
        raise EvoError(f"{op.type} has an empty output {list(to.shape)}", "remove the operator")
    broadcast_layout(t1.shape, t2.shape, to.shape)
    act = _activation(op)
    if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise EvoError(f"{op.type} with fused activation {act} is not supported", "use NONE, RELU, RELU6 or RELU_N1_TO_1")
    if quantized and to.dtype != "float32":
        for i, what in ((op.inputs[0], "input 1"), (op.inputs[1], "input 2"), (op.outputs[0], "output")):
            _per_tensor(g, i, f"{op.type} {what}")
    return to.dtype


def _out_size(g: Graph, op: Op) -> int:
    return g.tensor(op.outputs[0]).size


# --------------------------------------------------------------------------------------------
# ADD / SUB
# --------------------------------------------------------------------------------------------


def _emit_binary(op: Op, p: dict[str, Any], name: str, s8_params_type: str, s8_keys: list[str]) -> KernelCall:
    """Call of evo_<name>_<s8|f32>(params, in1, in2, out): float32 takes the bcast layout and the
    activation range, int8 the bcast layout and the int fields `s8_keys` of `p`."""
    args = [TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(op.outputs[0])]
    if p["dtype"] == "float32":
        params = {"bcast": p["bcast"], "act_min": float(p["act_min"]), "act_max": float(p["act_max"])}
        ptype = "evo_binary_f32_params_t"
    else:
        params = {"bcast": p["bcast"], **{k: int(p[k]) for k in s8_keys}}
        ptype = s8_params_type
    name = f"{name}_{DTYPE_SUFFIX[p['dtype']]}"
    return KernelCall(func=f"evo_{name}", sources=[f"{name}.c"], header=HEADER, params_type=ptype, params=params, args=args)


def _addsub_multipliers(s1: float, s2: float, so: float, left_shift: int) -> tuple[float, float, float]:
    """add_common.cc: double arithmetic throughout."""
    twice = 2.0 * float(max(np.float32(s1), np.float32(s2)))
    return s1 / twice, s2 / twice, twice / (float(1 << left_shift) * so)


def _check_symmetric(g: Graph, op: Op) -> None:
    """16x8 element-wise ops: TFLM's int16 paths assume zero points 0."""
    for i in (op.inputs[0], op.inputs[1], op.outputs[0]):
        if g.tensor(i).quant.scalar_zero_point != 0:
            raise EvoError(f"int16 {op.type} needs zero points 0 (symmetric int16)", "quantize int16 tensors symmetrically")


def _left_shift(dtype: str) -> int:
    """add_common.cc / sub_common.cc: inputs are scaled up by 2^20 for int8, 2^15 for int16."""
    return 15 if dtype == "int16" else 20


class _AddSub(OpImpl):
    inplace_inputs = (0, 1)  # EVO_BCAST_APPLY: reads element i of each input, then writes out[i]
    sign = 1  # +1 ADD, -1 SUB
    c_name = ""

    def _reals(self, g: Graph, op: Op) -> tuple[float, float, float, int, int, int]:
        s1, z1 = _per_tensor(g, op.inputs[0], f"{op.type} input 1")
        s2, z2 = _per_tensor(g, op.inputs[1], f"{op.type} input 2")
        so, zo = _per_tensor(g, op.outputs[0], f"{op.type} output")
        r1, r2, ro = _addsub_multipliers(s1, s2, so, _left_shift(g.tensor(op.outputs[0]).dtype))
        return r1, r2, ro, z1, z2, zo

    def check(self, g: Graph, op: Op) -> None:
        dtype = _check_binary(g, op, ("int8", "int16", "float32"))
        if dtype == "int16":
            _check_symmetric(g, op)
        if dtype in ("int8", "int16"):
            r1, r2, ro, *_ = self._reals(g, op)
            if not (0.0 < ro < 1.0) or not (0.0 < r1 < 1.0) or not (0.0 < r2 < 1.0):
                raise EvoError(
                    f"{op.type}: the output scale is too small for the input scales (rescale factor {ro:.3g} >= 1)",
                    "requantize the model; TFLM rejects this too",
                )

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        to = g.tensor(op.outputs[0])
        p: dict[str, Any] = {"dtype": to.dtype, "bcast": _bcast_params(g, op)}
        act = _activation(op)
        if to.dtype == "float32":
            p["act_min"], p["act_max"] = fx.activation_range_float(act)
            return p
        r1, r2, ro, z1, z2, zo = self._reals(g, op)
        m1, sh1 = fx.quantize_multiplier_smaller_than_one_exp(r1)
        m2, sh2 = fx.quantize_multiplier_smaller_than_one_exp(r2)
        mo, sho = fx.quantize_multiplier_smaller_than_one_exp(ro)
        lo, hi = fx.activation_range_quantized(act, to.dtype, to.quant.scalar_scale, zo)
        p.update(
            input1_offset=-z1, input2_offset=-z2, output_offset=zo, left_shift=_left_shift(to.dtype),
            input1_multiplier=m1, input1_shift=sh1,
            input2_multiplier=m2, input2_shift=sh2,
            output_multiplier=mo, output_shift=sho,
            act_min=lo, act_max=hi,
        )
        return p

    def reference(self, g, op, p, inputs):
        a, b = _broadcast_pair(g, op, inputs[0], inputs[1])
        if p["dtype"] == "float32":
            a = a.astype(np.float32)
            b = b.astype(np.float32)
            r = a + b if self.sign > 0 else a - b
            return [np.minimum(np.maximum(r, np.float32(p["act_min"])), np.float32(p["act_max"])).astype(np.float32)]
        x1 = (a.astype(np.int64) + p["input1_offset"]) * (1 << p["left_shift"])
        x2 = (b.astype(np.int64) + p["input2_offset"]) * (1 << p["left_shift"])
        y1 = fx.multiply_by_quantized_multiplier_smaller_than_one_exp(x1, p["input1_multiplier"], p["input1_shift"])
        y2 = fx.multiply_by_quantized_multiplier_smaller_than_one_exp(x2, p["input2_multiplier"], p["input2_shift"])
        raw = fx.wrap_int32(y1 + y2 if self.sign > 0 else y1 - y2)
        out = fx.multiply_by_quantized_multiplier_smaller_than_one_exp(raw, p["output_multiplier"], p["output_shift"])
        out = out + p["output_offset"]
        return [np.clip(out, p["act_min"], p["act_max"]).astype(np.int16 if p["dtype"] == "int16" else np.int8)]

    def emit(self, g, op, p):
        keys = ["input1_offset", "input2_offset", "output_offset", "left_shift",
                "input1_multiplier", "input1_shift", "input2_multiplier", "input2_shift",
                "output_multiplier", "output_shift", "act_min", "act_max"]
        return _emit_binary(op, p, self.c_name, "evo_addsub_s8_params_t", keys)


@register
class Add(_AddSub):
    types = ("ADD",)
    sign = 1
    c_name = "add"

    def specialise(self, g, op, p, call, target):
        from evo.ops.elementwise_dsp import specialise_add  # DSP-core table kernel (same-shape int8)

        return specialise_add(g, op, p, call, target)


@register
class Sub(_AddSub):
    types = ("SUB",)
    sign = -1
    c_name = "sub"


# --------------------------------------------------------------------------------------------
# MUL
# --------------------------------------------------------------------------------------------


@register
class Mul(OpImpl):
    types = ("MUL",)
    inplace_inputs = (0, 1)  # EVO_BCAST_APPLY walk

    def check(self, g: Graph, op: Op) -> None:
        if _check_binary(g, op, ("int8", "int16", "float32")) == "int16":
            _check_symmetric(g, op)

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        to = g.tensor(op.outputs[0])
        p: dict[str, Any] = {"dtype": to.dtype, "bcast": _bcast_params(g, op)}
        act = _activation(op)
        if to.dtype == "float32":
            p["act_min"], p["act_max"] = fx.activation_range_float(act)
            return p
        s1, z1 = _per_tensor(g, op.inputs[0], "MUL input 1")
        s2, z2 = _per_tensor(g, op.inputs[1], "MUL input 2")
        so, zo = _per_tensor(g, op.outputs[0], "MUL output")
        m, sh = fx.quantize_multiplier(float(s1) * float(s2) / float(so))
        lo, hi = fx.activation_range_quantized(act, to.dtype, so, zo)
        p.update(input1_offset=-z1, input2_offset=-z2, output_offset=zo,
                 output_multiplier=m, output_shift=sh, act_min=lo, act_max=hi)
        return p

    def reference(self, g, op, p, inputs):
        a, b = _broadcast_pair(g, op, inputs[0], inputs[1])
        if p["dtype"] == "float32":
            r = a.astype(np.float32) * b.astype(np.float32)
            return [np.minimum(np.maximum(r, np.float32(p["act_min"])), np.float32(p["act_max"])).astype(np.float32)]
        prod = (a.astype(np.int64) + p["input1_offset"]) * (b.astype(np.int64) + p["input2_offset"])
        out = fx.wrap_int32(fx.multiply_by_quantized_multiplier(prod, p["output_multiplier"], p["output_shift"]) + p["output_offset"])
        return [np.clip(out, p["act_min"], p["act_max"]).astype(np.int16 if p["dtype"] == "int16" else np.int8)]

    def emit(self, g, op, p):
        keys = ["input1_offset", "input2_offset", "output_offset", "output_multiplier", "output_shift", "act_min", "act_max"]
        return _emit_binary(op, p, "mul", "evo_mul_s8_params_t", keys)

    def specialise(self, g, op, p, call, target):
        from evo.ops.elementwise_dsp import specialise_mul  # DSP-core kernel (same-shape int8)

        return specialise_mul(g, op, p, call, target)

    def macs(self, g: Graph, op: Op) -> int:
        return _out_size(g, op)


# --------------------------------------------------------------------------------------------
# MAXIMUM / MINIMUM
# --------------------------------------------------------------------------------------------


class _MaxMin(OpImpl):
    inplace_inputs = (0, 1)  # EVO_BCAST_APPLY walk
    c_name = ""

    def check(self, g: Graph, op: Op) -> None:
        dtype = _check_binary(g, op, ("int8", "float32"), quantized=False)
        if dtype == "int8":
            q = [_per_tensor(g, i, f"{op.type} tensor") for i in (op.inputs[0], op.inputs[1], op.outputs[0])]
            if not (np.float32(q[0][0]) == np.float32(q[1][0]) == np.float32(q[2][0]) and q[0][1] == q[1][1] == q[2][1]):
                raise EvoError(
                    f"{op.type} with different quantization on its inputs and output is not supported",
                    "TFLM compares the stored int8 values; give both inputs and the output the same scale and zero point",
                )

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        return {"dtype": g.tensor(op.outputs[0]).dtype, "bcast": _bcast_params(g, op)}

    def _pick(self, a, b):
        raise NotImplementedError

    def reference(self, g, op, p, inputs):
        a, b = _broadcast_pair(g, op, inputs[0], inputs[1])
        return [self._pick(a, b).astype(a.dtype)]

    def emit(self, g, op, p):
        sfx = DTYPE_SUFFIX[p["dtype"]]
        name = f"{self.c_name}_{sfx}"
        return KernelCall(
            func=f"evo_{name}", sources=[f"{name}.c"], header=HEADER, params_type="evo_maxmin_params_t",
            params={"bcast": p["bcast"]},
            args=[TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(op.outputs[0])],
        )


@register
class Maximum(_MaxMin):
    types = ("MAXIMUM",)
    c_name = "maximum"

    def _pick(self, a, b):
        return np.where(a > b, a, b)  # el1 > el2 ? el1 : el2


@register
class Minimum(_MaxMin):
    types = ("MINIMUM",)
    c_name = "minimum"

    def _pick(self, a, b):
        return np.where(a < b, a, b)  # el1 < el2 ? el1 : el2


# --------------------------------------------------------------------------------------------
# QUANTIZE / DEQUANTIZE
# --------------------------------------------------------------------------------------------

# Rounded quotients beyond this magnitude saturate whatever the zero point (|zp| <= 2^16).
_QUANT_LIMIT = float(1 << 20)


def round_half_away_f32(v: np.ndarray) -> np.ndarray:
    """roundf on float32 values (ties away from zero), computed exactly in float64."""
    v64 = np.asarray(v, dtype=np.float32).astype(np.float64)
    return np.sign(v64) * np.floor(np.abs(v64) + 0.5)


@register
class Quantize(OpImpl):
    types = ("QUANTIZE",)
    inplace_inputs = (0,)  # quantize_*/requantize_*: out[i] = f(in[i]), i ascending
    SUPPORTED = {("float32", "int8"), ("float32", "int16"), ("int8", "int8"), ("int8", "int16"), ("int16", "int8"), ("int16", "int16")}

    def check(self, g: Graph, op: Op) -> None:
        ti, to = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        if (ti.dtype, to.dtype) not in self.SUPPORTED:
            raise EvoError(
                f"QUANTIZE from {ti.dtype} to {to.dtype} is not supported",
                "EVO quantizes float32 to int8/int16 and requantizes between int8 and int16",
            )
        if ti.size != to.size:
            raise EvoError(f"QUANTIZE input {list(ti.shape)} and output {list(to.shape)} differ in size", "fix the model")
        _per_tensor(g, op.outputs[0], "QUANTIZE output")
        if ti.dtype != "float32":
            _per_tensor(g, op.inputs[0], "QUANTIZE input")

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        ti, to = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        so, zo = _per_tensor(g, op.outputs[0], "QUANTIZE output")
        qmin, qmax = fx.DTYPE_RANGE[to.dtype]
        p: dict[str, Any] = {"in_dtype": ti.dtype, "out_dtype": to.dtype, "size": to.size,
                             "output_zero_point": zo, "qmin": qmin, "qmax": qmax}
        if ti.dtype == "float32":
            p["scale"] = float(np.float32(so))
            return p
        si, zi = _per_tensor(g, op.inputs[0], "QUANTIZE input")
        m, sh = fx.quantize_multiplier(float(si) / float(so))
        p.update(input_zero_point=zi, multiplier=m, shift=sh)
        return p

    def reference(self, g, op, p, inputs):
        x = np.asarray(inputs[0]).reshape(-1)
        odt = np.int8 if p["out_dtype"] == "int8" else np.int16
        if p["in_dtype"] == "float32":
            with np.errstate(over="ignore", invalid="ignore"):
                q = np.asarray(x, dtype=np.float32) / np.float32(p["scale"])
            q = np.where(np.isnan(q), np.float32(0), q)
            q = np.clip(q, -_QUANT_LIMIT, _QUANT_LIMIT)
            r = round_half_away_f32(q).astype(np.int64) + p["output_zero_point"]
        else:
            d = x.astype(np.int64) - p["input_zero_point"]
            r = fx.wrap_int32(fx.multiply_by_quantized_multiplier(d, p["multiplier"], p["shift"]) + p["output_zero_point"])
        return [np.clip(r, p["qmin"], p["qmax"]).astype(odt)]

    def emit(self, g, op, p):
        args = [TensorArg(op.inputs[0]), TensorArg(op.outputs[0])]
        out = DTYPE_SUFFIX[p["out_dtype"]]
        if p["in_dtype"] == "float32":
            return KernelCall(
                func=f"evo_quantize_{out}", sources=[f"quantize_{out}.c"], header=HEADER,
                params_type="evo_quantize_params_t",
                params={"size": int(p["size"]), "scale": float(p["scale"]), "output_zero_point": int(p["output_zero_point"])},
                args=args,
            )
        inp = DTYPE_SUFFIX[p["in_dtype"]]
        name = f"requantize_{inp}_{out}"
        return KernelCall(
            func=f"evo_{name}", sources=[f"{name}.c"], header=HEADER, params_type="evo_requantize_params_t",
            params={"size": int(p["size"]), "input_zero_point": int(p["input_zero_point"]),
                    "output_zero_point": int(p["output_zero_point"]),
                    "multiplier": int(p["multiplier"]), "shift": int(p["shift"])},
            args=args,
        )


@register
class Dequantize(OpImpl):
    types = ("DEQUANTIZE",)
    inplace_inputs = (0,)  # out[i] = f(in[i]), i ascending

    def check(self, g: Graph, op: Op) -> None:
        ti, to = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        if ti.dtype not in ("int8", "int16") or to.dtype != "float32":
            raise EvoError(f"DEQUANTIZE from {ti.dtype} to {to.dtype} is not supported", "EVO dequantizes int8 or int16 to float32")
        if ti.size != to.size:
            raise EvoError(f"DEQUANTIZE input {list(ti.shape)} and output {list(to.shape)} differ in size", "fix the model")
        _per_tensor(g, op.inputs[0], "DEQUANTIZE input")

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        ti = g.tensor(op.inputs[0])
        s, z = _per_tensor(g, op.inputs[0], "DEQUANTIZE input")
        return {"in_dtype": ti.dtype, "size": ti.size, "scale": float(np.float32(s)), "zero_point": z}

    def reference(self, g, op, p, inputs):
        x = np.asarray(inputs[0]).reshape(-1).astype(np.int64) - p["zero_point"]
        # TFLM: static_cast<float>(double scale * (q - zp)); the product is exact in double.
        return [(np.float64(p["scale"]) * x.astype(np.float64)).astype(np.float32)]

    def emit(self, g, op, p):
        inp = DTYPE_SUFFIX[p["in_dtype"]]
        return KernelCall(
            func=f"evo_dequantize_{inp}", sources=[f"dequantize_{inp}.c"], header=HEADER,
            params_type="evo_dequantize_params_t",
            params={"size": int(p["size"]), "scale": float(p["scale"]), "zero_point": int(p["zero_point"])},
            args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
        )
