"""Convolution family: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int8 and float32).

The derived numbers follow TFLite Micro's Prepare functions:

* padding: ComputePaddingHeightWidth (SAME/VALID, dilation aware; only the leading half of the
  total padding is used by the reference kernels);
* CONV_2D / DEPTHWISE_CONV_2D: PopulateConvolutionQuantizationParams - one multiplier per output
  channel (a per-tensor filter scale is broadcast), effective scale computed in double as
  double(input_scale) * double(filter_scale) / double(output_scale);
* FULLY_CONNECTED: the same double formula, per-tensor and per-channel. Older TFLM sources
  form the per-tensor product in float (GetQuantizedConvolutionMultipler); the TFLM build that
  serves as EVO's oracle does not (tests/property/test_conv.py pins this with a case where the
  two differ);
* fused activations: CalculateActivationRangeQuantized / CalculateActivationRange.

The int8 kernels accumulate sum(filter * (input - input_zero_point)) in int32; taps that fall
into the padding are skipped (equivalent to padding with the input zero point). The filter zero
point is ignored by TFLM's conv and depthwise kernels and by its per-channel fully-connected
kernel; only the per-tensor fully-connected kernel applies it (as weights_offset).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.ops import conv_s16
from evo.ops.base import ConstArray, KernelCall, OpImpl, Scratch, TensorArg, register
from evo.ops import conv_m0, conv_mve
from evo.ops.conv_dsp import specialise_conv, specialise_fc
from evo.ref import fixedpoint as fx
from evo.target import Target

ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
HEADER = "conv.h"


# ----------------------------------------------------------------------------- helpers


def compute_out_size(padding: str, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    """TFLM's ComputeOutSize (same as TensorFlow's GetWindowedOutputSize)."""
    effective = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        return (in_size + stride - 1) // stride
    return (in_size + stride - effective) // stride


def compute_padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int) -> int:
    """TFLM's ComputePaddingWithOffset: the leading (top/left) padding."""
    effective = (filter_size - 1) * dilation + 1
    total = (out_size - 1) * stride + effective - in_size
    total = max(total, 0)
    return total // 2


def _t(g: Graph, op: Op, pos: int):
    idx = op.inputs[pos] if pos < len(op.inputs) else -1
    return g.tensor(idx) if idx >= 0 else None


def _op_desc(op: Op) -> str:
    return f"{op.type} (operator {op.index})"


def _activation(op: Op) -> str:
    act = op.attrs.get("fused_activation_function", "NONE")
    if act not in ACTIVATIONS:
        raise EvoError(f"{_op_desc(op)}: fused activation {act} is not supported", "use NONE, RELU, RELU6 or RELU_N1_TO_1")
    return act


def _check_types(g: Graph, op: Op, filter_rank: int) -> str:
    """Common dtype/quantization checks; returns the data type ('int8' or 'float32')."""
    desc = _op_desc(op)
    if len(op.inputs) < 2 or len(op.outputs) != 1:
        raise EvoError(f"{desc}: expected input, filter[, bias] and one output", "the model is malformed; re-export it")
    x, w, b = _t(g, op, 0), _t(g, op, 1), _t(g, op, 2)
    y = g.tensor(op.outputs[0])
    if x is None or w is None:
        raise EvoError(f"{desc}: the input and filter tensors are required", "the model is malformed; re-export it")
    dt = x.dtype
    if dt == "int16":  # 16x8 mode: evo/ops/conv_s16.py
        conv_s16.check_16x8(g, op, x, w, b, y)
    elif dt not in ("int8", "float32"):
        raise EvoError(f"{desc}: {dt} activations are not supported", "quantize the model to int8 or keep it float32")
    if y.dtype != dt and dt != "int16":
        raise EvoError(f"{desc}: output type {y.dtype} differs from input type {dt}", "use the same type for input and output")
    if w.dtype != dt and dt != "int16":
        raise EvoError(
            f"{desc}: {dt} input with {w.dtype} weights (hybrid) is not supported",
            "convert the model with full integer quantization or keep it entirely float32",
        )
    if not w.is_const:
        raise EvoError(f"{desc}: the filter must be a constant tensor", "freeze the weights when converting the model")
    if len(w.shape) != filter_rank:
        raise EvoError(f"{desc}: the filter must have rank {filter_rank}, got shape {list(w.shape)}", "re-export the model")
    out_ch = w.shape[0] if op.type != "DEPTHWISE_CONV_2D" else w.shape[3]
    if b is not None:
        want = {"int8": "int32", "int16": "int64"}.get(dt, "float32")
        if b.dtype != want:
            raise EvoError(f"{desc}: {b.dtype} bias is not supported with {dt} activations", f"use a {want} bias")
        if not b.is_const:
            raise EvoError(f"{desc}: the bias must be a constant tensor", "freeze the weights when converting the model")
        if b.size != out_ch:
            raise EvoError(f"{desc}: bias has {b.size} elements for {out_ch} output channels", "re-export the model")
    if dt in ("int8", "int16"):
        for t, what in ((x, "input"), (w, "filter"), (y, "output")):
            if t.quant is None:
                raise EvoError(f"{desc}: the int8 {what} tensor has no quantization parameters", "re-quantize the model")
        if x.quant.per_channel or y.quant.per_channel:
            raise EvoError(f"{desc}: per-channel quantized activations are not supported", "quantize activations per tensor")
        if w.quant.scale.size not in (1, out_ch):
            raise EvoError(
                f"{desc}: the filter has {w.quant.scale.size} scales for {out_ch} output channels",
                "quantize the filter per tensor or per output channel",
            )
    _activation(op)
    return dt


