"""Binary neural networks: Larq Compute Engine (LCE) custom operators and EVO's binary ops.

Bit-packed tensors are int32 tensors whose last dimension is the packed one: a tensor of C
channels has ceil(C/32) words; channel c is bit c%32 of word c//32 (LSB first), a set bit means
-1 (x < 0, or x < zero_point for int8), unused high bits are 0. The IR shape of such a tensor
is the packed shape, so memory is planned at the packed size.

Operators (types as they appear in the IR):

* ``CUSTOM:LceQuantize``     float32/int8 [..., C] -> packed int32 [..., ceil(C/32)]
* ``CUSTOM:LceDequantize``   packed -> float32 +-1.0 (or int8 q(+-1)), trimmed to C channels
* ``CUSTOM:LceBconv2d``      packed input, packed OHWI filter [Co, KH, KW, words]; output
  float32 / int8 (``(K_eff - 2*accum) * multiplier + bias``; int8 rounds half away from zero
  with the output scale and zero point folded in) or packed (bit set <=> accum > threshold).
  ``accum = popcount(input XOR filter)`` over the receptive field; ``pad_values=1`` pads with
  +1 (packed 0, padded taps add popcount(filter)); ``pad_values=0`` pads with 0: padded taps
  leave K (LCE's zero-padding correction).
* ``CUSTOM:LceBMaxPool2d``   bitwise AND over the window (max of +-1 is -1 only if all are -1)
* ``CUSTOM:EvoBFullyConnected`` (made by evo.passes.binarize): packed input [B, words], packed
  weights [units, words] and the same three output transforms (BBFC / BBQFC / float).

LCE custom options are FlexBuffers maps (evo.frontend.flexbuffers); ops made by EVO's passes
carry the same keys in ``op.attrs``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.frontend.flexbuffers import custom_options
from evo.ir import Graph, Op
from evo.ops.base import CExpr, ConstArray, KernelCall, OpImpl, Scratch, TensorArg, register
from evo.ops.bnn_tiled import specialise_bconv
from evo.ops.conv import _patches, compute_out_size, compute_padding
from evo.ref import fixedpoint as fx

HEADER = "bnn.h"
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
_PADDING = {0: "SAME", 1: "VALID", "SAME": "SAME", "VALID": "VALID"}
# LCE/TFLite fused activation enum (0 NONE, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6)
_ACT = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", "NONE": "NONE", "RELU": "RELU", "RELU_N1_TO_1": "RELU_N1_TO_1", "RELU6": "RELU6"}


# ----------------------------------------------------------------------------- bit packing


def words(channels: int) -> int:
    return (int(channels) + 31) // 32


def pack_bits(neg: np.ndarray) -> np.ndarray:
    """bool [..., C] (True = -1) -> int32 [..., ceil(C/32)], LCE's layout."""
    neg = np.asarray(neg, dtype=bool)
    c = neg.shape[-1]
    nw = words(c)
    padded = np.zeros(neg.shape[:-1] + (nw * 32,), dtype=np.uint64)
    padded[..., :c] = neg
    bits = padded.reshape(neg.shape[:-1] + (nw, 32))
    weights = np.uint64(1) << np.arange(32, dtype=np.uint64)
    packed = (bits * weights).sum(axis=-1).astype(np.uint64)
    return packed.astype(np.uint32).view(np.int32)


def unpack_bits(packed: np.ndarray, channels: int) -> np.ndarray:
    """int32 [..., words] -> uint8 [..., channels] of bits (1 = -1)."""
    u = np.asarray(packed).astype(np.int32).view(np.uint32)
    bits = (u[..., :, None] >> np.arange(32, dtype=np.uint32)) & np.uint32(1)
    bits = bits.reshape(u.shape[:-1] + (u.shape[-1] * 32,))
    return bits[..., :channels].astype(np.uint8)


def _desc(op: Op) -> str:
    return f"{op.type} (operator {op.index})"


def options(op: Op) -> dict:
    """The op's LCE options: its FlexBuffers custom options, overridden by `op.attrs`."""
    cache = op.__dict__.setdefault("_lce_options", None)
    if cache is None:
        cache = dict(custom_options(_desc(op), op.custom_options))
        cache.update(op.attrs)
        op.__dict__["_lce_options"] = cache
    return cache


def _t(g: Graph, op: Op, pos: int):
    i = op.inputs[pos] if pos < len(op.inputs) else -1
    return g.tensor(i) if i >= 0 else None


