"""Pooling and spatial reductions: AVERAGE_POOL_2D, MAX_POOL_2D, MEAN.

Arithmetic follows TFLite Micro's reference kernels:

* Pools: padding from ComputePaddingHeightWidth (dilation 1). The int8 average divides the raw
  window sum (no zero-point correction; TFLM requires input and output quantization to match)
  by the number of non-padded elements, rounding half away from zero with C integer division,
  then clamps to the fused activation's range. Float averages are sequential float32 sums
  divided by the float count.
* MEAN int8: current TFLM always takes QuantizedMeanOrSum (older releases truncated sum / count
  when input and output quantization were identical; the installed oracle rounds): the
  input/output scale ratio from QuantizeMultiplier (double) has 1/count folded into it
  (multiplier << floor(log2 count), integer-divided by count), then (sum - zp_in * count) is
  requantised, offset by zp_out and clamped to int8.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.ops.base import KernelCall, OpImpl, TensorArg, register
from evo.ref import fixedpoint as fx
from evo.target import Target

_SUPPORTED = ("int8", "float32")
_SUFFIX = {"int8": "s8", "int16": "s16", "float32": "f32"}
_POOL_TYPES = ("int8", "int16", "float32")  # pools also run 16x8 models (symmetric int16)


def _dtype_check(op: Op, dtype: str) -> None:
    if dtype not in _SUPPORTED:
        raise EvoError(f"{op.type} with {dtype} tensors is not supported", "use int8 or float32")


def _quant_check(g: Graph, op: Op, index: int, what: str) -> None:
    q = g.tensor(index).quant
    if q is None or q.scale.size == 0:
        raise EvoError(f"{op.type}: int8 {what} tensor {g.tensor(index).name} has no quantization", "quantize the model fully")
    if q.per_channel:
        raise EvoError(f"{op.type}: per-channel quantization of the {what} is not supported", "use per-tensor quantization")


# --------------------------------------------------------------------------------------------
# Pools
# --------------------------------------------------------------------------------------------


def compute_out_size(padding: str, size: int, filter_size: int, stride: int) -> int:
    """TFLM ComputeOutSize with dilation 1."""
    if stride == 0:
        return 0
    if padding == "SAME":
        return (size + stride - 1) // stride
    if padding == "VALID":
        return (size + stride - filter_size) // stride
    return 0


def compute_padding(stride: int, size: int, filter_size: int, out_size: int) -> int:
    """TFLM ComputePadding with dilation 1 (C division truncates toward zero)."""
    total = (out_size - 1) * stride + filter_size - size
    pad = int(total / 2) if total < 0 else total // 2
    return max(pad, 0)


def _windows(p: dict[str, Any]):
    """(out_y, out_x, y0, y1, x0, x1): the clamped input window of every output position."""
    for oy in range(p["out_h"]):
        y_origin = oy * p["stride_h"] - p["pad_h"]
        y0 = max(0, -y_origin) + y_origin
        y1 = min(p["filter_h"], p["in_h"] - y_origin) + y_origin
        for ox in range(p["out_w"]):
            x_origin = ox * p["stride_w"] - p["pad_w"]
            x0 = max(0, -x_origin) + x_origin
            x1 = min(p["filter_w"], p["in_w"] - x_origin) + x_origin
            yield oy, ox, y0, y1, x0, x1


class _Pool2D(OpImpl):
    kind = ""  # 'avg' or 'max'

    def check(self, g: Graph, op: Op) -> None:
        x, y = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        if x.dtype not in _POOL_TYPES:
            raise EvoError(f"{op.type} with {x.dtype} tensors is not supported", "use int8, int16 or float32")
        if y.dtype != x.dtype:
            raise EvoError(f"{op.type} with {x.dtype} input and {y.dtype} output is not supported", "use the same type for both")
        if len(x.shape) != 4 or len(y.shape) != 4:
            raise EvoError(f"{op.type} needs 4-D NHWC tensors, got input {list(x.shape)}", "reshape to NHWC")
        a = op.attrs
        padding = a.get("padding", "SAME")
        if padding not in ("SAME", "VALID"):
            raise EvoError(f"{op.type} padding {padding} is not supported", "use SAME or VALID")
        for k in ("stride_h", "stride_w", "filter_height", "filter_width"):
            if int(a.get(k, 1)) < 1:
                raise EvoError(f"{op.type} has {k}={a.get(k)}", f"{k} must be at least 1")
        act = a.get("fused_activation_function", "NONE")
        if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            raise EvoError(f"{op.type} with fused activation {act} is not supported", "use NONE, RELU, RELU6 or RELU_N1_TO_1")
        oh = compute_out_size(padding, x.shape[1], int(a.get("filter_height", 1)), int(a.get("stride_h", 1)))
        ow = compute_out_size(padding, x.shape[2], int(a.get("filter_width", 1)), int(a.get("stride_w", 1)))
        if oh < 1 or ow < 1:
            raise EvoError(f"{op.type}: the filter is larger than the {list(x.shape)} input with VALID padding", "use SAME padding or a smaller filter")
        if (y.shape[0], y.shape[1], y.shape[2], y.shape[3]) != (x.shape[0], oh, ow, x.shape[3]):
            raise EvoError(
                f"{op.type}: output shape {list(y.shape)} does not match the computed {[x.shape[0], oh, ow, x.shape[3]]}",
                "re-export the model",
            )
        if x.dtype in ("int8", "int16"):
            _quant_check(g, op, op.inputs[0], "input")
            _quant_check(g, op, op.outputs[0], "output")
            qi, qo = x.quant, y.quant
            # TFLM's Prepare rejects pools whose input and output quantization differ.
            if abs(float(qi.scale[0]) - float(qo.scale[0])) > 1.0e-6 or qi.scalar_zero_point != qo.scalar_zero_point:
                raise EvoError(
                    f"{x.dtype} {op.type} with different input and output quantization is not supported (TFLM rejects it too)",
                    "give the pool's output the input's scale and zero point",
                )

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, y = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        a = op.attrs
        padding = a.get("padding", "SAME")
        sh, sw = int(a.get("stride_h", 1)), int(a.get("stride_w", 1))
        fh, fw = int(a.get("filter_height", 1)), int(a.get("filter_width", 1))
        n, ih, iw, c = x.shape
        oh = compute_out_size(padding, ih, fh, sh)
        ow = compute_out_size(padding, iw, fw, sw)
        p: dict[str, Any] = dict(
            n=n, in_h=ih, in_w=iw, c=c, out_h=oh, out_w=ow, stride_h=sh, stride_w=sw,
            filter_h=fh, filter_w=fw, pad_h=compute_padding(sh, ih, fh, oh), pad_w=compute_padding(sw, iw, fw, ow),
        )
        act = a.get("fused_activation_function", "NONE")
        if x.dtype in ("int8", "int16"):
            p["act_min"], p["act_max"] = fx.activation_range_quantized(act, x.dtype, y.quant.scalar_scale, y.quant.scalar_zero_point)
            p["act_min_f"], p["act_max_f"] = 0.0, 0.0
        else:
            p["act_min"], p["act_max"] = 0, 0
            p["act_min_f"], p["act_max_f"] = fx.activation_range_float(act)
        return p

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        suffix = _SUFFIX[g.tensor(op.inputs[0]).dtype]
        name = f"{self.kind}_pool2d"
        return KernelCall(
            func=f"evo_{name}_{suffix}",
            sources=[f"{name}_{suffix}.c"],
            header="pool.h",
            params_type=f"evo_{name}_params_t",
            params=pool_params(p),
            args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
        )

    def macs(self, g: Graph, op: Op) -> int:
        y = g.tensor(op.outputs[0])
        a = op.attrs
        return y.size * int(a.get("filter_height", 1)) * int(a.get("filter_width", 1))


def pool_params(p: dict[str, Any]) -> dict[str, Any]:
    """The C parameter struct (evo_pool2d_params_t) of a prepared pool."""
    return {
        "in": {"n": p["n"], "h": p["in_h"], "w": p["in_w"], "c": p["c"]},
        "out": {"n": p["n"], "h": p["out_h"], "w": p["out_w"], "c": p["c"]},
        "stride_h": p["stride_h"],
        "stride_w": p["stride_w"],
        "filter_h": p["filter_h"],
        "filter_w": p["filter_w"],
        "pad_h": p["pad_h"],
        "pad_w": p["pad_w"],
        "act_min": int(p["act_min"]),
        "act_max": int(p["act_max"]),
        "act_min_f": float(p["act_min_f"]),
        "act_max_f": float(p["act_max_f"]),
    }


@register
class AveragePool2D(_Pool2D):
    types = ("AVERAGE_POOL_2D",)
    kind = "avg"

    def specialise(self, g: Graph, op: Op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
        # int16-lane window sums are exact up to 255 elements (evo/pool_fast.h)
        if target.has_dsp and g.tensor(op.inputs[0]).dtype == "int8" and p["filter_h"] * p["filter_w"] <= 255:
            return replace(call, func="evo_avg_pool2d_s8_simd", sources=["avg_pool2d_s8_simd.c"], header="pool_fast.h")
        return call

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        x = inputs[0]
        n, c = p["n"], p["c"]
        if x.dtype in (np.int8, np.int16):
            out = np.empty((n, p["out_h"], p["out_w"], c), dtype=x.dtype)
            xi = x.astype(np.int64)
            for oy, ox, y0, y1, x0, x1 in _windows(p):
                cnt = (y1 - y0) * (x1 - x0)
                acc = xi[:, y0:y1, x0:x1, :].sum(axis=(1, 2))
                half = cnt // 2
                # C division truncates toward zero: round half away from zero
                pos = (acc + half) // cnt
                neg = -((half - acc) // cnt)
                r = np.where(acc > 0, pos, neg)
                out[:, oy, ox, :] = np.clip(r, p["act_min"], p["act_max"]).astype(x.dtype)
            return [out]
        out = np.empty((n, p["out_h"], p["out_w"], c), dtype=np.float32)
        lo, hi = np.float32(p["act_min_f"]), np.float32(p["act_max_f"])
        for oy, ox, y0, y1, x0, x1 in _windows(p):
            win = x[:, y0:y1, x0:x1, :].reshape(n, -1, c)
            total = np.zeros((n, c), dtype=np.float32)
            for k in range(win.shape[1]):  # sequential, in TFLM's order
                total = total + win[:, k, :]
            avg = total / np.float32(win.shape[1])
            out[:, oy, ox, :] = np.minimum(np.maximum(avg, lo), hi)
        return [out]


@register
class MaxPool2D(_Pool2D):
    types = ("MAX_POOL_2D",)
    kind = "max"

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        x = inputs[0]
        n, c = p["n"], p["c"]
        out = np.empty((n, p["out_h"], p["out_w"], c), dtype=x.dtype)
        if x.dtype in (np.int8, np.int16):
            lo, hi = p["act_min"], p["act_max"]
        else:
            lo, hi = np.float32(p["act_min_f"]), np.float32(p["act_max_f"])
        for oy, ox, y0, y1, x0, x1 in _windows(p):
            m = x[:, y0:y1, x0:x1, :].max(axis=(1, 2))
            out[:, oy, ox, :] = np.minimum(np.maximum(m, lo), hi)
        return [out]


# --------------------------------------------------------------------------------------------
# MEAN
# --------------------------------------------------------------------------------------------

MEAN_REQUANT = 1  # int8: QuantizedMeanOrSum
MEAN_FLOAT = 2


def _resolve_axes(rank: int, axes) -> list[int]:
    """TFLM ResolveAxis: negative axes wrap, duplicates are dropped (first occurrence order)."""
    out: list[int] = []
    for a in axes:
        a = int(a)
        cur = a + rank if a < 0 else a
        if cur < 0 or cur >= rank:
            raise EvoError(f"MEAN axis {a} is out of range for a rank-{rank} input", "fix the axis tensor")
        if cur not in out:
            out.append(cur)
    return out


@register
class Mean(OpImpl):
    types = ("MEAN",)

    def _axes(self, g: Graph, op: Op) -> list[int]:
        at = g.tensor(op.inputs[1])
        return _resolve_axes(len(g.tensor(op.inputs[0]).shape), np.asarray(at.data).reshape(-1))

    def check(self, g: Graph, op: Op) -> None:
        x, y = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        if x.dtype != "int16":  # int16 (16x8): the int8 arithmetic with int16 saturation
            _dtype_check(op, x.dtype)
        if y.dtype != x.dtype:
            raise EvoError(f"MEAN with {x.dtype} input and {y.dtype} output is not supported", "use the same type for both")
        if len(op.inputs) < 2 or op.inputs[1] < 0 or not g.tensor(op.inputs[1]).is_const:
            raise EvoError("MEAN with a non-constant axis tensor is not supported", "make the axes a constant")
        at = g.tensor(op.inputs[1])
        if at.dtype != "int32":
            raise EvoError(f"MEAN axis tensor of type {at.dtype} is not supported (TFLM requires int32)", "use int32 axes")
        if not 1 <= len(x.shape) <= 4:
            raise EvoError(f"MEAN on a rank-{len(x.shape)} input is not supported", "use inputs of rank 1 to 4")
        if x.size == 0:
            raise EvoError("MEAN on an empty tensor is not supported", "remove the operator")
        ad = np.asarray(at.data)
        if ad.size == 0 or ad.dtype.kind not in "iu":
            raise EvoError("MEAN without reduction axes is not supported", "give MEAN at least one axis, or remove it")
        axes = self._axes(g, op)
        if len(axes) > 2:
            raise EvoError(
                f"MEAN over {len(axes)} axes is not supported (TFLM reduces at most 2 axes at once)",
                "reduce over at most two axes per MEAN, e.g. axes [1, 2]",
            )
        keep = bool(op.attrs.get("keep_dims", False))
        want = [1 if i in axes else d for i, d in enumerate(x.shape)] if keep else [d for i, d in enumerate(x.shape) if i not in axes]
        if int(np.prod(want, dtype=np.int64)) != y.size:
            raise EvoError(f"MEAN output shape {list(y.shape)} does not match the reduced shape {want}", "re-export the model")
        if x.dtype in ("int8", "int16"):
            _quant_check(g, op, op.inputs[0], "input")
            _quant_check(g, op, op.outputs[0], "output")

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, y = g.tensor(op.inputs[0]), g.tensor(op.outputs[0])
        axes = self._axes(g, op)
        rank = len(x.shape)
        dims = [1] * (4 - rank) + list(x.shape)
        reduce = [0] * (4 - rank) + [1 if i in axes else 0 for i in range(rank)]
        count = 1
        for d, r in zip(dims, reduce):
            if r:
                count *= d
        p: dict[str, Any] = dict(axes=axes, dims=dims, reduce=reduce, count=count, in_zp=0, out_zp=0, multiplier=0, shift=0)
        if x.dtype == "float32":
            p["mode"] = MEAN_FLOAT
            return p
        s_in, s_out = x.quant.scale[0], y.quant.scale[0]  # float32
        p["in_zp"], p["out_zp"] = x.quant.scalar_zero_point, y.quant.scalar_zero_point
        p["mode"] = MEAN_REQUANT
        mult, shift = fx.quantize_multiplier(float(s_in) / float(s_out))
        # Fold 1/count into the multiplier as QuantizedMeanOrSum does.
        s = count.bit_length() - 1
        s = min(s, 32)
        s = min(s, 31 + shift)
        p["multiplier"] = int((mult << s) // count)
        p["shift"] = shift - s
        return p

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        x = inputs[0].reshape(p["dims"])
        red = tuple(i for i in range(4) if p["reduce"][i])
        keep = tuple(i for i in range(4) if not p["reduce"][i])
        out_shape = g.tensor(op.outputs[0]).shape
        count = p["count"]
        if p["mode"] == MEAN_FLOAT:
            t = np.transpose(x, keep + red).reshape(int(np.prod([p["dims"][i] for i in keep], dtype=np.int64)), count)
            total = np.zeros(t.shape[0], dtype=np.float32)
            for k in range(count):  # sequential, in TFLM's order (row-major over the reduced axes)
                total = total + t[:, k]
            return [(total / np.float32(count)).reshape(out_shape)]
        total = fx.wrap_int32(x.astype(np.int64).sum(axis=red))
        shifted = fx.wrap_int32(total - p["in_zp"] * count)
        r = fx.multiply_by_quantized_multiplier(shifted, p["multiplier"], p["shift"]) + p["out_zp"]
        info = np.iinfo(x.dtype)
        return [np.clip(r, info.min, info.max).astype(x.dtype).reshape(out_shape)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        suffix = _SUFFIX[g.tensor(op.inputs[0]).dtype]
        return KernelCall(
            func=f"evo_mean_{suffix}",
            sources=[f"mean_{suffix}.c"],
            header="pool.h",
            params_type="evo_mean_params_t",
            params=mean_params(p),
            args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
        )

    def macs(self, g: Graph, op: Op) -> int:
        return g.tensor(op.inputs[0]).size


def mean_params(p: dict[str, Any]) -> dict[str, Any]:
    """The C parameter struct (evo_mean_params_t) of a prepared MEAN."""
    return {
        "dims": [int(d) for d in p["dims"]],
        "reduce": [int(r) for r in p["reduce"]],
        "count": int(p["count"]),
        "mode": int(p["mode"]),
        "in_zp": int(p["in_zp"]),
        "out_zp": int(p["out_zp"]),
        "multiplier": int(p["multiplier"]),
        "shift": int(p["shift"]),
    }