def _real_multipliers(input_scale: np.float32, filter_scales: np.ndarray, output_scale: np.float32, n: int):
    """PopulateConvolutionQuantizationParams (double arithmetic), broadcast to n channels."""
    mults = np.zeros(n, dtype=np.int32)
    shifts = np.zeros(n, dtype=np.int32)
    for i in range(n):
        fs = filter_scales[i] if filter_scales.size > 1 else filter_scales[0]
        real = float(input_scale) * float(fs) / float(output_scale)
        m, s = fx.quantize_multiplier(real)
        mults[i] = m
        shifts[i] = s
    return mults, shifts


def _act_params(g: Graph, op: Op, dt: str) -> dict[str, Any]:
    act = _activation(op)
    y = g.tensor(op.outputs[0])
    if dt in ("int8", "int16"):
        lo, hi = fx.activation_range_quantized(act, dt, float(y.quant.scale[0]), int(y.quant.zero_point[0]))
    else:
        lo, hi = fx.activation_range_float(act)
    return {"act_min": lo, "act_max": hi}


def _clamp_out(acc: np.ndarray, p: dict[str, Any], dt: str) -> np.ndarray:
    if dt == "int8":
        return np.clip(acc + p["output_offset"], p["act_min"], p["act_max"]).astype(np.int8)
    return np.minimum(np.maximum(acc, np.float32(p["act_min"])), np.float32(p["act_max"])).astype(np.float32)