def _dims(shape) -> dict[str, int]:
    return {"n": int(shape[0]), "h": int(shape[1]), "w": int(shape[2]), "c": int(shape[3])}


def _int_clamp(act: str, k: int) -> tuple[int, int]:
    """Fused activation as a clamp of the back-transformed integer K - 2*accum."""
    return {"NONE": (INT32_MIN, INT32_MAX), "RELU": (0, INT32_MAX), "RELU_N1_TO_1": (-1, 1), "RELU6": (-6, 6)}[act]


def _round_half_away(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return np.where(y >= 0, np.floor(y + 0.5), np.ceil(y - 0.5))


def _transform(v: np.ndarray, accum: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """Output transform: v = K_eff - 2*accum (int), per-channel along the last axis."""
    kind = p["out_kind"]
    if kind == "bin":
        return pack_bits(accum > p["threshold"])
    v = np.clip(v, p["clamp_min"], p["clamp_max"]).astype(np.float32)
    y = v * p["multiplier"] + p["bias"]  # float32 arithmetic, like the C kernel
    if kind == "f32":
        return y.astype(np.float32)
    return np.clip(_round_half_away(y), -128, 127).astype(np.int8)


def _out_transform_params(g: Graph, op: Op, y, k: int, act: str, mult_pos: int, bias_pos: int, thr_pos: int, units: int) -> dict[str, Any]:
    desc = _desc(op)
    p: dict[str, Any] = {}
    if op.attrs.get("requant"):
        return _requant_params(g, op, y, units)
    if y.dtype == "int32":
        thr = _t(g, op, thr_pos)
        if thr is None or not thr.is_const or thr.size != units:
            raise EvoError(f"{desc}: bit-packed output needs a constant int32 output_threshold of {units} values", "re-convert the model")
        p["out_kind"] = "bin"
        p["threshold"] = thr.data.reshape(-1).astype(np.int32)
        return p
    m, b = _t(g, op, mult_pos), _t(g, op, bias_pos)
    for t, what in ((m, "post_activation_multiplier"), (b, "post_activation_bias")):
        if t is None or not t.is_const or t.dtype != "float32" or t.size != units:
            raise EvoError(f"{desc}: {y.dtype} output needs a constant float32 {what} of {units} values", "re-convert the model")
    mult = m.data.reshape(-1).astype(np.float32)
    bias = b.data.reshape(-1).astype(np.float32)
    lo, hi = _int_clamp(act, k)
    p.update(clamp_min=lo, clamp_max=hi)
    if y.dtype == "float32":
        p.update(out_kind="f32", multiplier=mult, bias=bias)
    elif y.dtype == "int8":
        if y.quant is None or y.quant.per_channel:
            raise EvoError(f"{desc}: the int8 output needs per-tensor quantization", "re-convert the model")
        s, zp = np.float32(y.quant.scale[0]), np.float32(y.quant.zero_point[0])
        p.update(out_kind="s8", multiplier=(mult / s).astype(np.float32), bias=(bias / s + zp).astype(np.float32))
    else:
        raise EvoError(f"{desc}: {y.dtype} output is not supported", "binary layers write float32, int8 or bit-packed int32")
    return p


# q8 (int8 layers binarized by evo.passes.binarize): inputs 2, 3, 5, 6, 7 hold the per-channel
# int32 offset, factor, pad_term, requantisation multiplier and shift; attrs act_min/act_max.
_RQ_INPUTS = {"offset": 2, "factor": 3, "pad_term": 5, "q_multiplier": 6, "q_shift": 7}


def _requant_params(g: Graph, op: Op, y, units: int) -> dict[str, Any]:
    desc = _desc(op)
    if y.dtype != "int8" or y.quant is None:
        raise EvoError(f"{desc}: the requantised output must be int8 with quantization", "internal error in the binarize pass")
    p: dict[str, Any] = {"out_kind": "q8", "out_zp": int(y.quant.zero_point[0]), "act_min": int(op.attrs["act_min"]), "act_max": int(op.attrs["act_max"])}
    for key, pos in _RQ_INPUTS.items():
        t = _t(g, op, pos)
        if t is None or not t.is_const or t.dtype != "int32" or t.size != units:
            raise EvoError(f"{desc}: missing constant int32 {key} of {units} values", "internal error in the binarize pass")
        p[key] = t.data.reshape(-1).astype(np.int32)
    return p


def requant_q8(acc: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """int32 accumulators [..., C] -> int8, as TFLM's int8 convolution requantises."""
    acc = fx.wrap_int32(np.asarray(acc, dtype=np.int64))
    out = fx.multiply_by_quantized_multiplier(acc, p["q_multiplier"].astype(np.int64), p["q_shift"].astype(np.int64)) + p["out_zp"]
    return np.clip(out, p["act_min"], p["act_max"]).astype(np.int8)


def _transform_struct(p: dict[str, Any]) -> dict[str, Any]:
    if p["out_kind"] == "q8":
        return dict(clamp_min=0, clamp_max=0, multiplier=CExpr("NULL"), bias=CExpr("NULL"), threshold=CExpr("NULL"), rq=_rq_struct(p))
    if p["out_kind"] == "bin":
        return dict(clamp_min=0, clamp_max=0, multiplier=CExpr("NULL"), bias=CExpr("NULL"), threshold=ConstArray("threshold", p["threshold"]))
    return dict(clamp_min=int(p["clamp_min"]), clamp_max=int(p["clamp_max"]), multiplier=ConstArray("multiplier", p["multiplier"]),
                bias=ConstArray("bias", p["bias"]), threshold=CExpr("NULL"))


def _rq_struct(p: dict[str, Any]) -> dict[str, Any]:
    return dict(offset=ConstArray("rq_offset", p["offset"]), factor=ConstArray("rq_factor", p["factor"]),
                pad_term=ConstArray("rq_pad_term", p["pad_term"]), multiplier=ConstArray("rq_mult", p["q_multiplier"]),
                shift=ConstArray("rq_shift", p["q_shift"]), out_zp=p["out_zp"], act_min=p["act_min"], act_max=p["act_max"])


# ----------------------------------------------------------------------------- LceQuantize / LceDequantize


@register
class LceQuantize(OpImpl):
    types = ("CUSTOM:LceQuantize",)

    def check(self, g: Graph, op: Op) -> None:
        x, y = _t(g, op, 0), g.tensor(op.outputs[0])
        desc = _desc(op)
        if x is None or x.dtype not in ("float32", "int8"):
            raise EvoError(f"{desc}: input must be float32 or int8", "re-convert the model")
        if y.dtype != "int32":
            raise EvoError(f"{desc}: output must be bit-packed int32, got {y.dtype}", "re-convert the model")
        c = int(x.shape[-1]) if x.shape else 1
        if tuple(y.shape) != tuple(x.shape[:-1]) + (words(c),):
            raise EvoError(f"{desc}: output shape {list(y.shape)} is not the packed shape of {list(x.shape)}", "re-convert the model")
        if x.dtype == "int8" and (x.quant is None or x.quant.per_channel):
            raise EvoError(f"{desc}: int8 input needs per-tensor quantization", "re-convert the model")

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x = _t(g, op, 0)
        c = int(x.shape[-1])
        zp = int(x.quant.zero_point[0]) if x.dtype == "int8" else 0
        zp = int(op.attrs.get("threshold", zp))  # set by evo.passes.binarize for int8 sign chains
        return {"dtype": x.dtype, "outer": x.size // max(c, 1), "channels": c, "words": words(c), "zero_point": zp}

    def reference(self, g, op, p, inputs):
        x = inputs[0].reshape(p["outer"], p["channels"])
        neg = x.astype(np.int64) < p["zero_point"] if p["dtype"] == "int8" else x < np.float32(0)
        return [pack_bits(neg)]

    def emit(self, g, op, p):
        sfx = "s8" if p["dtype"] == "int8" else "f32"
        return KernelCall(
            func=f"evo_lce_quantize_{sfx}", sources=[f"lce_quantize_{sfx}.c"], header=HEADER,
            params_type="evo_lce_quantize_params_t",
            params={k: p[k] for k in ("outer", "channels", "words", "zero_point")},
            args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
        )


@register
class LceDequantize(OpImpl):
    types = ("CUSTOM:LceDequantize",)

    def check(self, g: Graph, op: Op) -> None:
        x, y = _t(g, op, 0), g.tensor(op.outputs[0])
        desc = _desc(op)
        if x is None or x.dtype != "int32":
            raise EvoError(f"{desc}: input must be bit-packed int32", "re-convert the model")
        if y.dtype not in ("float32", "int8"):
            raise EvoError(f"{desc}: {y.dtype} output is not supported", "use float32 or int8")
        c = int(y.shape[-1])
        if tuple(x.shape) != tuple(y.shape[:-1]) + (words(c),):
            raise EvoError(f"{desc}: input shape {list(x.shape)} is not the packed shape of {list(y.shape)}", "re-convert the model")
        if y.dtype == "int8" and y.quant is None:
            raise EvoError(f"{desc}: int8 output has no quantization", "re-convert the model")

    def prepare(self, g, op):
        y = g.tensor(op.outputs[0])
        c = int(y.shape[-1])
        p = {"dtype": y.dtype, "outer": y.size // max(c, 1), "channels": c, "words": words(c), "q_plus": 0, "q_minus": 0}
        if y.dtype == "int8":
            s, zp = float(y.quant.scale[0]), int(y.quant.zero_point[0])
            p["q_plus"] = fx.quantize_value(1.0, s, zp)
            p["q_minus"] = fx.quantize_value(-1.0, s, zp)
        return p

    def reference(self, g, op, p, inputs):
        bits = unpack_bits(inputs[0].reshape(p["outer"], p["words"]), p["channels"])
        if p["dtype"] == "int8":
            return [np.where(bits == 1, p["q_minus"], p["q_plus"]).astype(np.int8)]
        return [np.where(bits == 1, np.float32(-1), np.float32(1)).astype(np.float32)]

    def emit(self, g, op, p):
        sfx = "s8" if p["dtype"] == "int8" else "f32"
        return KernelCall(
            func=f"evo_lce_dequantize_{sfx}", sources=[f"lce_dequantize_{sfx}.c"], header=HEADER,
            params_type="evo_lce_dequantize_params_t",
            params={k: p[k] for k in ("outer", "channels", "words", "q_plus", "q_minus")},
            args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
        )


# ----------------------------------------------------------------------------- LceBconv2d


def bconv_geometry(in_shape, kh: int, kw: int, o: dict) -> dict[str, int]:
    pad = _PADDING.get(o.get("padding", 0))
    if pad is None:
        raise EvoError(f"padding {o.get('padding')} is not supported", "use SAME or VALID")
    sh, sw = int(o.get("stride_height", 1)), int(o.get("stride_width", 1))
    dh, dw = int(o.get("dilation_height_factor", 1)), int(o.get("dilation_width_factor", 1))
    if min(sh, sw, dh, dw) < 1:
        raise EvoError("strides and dilations must be >= 1", "re-convert the model")
    h, w = int(in_shape[1]), int(in_shape[2])
    oh, ow = compute_out_size(pad, h, kh, sh, dh), compute_out_size(pad, w, kw, sw, dw)
    return dict(padding=pad, stride_h=sh, stride_w=sw, dil_h=dh, dil_w=dw, kh=kh, kw=kw, out_h=oh, out_w=ow,
                pad_h=compute_padding(sh, dh, h, kh, oh), pad_w=compute_padding(sw, dw, w, kw, ow))


def _pads(in_shape, geo: dict) -> bool:
    """True when some output window reaches outside the input (SAME padding in effect)."""
    for size, out, s, d, k in ((in_shape[1], geo["out_h"], geo["stride_h"], geo["dil_h"], geo["kh"]), (in_shape[2], geo["out_w"], geo["stride_w"], geo["dil_w"], geo["kw"])):
        if (out - 1) * s + (k - 1) * d + 1 > size:
            return True
    return False


@register
class LceBconv2d(OpImpl):
    types = ("CUSTOM:LceBconv2d",)

    def check(self, g: Graph, op: Op) -> None:
        desc = _desc(op)
        o = options(op)
        x, f = _t(g, op, 0), _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        if x is None or f is None or x.dtype != "int32" or f.dtype != "int32" or len(x.shape) != 4 or len(f.shape) != 4:
            raise EvoError(f"{desc}: expected a 4-D bit-packed int32 input and filter", "re-convert the model with LCE")
        if not f.is_const:
            raise EvoError(f"{desc}: the filter must be constant", "freeze the weights when converting")
        if _ACT.get(o.get("fused_activation_function", 0)) is None:
            raise EvoError(f"{desc}: fused activation {o.get('fused_activation_function')} is not supported", "use NONE, RELU, RELU_N1_TO_1 or RELU6")
        cin = int(o.get("channels_in", 0))
        if cin <= 0 or words(cin) != x.shape[3] or f.shape[3] != x.shape[3]:
            raise EvoError(f"{desc}: channels_in={cin} does not match the packed input {list(x.shape)} and filter {list(f.shape)}", "re-convert the model")
        if int(o.get("pad_values", 0)) not in (0, 1):
            raise EvoError(f"{desc}: pad_values={o.get('pad_values')} is not supported", "use 0 or 1")
        geo = bconv_geometry(x.shape, int(f.shape[1]), int(f.shape[2]), o)
        co = int(f.shape[0])
        want_c = words(co) if y.dtype == "int32" else co
        if len(y.shape) != 4 or tuple(y.shape) != (x.shape[0], geo["out_h"], geo["out_w"], want_c):
            raise EvoError(f"{desc}: output shape {list(y.shape)} does not match the computed {[x.shape[0], geo['out_h'], geo['out_w'], want_c]}", "re-convert the model")
        if y.dtype == "int32" and int(o.get("pad_values", 0)) == 0 and _pads(x.shape, geo):
            raise EvoError(f"{desc}: bit-packed output with zero-padding (SAME, pad_values=0) is not supported (nor by LCE)", "use pad_values=1 or VALID padding")
        self.prepare(g, op)

    def prepare(self, g, op):
        o = options(op)
        x, f = _t(g, op, 0), _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        cin = int(o["channels_in"])
        geo = bconv_geometry(x.shape, int(f.shape[1]), int(f.shape[2]), o)
        co = int(f.shape[0])
        k = geo["kh"] * geo["kw"] * cin
        act = _ACT[o.get("fused_activation_function", 0)]
        p = dict(geo, cin=cin, co=co, k=k, words=int(x.shape[3]), pad_value=int(o.get("pad_values", 0)),
                 **{"in": tuple(int(d) for d in x.shape), "out": (int(x.shape[0]), geo["out_h"], geo["out_w"], co)})
        p.update(_out_transform_params(g, op, y, k, act, 2, 3, 4, co))
        p["pointwise"] = geo["kh"] == 1 and geo["kw"] == 1 and geo["stride_h"] == 1 and geo["stride_w"] == 1 and p["out_kind"] in ("f32", "bin")
        return p

    def reference(self, g, op, p, inputs):
        x, f = inputs[0], inputs[1]
        cin = p["cin"]
        xb = unpack_bits(x, cin).astype(np.int64)
        fb = unpack_bits(f, cin).astype(np.int64).reshape(p["co"], -1)  # [Co, KH*KW*Cin]
        pat = _patches(xb, p, 0).reshape(p["out"][:3] + (-1,))  # padded taps hold bit 0 (+1)
        inb = _patches(np.ones(xb.shape[:3] + (1,), np.int64), p, 0)  # 1 for in-bounds taps
        inb_full = np.broadcast_to(inb, inb.shape[:-1] + (cin,)).reshape(p["out"][:3] + (-1,))
        dot = pat @ fb.T  # sum of input & filter bits
        if p["out_kind"] == "q8":
            # padded taps gathered as bit 0; zero padding (pad_value 0) removes their contribution
            accum = pat.sum(-1, keepdims=True) + fb.sum(-1) - 2 * dot
            acc = p["offset"] + p["factor"] * accum
            if p["pad_value"] == 0:
                pad_bits = p["k"] - inb_full.sum(-1, keepdims=True)
                pad_pop = fb.sum(-1) - inb_full @ fb.T
                acc = acc - p["pad_term"] * (pad_bits - 2 * pad_pop)
            return [requant_q8(acc, p)]
        if p["pad_value"] == 1:
            accum = pat.sum(-1, keepdims=True) + fb.sum(-1) - 2 * dot
            k_eff = np.full(accum.shape, p["k"], dtype=np.int64)
        else:
            accum = pat.sum(-1, keepdims=True) + inb_full @ fb.T - 2 * dot
            k_eff = np.broadcast_to(inb_full.sum(-1, keepdims=True), accum.shape)
        return [_transform(k_eff - 2 * accum, accum, p)]

    def emit(self, g, op, p):
        kind = p["out_kind"]
        pw = "pw_" if p["pointwise"] else ""
        params = {
            "in": {"n": p["in"][0], "h": p["in"][1], "w": p["in"][2], "c": p["cin"]},
            "out": _dims(p["out"]),
            "words": p["words"],
            "out_words": words(p["co"]),
            **{k: p[k] for k in ("kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w", "pad_value")},
            **_transform_struct(p),
        }
        return KernelCall(
            func=f"evo_bconv2d_{pw}{kind}", sources=[f"bconv2d_{pw}{kind}.c"], header=HEADER,
            params_type="evo_bconv2d_params_t", params=params,
            args=[TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(op.outputs[0])] + ([] if pw else [Scratch()]),
            scratch_bytes=0 if pw else 4 * p["kh"] * p["kw"] * p["words"],
        )

    def specialise(self, g, op, p, call, target):
        return specialise_bconv(g, op, p, call, target)

    def macs(self, g, op):
        """Binary MACs (one per weight bit and output pixel)."""
        f, y = _t(g, op, 1), g.tensor(op.outputs[0])
        cin = int(options(op).get("channels_in", 0))
        return int(y.shape[0] * y.shape[1] * y.shape[2] * f.shape[0] * f.shape[1] * f.shape[2] * cin)


# ----------------------------------------------------------------------------- QBConv2D


@register
class QBConv2d(OpImpl):
    """QBConv2D: int8 input, binary weights. Made by evo.passes.binarize from an int8 CONV_2D whose
    per-channel weights are all +-w[c]: inputs [x int8, sign bits [Co, ceil(KH*KW*Cin / 32)] (each
    channel's flattened HWI filter packed as one bit string, so a 3-channel first layer packs 27
    weights in one word), offset (= bias), factor (= w[c]), -1, pad_term (unused), requantisation
    multiplier, shift]; attrs: channels_in, kernel_h, kernel_w, padding, strides, dilations,
    act_min, act_max, requant=True."""

    types = ("CUSTOM:EvoQBConv2d",)

    def check(self, g, op):
        desc = _desc(op)
        x, f, y = _t(g, op, 0), _t(g, op, 1), g.tensor(op.outputs[0])
        if x is None or f is None or x.dtype != "int8" or y.dtype != "int8" or f.dtype != "int32" or not f.is_const or len(x.shape) != 4 or len(f.shape) != 2:
            raise EvoError(f"{desc}: expected int8 input/output and a constant packed filter", "this op is made by EVO's binarize pass")
        if x.quant is None or x.quant.per_channel:
            raise EvoError(f"{desc}: the int8 input needs per-tensor quantization", "re-convert the model")
        cin, kh, kw = (int(op.attrs.get(k, 0)) for k in ("channels_in", "kernel_h", "kernel_w"))
        if cin != int(x.shape[3]) or min(kh, kw) < 1 or words(kh * kw * cin) != int(f.shape[1]):
            raise EvoError(f"{desc}: channels_in={cin}, kernel {kh}x{kw} do not match the input {list(x.shape)} and filter {list(f.shape)}", "internal error")
        p = self.prepare(g, op)
        if tuple(y.shape) != p["out"]:
            raise EvoError(f"{desc}: output shape {list(y.shape)} does not match the computed {list(p['out'])}", "internal error")

    def prepare(self, g, op):
        x, f, y = _t(g, op, 0), _t(g, op, 1), g.tensor(op.outputs[0])
        kh, kw = int(op.attrs["kernel_h"]), int(op.attrs["kernel_w"])
        geo = bconv_geometry(x.shape, kh, kw, op.attrs)
        co = int(f.shape[0])
        p = dict(geo, cin=int(x.shape[3]), co=co, k=kh * kw * int(x.shape[3]), words=int(f.shape[1]), input_offset=-int(x.quant.zero_point[0]),
                 **{"in": tuple(int(d) for d in x.shape), "out": (int(x.shape[0]), geo["out_h"], geo["out_w"], co)})
        p.update(_requant_params(g, op, y, co))
        return p

    def reference(self, g, op, p, inputs):
        xs = inputs[0].astype(np.int64) + p["input_offset"]
        signs = 1 - 2 * unpack_bits(inputs[1], p["k"]).astype(np.int64)  # [Co, K]
        pat = _patches(xs, p, 0).reshape(p["out"][:3] + (-1,))  # zero-point padding adds 0
        return [requant_q8(p["offset"] + p["factor"] * (pat @ signs.T), p)]

    def emit(self, g, op, p):
        params = {"in": _dims(p["in"]), "out": _dims(p["out"]), "words": p["words"], "input_offset": p["input_offset"],
                  **{k: p[k] for k in ("kh", "kw", "stride_h", "stride_w", "dil_h", "dil_w", "pad_h", "pad_w")}, "rq": _rq_struct(p)}
        return KernelCall(func="evo_qbconv2d_s8", sources=["qbconv2d_s8.c"], header=HEADER, params_type="evo_qbconv2d_params_t",
                          params=params, args=[TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(op.outputs[0]), Scratch()],
                          scratch_bytes=4 * p["co"] + 256 + 64 * p["words"])  # sums, one word of tables, int16 field

    def macs(self, g, op):
        y = g.tensor(op.outputs[0])
        return int(y.size * int(op.attrs.get("kernel_h", 0)) * int(op.attrs.get("kernel_w", 0)) * int(op.attrs.get("channels_in", 0)))


# ----------------------------------------------------------------------------- LceBMaxPool2d


@register
class LceBMaxPool2d(OpImpl):
    types = ("CUSTOM:LceBMaxPool2d",)

    def check(self, g, op):
        desc = _desc(op)
        x, y = _t(g, op, 0), g.tensor(op.outputs[0])
        if x is None or x.dtype != "int32" or y.dtype != "int32" or len(x.shape) != 4:
            raise EvoError(f"{desc}: expected 4-D bit-packed int32 input and output", "re-convert the model")
        p = self.prepare(g, op)
        if tuple(y.shape) != p["out"]:
            raise EvoError(f"{desc}: output shape {list(y.shape)} does not match the computed {list(p['out'])}", "re-convert the model")

    def prepare(self, g, op):
        o = options(op)
        x = _t(g, op, 0)
        pad = _PADDING.get(o.get("padding", 1))
        if pad is None:
            raise EvoError(f"{_desc(op)}: padding {o.get('padding')} is not supported", "use SAME or VALID")
        fh, fw = int(o.get("filter_height", 1)), int(o.get("filter_width", 1))
        sh, sw = int(o.get("stride_height", 1)), int(o.get("stride_width", 1))
        if min(fh, fw, sh, sw) < 1:
            raise EvoError(f"{_desc(op)}: filter and strides must be >= 1", "re-convert the model")
        h, w = int(x.shape[1]), int(x.shape[2])
        oh, ow = compute_out_size(pad, h, fh, sh, 1), compute_out_size(pad, w, fw, sw, 1)
        return dict(filter_h=fh, filter_w=fw, stride_h=sh, stride_w=sw, pad_h=compute_padding(sh, 1, h, fh, oh),
                    pad_w=compute_padding(sw, 1, w, fw, ow), **{"in": tuple(int(d) for d in x.shape), "out": (int(x.shape[0]), oh, ow, int(x.shape[3]))})

    def reference(self, g, op, p, inputs):
        x = inputs[0].astype(np.int32).view(np.uint32)
        n, oh, ow, c = p["out"]
        out = np.empty((n, oh, ow, c), dtype=np.uint32)
        for oy in range(oh):
            y0 = oy * p["stride_h"] - p["pad_h"]
            ys = slice(max(0, y0), min(p["in"][1], y0 + p["filter_h"]))
            for ox in range(ow):
                x0 = ox * p["stride_w"] - p["pad_w"]
                xs = slice(max(0, x0), min(p["in"][2], x0 + p["filter_w"]))
                out[:, oy, ox, :] = np.bitwise_and.reduce(x[:, ys, xs, :].reshape(n, -1, c), axis=1)
        return [out.view(np.int32)]

    def emit(self, g, op, p):
        params = {"in": _dims(p["in"]), "out": _dims(p["out"]), **{k: p[k] for k in ("filter_h", "filter_w", "stride_h", "stride_w", "pad_h", "pad_w")}}
        return KernelCall(func="evo_bmaxpool2d", sources=["bmaxpool2d.c"], header=HEADER, params_type="evo_bmaxpool2d_params_t",
                          params=params, args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])])


# ----------------------------------------------------------------------------- binary fully connected


@register
class BFullyConnected(OpImpl):
    """Binary dense layer: inputs [packed x [B, words], packed weights [units, words],
    multiplier, bias, threshold]; attrs {'channels': K}."""

    types = ("CUSTOM:EvoBFullyConnected",)

    def check(self, g, op):
        desc = _desc(op)
        x, w = _t(g, op, 0), _t(g, op, 1)
        if x is None or w is None or x.dtype != "int32" or w.dtype != "int32" or not w.is_const or len(w.shape) != 2:
            raise EvoError(f"{desc}: expected a bit-packed input and constant packed weights [units, words]", "this op is made by EVO's binarize pass")
        if words(int(op.attrs.get("channels", 0))) != w.shape[1] or x.size % w.shape[1]:
            raise EvoError(f"{desc}: channels={op.attrs.get('channels')} does not match the packed weights {list(w.shape)}", "internal error")
        self.prepare(g, op)

    def prepare(self, g, op):
        x, w = _t(g, op, 0), _t(g, op, 1)
        y = g.tensor(op.outputs[0])
        k, units = int(op.attrs["channels"]), int(w.shape[0])
        p = dict(k=k, units=units, words=int(w.shape[1]), batches=x.size // int(w.shape[1]))
        p.update(_out_transform_params(g, op, y, k, _ACT[op.attrs.get("fused_activation_function", "NONE")], 2, 3, 4, units))
        return p

    def reference(self, g, op, p, inputs):
        xb = unpack_bits(inputs[0].reshape(p["batches"], p["words"]), p["k"]).astype(np.int64)
        wb = unpack_bits(inputs[1], p["k"]).astype(np.int64)
        accum = xb.sum(-1, keepdims=True) + wb.sum(-1) - 2 * (xb @ wb.T)
        if p["out_kind"] == "q8":
            return [requant_q8(p["offset"] + p["factor"] * accum, p)]
        return [_transform(p["k"] - 2 * accum, accum, p)]

    def emit(self, g, op, p):
        kind = p["out_kind"]
        func = {"bin": "bbfc_bin", "s8": "bbqfc_s8", "f32": "bbfc_f32", "q8": "bbfc_q8"}[kind]
        params = dict(batches=p["batches"], channels=p["k"], words=p["words"], units=p["units"], out_words=words(p["units"]), **_transform_struct(p))
        return KernelCall(func=f"evo_{func}", sources=[f"{func}.c"], header=HEADER, params_type="evo_bfc_params_t", params=params,
                          args=[TensorArg(op.inputs[0]), TensorArg(op.inputs[1]), TensorArg(op.outputs[0])])

    def macs(self, g, op):
        w = _t(g, op, 1)
        return int(g.tensor(op.outputs[0]).size // max(1, (w.shape[0] if g.tensor(op.outputs[0]).dtype != "int32" else words(w.shape[0]))) * w.shape[0] * int(op.attrs.get("channels", 0)))


# ----------------------------------------------------------------------------- reports


BINARY_OPS = ("CUSTOM:LceBconv2d", "CUSTOM:EvoBFullyConnected", "CUSTOM:EvoQBConv2d")


def binary_summary(g: Graph) -> dict | None:
    """Binary layers of `g`: packed weight bytes vs the same weights as int8 and float32."""
    layers = []
    for op in g.ops:
        if op.type not in BINARY_OPS:
            continue
        f = _t(g, op, 1)
        if f is None or not f.is_const:
            continue
        if op.type == "CUSTOM:LceBconv2d":
            try:
                cin = int(options(op).get("channels_in", 0))
            except EvoError:
                cin = 0
            n = int(f.shape[0] * f.shape[1] * f.shape[2]) * cin
        elif op.type == "CUSTOM:EvoQBConv2d":
            n = int(f.shape[0]) * int(op.attrs.get("kernel_h", 0)) * int(op.attrs.get("kernel_w", 0)) * int(op.attrs.get("channels_in", 0))
        else:
            n = int(f.shape[0]) * int(op.attrs.get("channels", 0))
        layers.append(dict(index=op.index, op=op.type, weights=n, packed_bytes=f.nbytes, int8_bytes=n, float_bytes=4 * n,
                           binarized_from=op.attrs.get("binarized_from"), input=_t(g, op, 0).dtype if _t(g, op, 0) is not None else None,
                           output=g.tensor(op.outputs[0]).dtype))
    if not layers:
        return None
    packed = sum(x["packed_bytes"] for x in layers)
    return dict(layers=layers, packed_weight_bytes=packed, int8_weight_bytes=sum(x["int8_bytes"] for x in layers),
                float_weight_bytes=sum(x["float_bytes"] for x in layers),
                saved_vs_int8_bytes=sum(x["int8_bytes"] for x in layers) - packed)