def _requant(acc: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """int32 accumulator [..., C] -> requantized int (before the output offset)."""
    acc = fx.wrap_int32(acc)
    return fx.multiply_by_quantized_multiplier(acc, p["multiplier"].astype(np.int64), p["shift"].astype(np.int64))


def _patches(x: np.ndarray, p: dict[str, Any], pad_value) -> np.ndarray:
    """[N,H,W,C] -> [N,OH,OW,KH,KW,C] windows; out-of-image taps hold `pad_value`."""
    n, h, w, c = x.shape
    oh, ow = p["out"][1], p["out"][2]
    kh, kw = p["kh"], p["kw"]
    sh, sw, dh, dw = p["stride_h"], p["stride_w"], p["dil_h"], p["dil_w"]
    ph, pw = p["pad_h"], p["pad_w"]
    need_h = (oh - 1) * sh + (kh - 1) * dh + 1
    need_w = (ow - 1) * sw + (kw - 1) * dw + 1
    bot = max(0, need_h - h - ph)
    right = max(0, need_w - w - pw)
    xp = np.pad(x, ((0, 0), (ph, bot), (pw, right), (0, 0)), constant_values=pad_value)
    out = np.empty((n, oh, ow, kh, kw, c), dtype=x.dtype)
    for fy in range(kh):
        for fx_ in range(kw):
            y0, x0 = fy * dh, fx_ * dw
            out[:, :, :, fy, fx_, :] = xp[:, y0 : y0 + (oh - 1) * sh + 1 : sh, x0 : x0 + (ow - 1) * sw + 1 : sw, :]
    return out


def _dims(shape) -> dict[str, int]:
    return {"n": int(shape[0]), "h": int(shape[1]), "w": int(shape[2]), "c": int(shape[3])}


# ----------------------------------------------------------------------------- 2-D convolutions


class _Conv2DBase(OpImpl):
    depthwise = False

    def _geometry_check(self, g: Graph, op: Op) -> None:
        desc = _op_desc(op)
        x = _t(g, op, 0)
        y = g.tensor(op.outputs[0])
        if len(x.shape) != 4 or len(y.shape) != 4:
            raise EvoError(f"{desc}: input and output must be 4-D NHWC, got {list(x.shape)} -> {list(y.shape)}", "re-export the model")
        pad = op.attrs.get("padding", "SAME")
        if pad not in ("SAME", "VALID"):
            raise EvoError(f"{desc}: padding {pad} is not supported", "use SAME or VALID padding")
        for k in ("stride_h", "stride_w", "dilation_h_factor", "dilation_w_factor"):
            if int(op.attrs.get(k, 1)) < 1:
                raise EvoError(f"{desc}: {k}={op.attrs.get(k)} is not supported", "strides and dilations must be >= 1")
        g_ = self._geom(g, op)
        want = (x.shape[0], g_["out_h"], g_["out_w"])
        if tuple(y.shape[:3]) != want:
            raise EvoError(f"{desc}: output shape {list(y.shape)} does not match the computed {list(want)}", "re-export the model")
        if y.shape[3] != g_["out_c"]:
            raise EvoError(f"{desc}: output has {y.shape[3]} channels but the filter produces {g_['out_c']}", "re-export the model")

    def _geom(self, g: Graph, op: Op) -> dict[str, int]:
        x, w = _t(g, op, 0), _t(g, op, 1)
        a = op.attrs
        sh, sw = int(a.get("stride_h", 1)), int(a.get("stride_w", 1))
        dh, dw = int(a.get("dilation_h_factor", 1)), int(a.get("dilation_w_factor", 1))
        kh, kw = int(w.shape[1]), int(w.shape[2])
        pad = a.get("padding", "SAME")
        h, wd = int(x.shape[1]), int(x.shape[2])
        oh = compute_out_size(pad, h, kh, sh, dh)
        ow = compute_out_size(pad, wd, kw, sw, dw)
        out_c = int(w.shape[3]) if self.depthwise else int(w.shape[0])
        return {
            "out_h": oh,
            "out_w": ow,
            "out_c": out_c,
            "kh": kh,
            "kw": kw,
            "stride_h": sh,
            "stride_w": sw,
            "dil_h": dh,
            "dil_w": dw,
            "pad_h": compute_padding(sh, dh, h, kh, oh),
            "pad_w": compute_padding(sw, dw, wd, kw, ow),
        }

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, w = _t(g, op, 0), _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        dt = x.dtype
        geo = self._geom(g, op)
        p: dict[str, Any] = {
            "dtype": dt,
            "in": tuple(int(d) for d in x.shape),
            "out": tuple(int(d) for d in y.shape),
            **{k: geo[k] for k in ("kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")},
            **_act_params(g, op, dt),
        }
        if self.depthwise:
            p["depth_multiplier"] = int(y.shape[3]) // int(x.shape[3])
        if dt == "int8":
            out_c = int(y.shape[3])
            input_offset = -int(x.quant.zero_point[0])
            p["input_offset"] = input_offset
            p["output_offset"] = int(y.quant.zero_point[0])
            p["multiplier"], p["shift"] = _real_multipliers(x.quant.scale[0], w.quant.scale, y.quant.scale[0], out_c)
            # input_offset * sum of each output channel's weights: used by the C kernel for windows
            # that lie entirely inside the image (exact in int32 arithmetic).
            wd = w.data.astype(np.int64)
            sums = wd.reshape(-1, out_c).sum(axis=0) if self.depthwise else wd.reshape(out_c, -1).sum(axis=1)
            p["w_offset_sum"] = fx.wrap_int32(sums * input_offset).astype(np.int32)
        elif dt == "int16":
            p["multiplier"], p["shift"] = _real_multipliers(x.quant.scale[0], w.quant.scale, y.quant.scale[0], int(y.shape[3]))
        return p

    def macs(self, g: Graph, op: Op) -> int:
        w = _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        per_out = w.shape[1] * w.shape[2] * (1 if self.depthwise else w.shape[3])
        return int(y.size * per_out)

    def _params_struct(self, g: Graph, op: Op, p: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "in": _dims(p["in"]),
            "out": _dims(p["out"]),
            **{k: p[k] for k in ("kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")},
        }
        if self.depthwise:
            params["depth_multiplier"] = p["depth_multiplier"]
        if p["dtype"] == "int8":
            params.update(
                input_offset=p["input_offset"],
                output_offset=p["output_offset"],
                act_min=int(p["act_min"]),
                act_max=int(p["act_max"]),
                multiplier=ConstArray("mult", p["multiplier"]),
                shift=ConstArray("shift", p["shift"]),
                w_offset_sum=ConstArray("wsum", p["w_offset_sum"]),
            )
            if not self.depthwise:
                params["patch_bytes"] = conv_scratch_bytes(p)
        else:
            params.update(act_min=float(p["act_min"]), act_max=float(p["act_max"]))
        return params

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        name = "depthwise_conv2d" if self.depthwise else "conv2d"
        if p["dtype"] == "int16":
            return conv_s16.emit(name, conv_s16.geometry(p, self.depthwise), p, op)
        sfx = "s8" if p["dtype"] == "int8" else "f32"
        bias = op.inputs[2] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
        return KernelCall(
            func=f"evo_{name}_{sfx}",
            sources=[f"{name}_{sfx}.c"],
            header=HEADER,
            params_type=f"evo_{name}_{sfx}_params_t",
            params=self._params_struct(g, op, p),
            args=[TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(bias) if bias is not None else None, TensorArg(op.outputs[0]), Scratch()],
            scratch_bytes=conv_scratch_bytes(p) if (name, sfx) == ("conv2d", "s8") else 0,
        )


def conv_scratch_bytes(p: dict[str, Any]) -> int:
    """evo_conv2d_s8_get_buffer_size: the larger of the portable path's int16 im2col patch of one
    output pixel and the Cortex-M DSP path's byte staging of two receptive fields
    (conv2d_s8.c dsp_stage_need; 1x1 convolutions read the input directly and need none)."""
    k = p["kh"] * p["kw"] * p["in"][3]
    portable = ((k + 7) & ~7) * 2
    dsp = 2 * ((k + 3) & ~3)
    return (max(portable, dsp) + 15) & ~15


@register
class Conv2D(_Conv2DBase):
    types = ("CONV_2D",)
    inplace_rows = True  # evo_conv2d_*_rows (evo/inplace.h)

    def specialise(self, g, op, p, call, target):
        """Cortex-M DSP cores: the int16 matrix-product kernel with a generation-time weight layout;
        MVE cores (M55): the int8 vector matrix product; Cortex-M0: the int32-weight matrix engine."""
        if target.core == "M0":
            return conv_m0.specialise_conv(g, op, p, call, target)
        return conv_mve.specialise_conv(g, op, p, call, target, specialise_conv(g, op, p, call, target))

    def check(self, g: Graph, op: Op) -> None:
        _check_types(g, op, 4)
        x, w = _t(g, op, 0), _t(g, op, 1)
        if len(x.shape) == 4 and w.shape[3] != x.shape[3]:
            raise EvoError(
                f"{_op_desc(op)}: grouped convolution (filter has {w.shape[3]} input channels, input has {x.shape[3]}) is not supported",
                "use a regular or depthwise convolution",
            )
        self._geometry_check(g, op)

    def reference(self, g, op, p, inputs):
        x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
        if p["dtype"] == "int16":
            acc = np.tensordot(_patches(x.astype(np.int64), p, 0), w.astype(np.int64), axes=([3, 4, 5], [1, 2, 3]))
            return [conv_s16.accumulate_and_requant(acc, b, p)]
        if p["dtype"] == "int8":
            xs = x.astype(np.int64) + p["input_offset"]
            pat = _patches(xs, p, 0)
            acc = np.tensordot(pat, w.astype(np.int64), axes=([3, 4, 5], [1, 2, 3]))
            if b is not None:
                acc = acc + b.astype(np.int64)
            return [_clamp_out(_requant(acc, p), p, "int8")]
        pat = _patches(x.astype(np.float32), p, np.float32(0))
        acc = np.tensordot(pat.astype(np.float64), w.astype(np.float64), axes=([3, 4, 5], [1, 2, 3]))
        acc = acc.astype(np.float32)
        if b is not None:
            acc = acc + b.astype(np.float32)
        return [_clamp_out(acc, p, "float32")]


@register
class DepthwiseConv2D(_Conv2DBase):
    types = ("DEPTHWISE_CONV_2D",)
    inplace_rows = True  # evo_depthwise_conv2d_*_rows (evo/inplace.h)
    depthwise = True

    def check(self, g: Graph, op: Op) -> None:
        _check_types(g, op, 4)
        x, w = _t(g, op, 0), _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        desc = _op_desc(op)
        if w.shape[0] != 1:
            raise EvoError(f"{desc}: the filter must have shape [1, KH, KW, C*M], got {list(w.shape)}", "re-export the model")
        if len(x.shape) == 4:
            in_c, out_c = int(x.shape[3]), int(w.shape[3])
            m = int(op.attrs.get("depth_multiplier", 1))
            if in_c * m != out_c:
                raise EvoError(
                    f"{desc}: depth_multiplier {m} x {in_c} input channels != {out_c} filter channels",
                    "re-export the model with a consistent depth_multiplier",
                )
        self._geometry_check(g, op)
        if y.shape[3] != w.shape[3]:
            raise EvoError(f"{desc}: output channels {y.shape[3]} != filter channels {w.shape[3]}", "re-export the model")

    def reference(self, g, op, p, inputs):
        x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
        m = p["depth_multiplier"]
        wk = w.reshape(w.shape[1], w.shape[2], w.shape[3])  # [KH, KW, OC]
        if p["dtype"] == "int16":
            pat = np.repeat(_patches(x.astype(np.int64), p, 0), m, axis=-1)
            return [conv_s16.accumulate_and_requant((pat * wk.astype(np.int64)).sum(axis=(3, 4)), b, p)]
        if p["dtype"] == "int8":
            xs = x.astype(np.int64) + p["input_offset"]
            pat = np.repeat(_patches(xs, p, 0), m, axis=-1)  # [N,OH,OW,KH,KW,OC]
            acc = (pat * wk.astype(np.int64)).sum(axis=(3, 4))
            if b is not None:
                acc = acc + b.astype(np.int64)
            return [_clamp_out(_requant(acc, p), p, "int8")]
        pat = np.repeat(_patches(x.astype(np.float32), p, np.float32(0)), m, axis=-1)
        acc = (pat.astype(np.float64) * wk.astype(np.float64)).sum(axis=(3, 4)).astype(np.float32)
        if b is not None:
            acc = acc + b.astype(np.float32)
        return [_clamp_out(acc, p, "float32")]

    def specialise(self, g: Graph, op: Op, p: dict[str, Any], call: KernelCall, target: Target) -> KernelCall:
        from evo.ops import depthwise_fast

        if target.has_dsp:
            dsp = depthwise_fast.pairs_call(g, op, p, call)
            if p["dtype"] == "int8" and p["in"][3] == 1:  # every output channel reads the one input: a convolution
                w = g.tensor(op.inputs[1]).data  # [1, KH, KW, OC]
                conv = specialise_conv(g, op, p, call, target, w=np.moveaxis(w, 3, 0))
                dsp = conv if conv is not call else dsp
            mve = conv_mve.specialise_depthwise(g, op, p, call, target, dsp)
            return mve if mve is not None else dsp
        if target.core == "M0":
            return conv_m0.specialise_depthwise(g, op, p, call, target) or depthwise_fast.m0_call(g, op, p, call)
        return call


# ----------------------------------------------------------------------------- fully connected


@register
class FullyConnected(OpImpl):
    types = ("FULLY_CONNECTED",)

    def specialise(self, g, op, p, call, target):
        """Cortex-M DSP cores: the int16 matrix-product kernel with a generation-time weight layout;
        MVE cores (M55): the int8 vector matrix product; Cortex-M0: the int32-weight matrix engine."""
        if target.core == "M0":
            return conv_m0.specialise_fc(g, op, p, call, target)
        return conv_mve.specialise_fc(g, op, p, call, target, specialise_fc(g, op, p, call, target))

    def check(self, g: Graph, op: Op) -> None:
        _check_types(g, op, 2)
        desc = _op_desc(op)
        fmt = op.attrs.get("weights_format", "DEFAULT")
        if fmt != "DEFAULT":
            raise EvoError(f"{desc}: weights format {fmt} is not supported", "convert the model with the DEFAULT weights format")
        x, w = _t(g, op, 0), _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        units, depth = int(w.shape[0]), int(w.shape[1])
        if len(y.shape) < 1 or y.shape[-1] != units:
            raise EvoError(f"{desc}: output shape {list(y.shape)} does not end in {units} units", "re-export the model")
        batches = y.size // units if units else 0
        if x.size != batches * depth:
            raise EvoError(
                f"{desc}: input {list(x.shape)} cannot be flattened to [{batches}, {depth}]",
                "re-export the model",
            )

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, w = _t(g, op, 0), _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        dt = x.dtype
        units, depth = int(w.shape[0]), int(w.shape[1])
        p: dict[str, Any] = {"dtype": dt, "batches": y.size // units, "units": units, "depth": depth, **_act_params(g, op, dt)}
        if dt == "int8":
            input_offset = -int(x.quant.zero_point[0])
            per_channel = w.quant.scale.size > 1
            p["per_channel"] = per_channel
            p["input_offset"] = input_offset
            p["output_offset"] = int(y.quant.zero_point[0])
            # Effective scale double(input_scale) * double(filter_scale) / double(output_scale)
            # for both weight kinds. (Older TFLM sources form the per-tensor product in float via
            # GetQuantizedConvolutionMultipler; the TFLM build used as the oracle does not - see
            # test_fully_connected_multiplier_rounding, which pins this down.)
            p["multiplier"], p["shift"] = _real_multipliers(x.quant.scale[0], w.quant.scale, y.quant.scale[0], units)
            # FullyConnectedPerChannel ignores the filter zero point; the per-tensor kernel applies it.
            p["weights_offset"] = 0 if per_channel else -int(w.quant.zero_point[0])
            # sum_d (w + woff)(x + xoff) = sum w*x + woff*sum x + xoff*sum w + depth*xoff*woff:
            # the last two terms are constant per unit.
            sums = w.data.astype(np.int64).sum(axis=1)
            const = sums * input_offset + depth * input_offset * p["weights_offset"]
            p["w_offset_sum"] = fx.wrap_int32(const).astype(np.int32)
        elif dt == "int16":
            # TFLM applies the filter zero point in 16x8 too (weights_offset); the quantizer writes 0.
            p["weights_offset"] = 0 if w.quant.scale.size > 1 else -int(w.quant.zero_point[0])
            p["multiplier"], p["shift"] = _real_multipliers(x.quant.scale[0], w.quant.scale, y.quant.scale[0], units)
        return p

    def reference(self, g, op, p, inputs):
        x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
        xr = x.reshape(p["batches"], p["depth"])
        if p["dtype"] == "int16":
            acc = xr.astype(np.int64) @ (w.astype(np.int64) + p["weights_offset"]).T
            return [conv_s16.accumulate_and_requant(acc, b, p).reshape(g.tensor(op.outputs[0]).shape)]
        if p["dtype"] == "int8":
            xs = xr.astype(np.int64) + p["input_offset"]
            ws = w.astype(np.int64) + p["weights_offset"]
            acc = xs @ ws.T
            if b is not None:
                acc = acc + b.astype(np.int64)
            out = _clamp_out(_requant(acc, p), p, "int8")
        else:
            acc = (xr.astype(np.float64) @ w.astype(np.float64).T).astype(np.float32)
            if b is not None:
                acc = acc + b.astype(np.float32)
            out = _clamp_out(acc, p, "float32")
        return [out.reshape(g.tensor(op.outputs[0]).shape)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        sfx = "s8" if p["dtype"] == "int8" else "f32"
        params: dict[str, Any] = {"batches": p["batches"], "units": p["units"], "depth": p["depth"]}
        if p["dtype"] == "int16":
            return conv_s16.emit("fully_connected", dict(params, weights_offset=p["weights_offset"]), p, op)
        if p["dtype"] == "int8":
            params.update(
                input_offset=p["input_offset"],
                weights_offset=p["weights_offset"],
                output_offset=p["output_offset"],
                act_min=int(p["act_min"]),
                act_max=int(p["act_max"]),
                multiplier=ConstArray("mult", p["multiplier"]),
                shift=ConstArray("shift", p["shift"]),
                w_offset_sum=ConstArray("wsum", p["w_offset_sum"]),
            )
        else:
            params.update(act_min=float(p["act_min"]), act_max=float(p["act_max"]))
        bias = op.inputs[2] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
        return KernelCall(
            func=f"evo_fully_connected_{sfx}",
            sources=[f"fully_connected_{sfx}.c"],
            header=HEADER,
            params_type=f"evo_fully_connected_{sfx}_params_t",
            params=params,
            args=[TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(bias) if bias is not None else None, TensorArg(op.outputs[0])],
        )

    def macs(self, g: Graph, op: Op) -> int:
        w = _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        return int(y.size * w.shape[1])
