"""Activations: SOFTMAX, LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, HARD_SWISH.

int8 arithmetic follows TFLite Micro's reference kernels (the oracle):

* SOFTMAX int8 -> int8: output must be scale 1/256, zero point -128 (TFLM rejects anything
  else). Prepare: PreprocessSoftmaxScaling(beta, input_scale, 5) in double, capped at 2^31 - 1
  and quantized with QuantizeMultiplierGreaterThanOne; diff_min = -CalculateInputRadius(5,
  shift). Eval: gemmlowp exp_on_negative_values on Q5.26 differences, Q12.19 sum, GetReciprocal,
  rounding shift by num_bits_over_unit + 23, offset -128.
* LOGISTIC / TANH int8: input_scale * 2^27 split with frexp (double) into multiplier and left
  shift, radius = floor(15 * 2^27 / 2^shift); inside the radius the input is rescaled to Q4.27
  (MultiplyByQuantizedMultiplier) and fed to gemmlowp logistic / tanh. LOGISTIC requires output
  zero point -128 (TFLM checks only that); TANH's output quantization is not checked by TFLM and
  the result is always on scale 1/128, zero point 0.
* RELU int8: requantized with QuantizeMultiplier(input_scale / output_scale) (double), clamped
  to [max(-128, zp_out), 127]. RELU6 int8: TFLM does NOT requantize: it clamps the raw input to
  [zp_in, clamp(round(6 / scale_in) + zp_in)] in the input's quantization. RELU_N1_TO_1 (not
  in TFLM) requantizes like RELU and clamps to the quantized [-1, 1].
* LEAKY_RELU int8: alpha multiplier from float32 (in_scale * alpha / out_scale), identity from
  float32 in_scale / out_scale; a negative alpha keeps its sign apart, as TFLM does.
* HARD_SWISH int8: HardSwishParams computed in float32 (hires scale = in_scale / 128, relu-ish
  scale 3/32768), QuantizeMultiplier then DownScaleInt32ToInt16Multiplier; the 16-bit
  fixed-point evaluation is emulated exactly, including int16 wrap-around. TFLM rejects
  in_scale / 128 >= out_scale (output multiplier exponent > 0).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.ops import softmax_s16
from evo.ops.base import KernelCall, OpImpl, TensorArg, register
from evo.ref import fixedpoint as fx
from evo.ref import gemmlowp as gl

_SUFFIX = {"int8": "s8", "float32": "f32"}


# --------------------------------------------------------------------------------------------
# Shared checks and helpers
# --------------------------------------------------------------------------------------------


def _io(g: Graph, op: Op):
    return g.tensor(op.inputs[0]), g.tensor(op.outputs[0])


def _check_unary(g: Graph, op: Op) -> None:
    if len(op.inputs) < 1 or op.inputs[0] < 0 or len(op.outputs) != 1:
        raise EvoError(f"{op.type} needs one input and one output", "re-export the model")
    x, y = _io(g, op)
    if x.dtype not in _SUFFIX:
        raise EvoError(f"{op.type} with {x.dtype} tensors is not supported", "use int8 or float32")
    if y.dtype != x.dtype:
        raise EvoError(f"{op.type} with {x.dtype} input and {y.dtype} output is not supported", "use the same type for both")
    if x.size != y.size:
        raise EvoError(f"{op.type}: output shape {list(y.shape)} does not match input shape {list(x.shape)}", "re-export the model")
    if x.dtype == "int8":
        for t, what in ((x, "input"), (y, "output")):
            q = t.quant
            if q is None or q.scale.size == 0:
                raise EvoError(f"{op.type}: int8 {what} tensor {t.name} has no quantization", "quantize the model fully")
            if q.per_channel:
                raise EvoError(f"{op.type}: per-channel quantization of the {what} is not supported", "use per-tensor quantization")
            if not float(q.scale[0]) > 0.0:
                raise EvoError(f"{op.type}: {what} tensor {t.name} has scale {float(q.scale[0])}", "use a positive scale")


def _scale(t) -> float:
    return float(t.quant.scale[0])


def _zp(t) -> int:
    return int(t.quant.zero_point[0])


def _f32(v) -> np.float32:
    return np.float32(v)


def _frexp_multiplier(real: float) -> tuple[int, int]:
    """frexp + round(q * 2^31) without the 2^31 fix-up (TFLM's LOGISTIC/TANH Prepare)."""
    q, shift = math.frexp(real)
    return fx.round_half_away(q * (1 << 31)), shift


def _input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    """CalculateInputRadius (double arithmetic, floor)."""
    v = 1.0 * ((1 << integer_bits) - 1) * float(1 << (total_signed_bits - integer_bits)) / float(1 << left_shift)
    return int(math.floor(v))


def _wrap16(v):
    v = np.asarray(v, dtype=np.int64)
    return ((v + 32768) & 0xFFFF) - 32768


def _trunc_div(a, d: int):
    a = np.asarray(a, dtype=np.int64)
    q = np.abs(a) // d
    return np.where(a < 0, -q, q)


def _call(g: Graph, op: Op, name: str, params_type: str, params: dict[str, Any]) -> KernelCall:
    suffix = _SUFFIX[g.tensor(op.inputs[0]).dtype]
    return KernelCall(
        func=f"evo_{name}_{suffix}",
        sources=[f"{name}_{suffix}.c"],
        header="activation.h",
        params_type=params_type,
        params=params,
        args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
    )


# --------------------------------------------------------------------------------------------
# SOFTMAX
# --------------------------------------------------------------------------------------------

_SOFTMAX_DIFF_BITS = 5
_SOFTMAX_ACCUM_BITS = 12


@register
class Softmax(OpImpl):
    types = ("SOFTMAX",)

    def check(self, g: Graph, op: Op) -> None:
        x, y = _io(g, op)
        if x.dtype == "int16":  # 16x8 mode: evo/ops/softmax_s16.py
            softmax_s16.check(g, op, x, y)
        else:
            _check_unary(g, op)
        if len(x.shape) < 1:
            raise EvoError("SOFTMAX needs an input of rank 1 or more", "reshape the input")
        if tuple(x.shape) != tuple(y.shape):
            raise EvoError(f"SOFTMAX: output shape {list(y.shape)} differs from input {list(x.shape)}", "re-export the model")
        beta = float(op.attrs.get("beta", 1.0))
        if x.dtype == "int8":
            if _zp(y) != -128 or np.float32(y.quant.scale[0]) != np.float32(1.0 / 256):
                raise EvoError(
                    f"int8 SOFTMAX output must have scale 1/256 and zero point -128, got scale {_scale(y):.6g} "
                    f"zero point {_zp(y)} (TFLM rejects it too)",
                    "re-quantize the model with the converter's default softmax output quantization",
                )
            real = beta * _scale(x) * float(1 << (31 - _SOFTMAX_DIFF_BITS))
            if not min(real, float((1 << 31) - 1)) > 1.0:
                raise EvoError(
                    f"int8 SOFTMAX with beta {beta:.6g} and input scale {_scale(x):.6g} is not supported "
                    "(TFLM requires beta * scale * 2^26 > 1)",
                    "use a larger input scale or beta",
                )

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, _ = _io(g, op)
        depth = int(x.shape[-1])
        p: dict[str, Any] = {"depth": depth, "outer": x.size // depth if depth else 0}
        beta = float(np.float32(op.attrs.get("beta", 1.0)))
        p["beta"] = beta
        if x.dtype == "int16":
            p.update(softmax_s16.prepare(g, op, x))
        if x.dtype == "int8":
            real = min(beta * _scale(x) * float(1 << (31 - _SOFTMAX_DIFF_BITS)), float((1 << 31) - 1))
            mult, shift = fx.quantize_multiplier(real)
            p["input_multiplier"], p["input_left_shift"] = mult, shift
            p["diff_min"] = int(-1.0 * _input_radius(_SOFTMAX_DIFF_BITS, shift))
        return p

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        x = inputs[0]
        if x.dtype == np.int16:
            return [softmax_s16.reference(p, x)]
        rows = x.reshape(p["outer"], p["depth"])
        if x.dtype == np.float32:
            mx = rows.max(axis=1, keepdims=True)
            e = np.exp((rows - mx) * np.float32(p["beta"])).astype(np.float32)
            s = np.zeros((rows.shape[0], 1), dtype=np.float32)
            for c in range(rows.shape[1]):  # sequential float32 sum, as the kernel does
                s += e[:, c : c + 1]
            return [(e / s).astype(np.float32).reshape(x.shape)]
        xi = rows.astype(np.int64)
        diff = xi - xi.max(axis=1, keepdims=True)
        valid = diff >= p["diff_min"]
        scaled = fx.multiply_by_quantized_multiplier_greater_than_one(
            np.where(valid, diff, 0), p["input_multiplier"], p["input_left_shift"]
        )
        e = gl.exp_on_negative_values(scaled, _SOFTMAX_DIFF_BITS)
        contrib = np.where(valid, fx.rounding_divide_by_pot(e, _SOFTMAX_ACCUM_BITS), 0)
        total = np.zeros(rows.shape[0], dtype=np.int64)
        for c in range(rows.shape[1]):  # int32 accumulation wraps like the C build
            total = fx.wrap_int32(total + contrib[:, c])
        scale, bits = gl.get_reciprocal(total, _SOFTMAX_ACCUM_BITS)
        exponent = bits + 31 - 8
        if np.any((exponent < 0) | (exponent > 31)):
            raise EvoError(
                "int8 SOFTMAX: the sum of exponentials overflows TFLM's fixed-point range (row too long)",
                "split the softmax or use float32",
            )
        out = fx.rounding_divide_by_pot(gl.srdhm(scale[:, None], e), exponent[:, None]) - 128
        out = np.where(valid, np.clip(out, -128, 127), -128)
        return [out.astype(np.int8).reshape(x.shape)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        if g.tensor(op.inputs[0]).dtype == "int16":
            return softmax_s16.emit(op, p)
        if g.tensor(op.inputs[0]).dtype == "float32":
            return _call(g, op, "softmax", "evo_softmax_f32_params_t", {"outer": p["outer"], "depth": p["depth"], "beta": p["beta"]})
        params = {k: int(p[k]) for k in ("outer", "depth", "input_multiplier", "input_left_shift", "diff_min")}
        return _call(g, op, "softmax", "evo_softmax_params_t", params)

    def macs(self, g: Graph, op: Op) -> int:
        return g.tensor(op.inputs[0]).size


# --------------------------------------------------------------------------------------------
# LOGISTIC, TANH
# --------------------------------------------------------------------------------------------

_Q4_INPUT_BITS = 4


class _Sigmoidal(OpImpl):
    inplace_inputs = (0,)  # logistic_*/tanh_*: out[i] = f(in[i]), i ascending
    name = ""

    def _check_output(self, g: Graph, op: Op) -> None:
        pass

    def check(self, g: Graph, op: Op) -> None:
        _check_unary(g, op)
        x, _ = _io(g, op)
        if x.dtype == "int8":
            self._check_output(g, op)
            _, shift = _frexp_multiplier(_scale(x) * float(1 << (31 - _Q4_INPUT_BITS)))
            if shift < 0:
                raise EvoError(
                    f"int8 {op.type} with input scale {_scale(x):.3g} is not supported (below 2^-28)", "use a larger input scale"
                )

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, _ = _io(g, op)
        p: dict[str, Any] = {"size": x.size}
        if x.dtype == "int8":
            mult, shift = _frexp_multiplier(_scale(x) * float(1 << (31 - _Q4_INPUT_BITS)))
            p.update(
                input_zero_point=_zp(x),
                input_multiplier=mult,
                input_left_shift=shift,
                input_range_radius=_input_radius(_Q4_INPUT_BITS, shift),
            )
        return p

    def _fixed(self, q4: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _float(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        x = inputs[0]
        if x.dtype == np.float32:
            return [self._float(x).astype(np.float32)]
        v = x.astype(np.int64) - p["input_zero_point"]
        r = p["input_range_radius"]
        inside = (v > -r) & (v < r)
        q4 = fx.multiply_by_quantized_multiplier(np.where(inside, v, 0), p["input_multiplier"], p["input_left_shift"])
        y = np.clip(self._fixed(q4), -128, 127)
        out = np.where(v <= -r, -128, np.where(v >= r, 127, y))
        return [out.astype(np.int8)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        if g.tensor(op.inputs[0]).dtype == "float32":
            return _call(g, op, self.name, "evo_act_f32_params_t", {"size": p["size"]})
        params = {k: int(p[k]) for k in ("size", "input_zero_point", "input_range_radius", "input_multiplier", "input_left_shift")}
        return _call(g, op, self.name, f"evo_{self.name}_params_t", params)

    def macs(self, g: Graph, op: Op) -> int:
        return g.tensor(op.inputs[0]).size


@register
class Logistic(_Sigmoidal):
    types = ("LOGISTIC",)
    name = "logistic"

    def _check_output(self, g: Graph, op: Op) -> None:
        _, y = _io(g, op)
        if _zp(y) != -128:
            raise EvoError(
                f"int8 LOGISTIC output must have zero point -128, got {_zp(y)} (TFLM rejects it too)",
                "quantize the output with scale 1/256 and zero point -128",
            )

    def _fixed(self, q4: np.ndarray) -> np.ndarray:
        return fx.rounding_divide_by_pot(gl.logistic(q4, _Q4_INPUT_BITS), 31 - 8) - 128

    def _float(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            mid = (np.float32(1.0) / (np.float32(1.0) + np.exp(-x))).astype(np.float32)
        return np.where(x > np.float32(16.619047164916992188), np.float32(1.0), np.where(x < np.float32(-9.0), np.exp(x), mid))


@register
class Tanh(_Sigmoidal):
    types = ("TANH",)
    name = "tanh"

    def _fixed(self, q4: np.ndarray) -> np.ndarray:
        return fx.rounding_divide_by_pot(gl.tanh(q4, _Q4_INPUT_BITS), 31 - 7)

    def _float(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)


# --------------------------------------------------------------------------------------------
# RELU, RELU6, RELU_N1_TO_1
# --------------------------------------------------------------------------------------------

_FLOAT_RANGE = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


@register
class Relu(OpImpl):
    types = ("RELU", "RELU6", "RELU_N1_TO_1")
    inplace_inputs = (0,)  # out[i] = f(in[i]), i ascending

    def check(self, g: Graph, op: Op) -> None:
        _check_unary(g, op)

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, y = _io(g, op)
        lo, hi = _FLOAT_RANGE[op.type]
        p: dict[str, Any] = {"size": x.size, "lo": lo, "hi": 0.0 if hi is None else hi, "has_hi": hi is not None}
        if x.dtype != "int8":
            return p
        if op.type == "RELU6":
            # TFLM clamps in the input's quantization and does not rescale.
            six = fx.round_half_away(float(_f32(6.0) / _f32(_scale(x)))) + _zp(x)
            p.update(requantize=False, input_offset=0, output_offset=0, multiplier=0, shift=0,
                     act_min=_zp(x), act_max=int(np.clip(six, -128, 127)))
            return p
        mult, shift = fx.quantize_multiplier(_scale(x) / _scale(y))
        if op.type == "RELU":
            act_min, act_max = max(-128, _zp(y)), 127
        else:
            act_min, act_max = fx.activation_range_quantized("RELU_N1_TO_1", "int8", _scale(y), _zp(y))
        p.update(requantize=True, input_offset=_zp(x), output_offset=_zp(y), multiplier=mult, shift=shift,
                 act_min=act_min, act_max=act_max)
        return p

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        x = inputs[0]
        if x.dtype == np.float32:
            out = np.where(x < np.float32(p["lo"]), np.float32(p["lo"]), x)
            if p["has_hi"]:
                out = np.where(out > np.float32(p["hi"]), np.float32(p["hi"]), out)
            return [out.astype(np.float32)]
        v = x.astype(np.int64)
        if p["requantize"]:
            v = p["output_offset"] + fx.multiply_by_quantized_multiplier(v - p["input_offset"], p["multiplier"], p["shift"])
        return [np.clip(v, p["act_min"], p["act_max"]).astype(np.int8)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        if g.tensor(op.inputs[0]).dtype == "float32":
            params = {"size": p["size"], "lo": float(p["lo"]), "hi": float(p["hi"]), "has_hi": int(p["has_hi"])}
            return _call(g, op, "relu", "evo_relu_f32_params_t", params)
        keys = ("size", "input_offset", "output_offset", "multiplier", "shift", "act_min", "act_max", "requantize")
        return _call(g, op, "relu", "evo_relu_params_t", {k: int(p[k]) for k in keys})


# --------------------------------------------------------------------------------------------
# LEAKY_RELU
# --------------------------------------------------------------------------------------------


@register
class LeakyRelu(OpImpl):
    types = ("LEAKY_RELU",)
    inplace_inputs = (0,)  # out[i] = f(in[i]), i ascending

    def check(self, g: Graph, op: Op) -> None:
        _check_unary(g, op)

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, y = _io(g, op)
        alpha = _f32(op.attrs.get("alpha", 0.0))
        p: dict[str, Any] = {"size": x.size, "alpha": float(alpha)}
        if x.dtype == "int8":
            alpha_real = float((_f32(_scale(x)) * alpha) / _f32(_scale(y)))
            m_alpha, s_alpha = fx.quantize_multiplier(alpha_real)
            m_id, s_id = fx.quantize_multiplier(float(_f32(_scale(x)) / _f32(_scale(y))))
            p.update(
                input_offset=_zp(x), output_offset=_zp(y),
                multiplier_alpha=abs(m_alpha), shift_alpha=s_alpha, alpha_negative=m_alpha < 0,
                multiplier_identity=m_id, shift_identity=s_id,
            )
        return p

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        x = inputs[0]
        if x.dtype == np.float32:
            return [np.where(x > 0, x, x * np.float32(p["alpha"])).astype(np.float32)]
        v = x.astype(np.int64) - p["input_offset"]
        ident = fx.multiply_by_quantized_multiplier(v, p["multiplier_identity"], p["shift_identity"])
        scaled = fx.multiply_by_quantized_multiplier(v, p["multiplier_alpha"], p["shift_alpha"])
        if p["alpha_negative"]:
            scaled = -scaled
        out = p["output_offset"] + np.where(v >= 0, ident, scaled)
        return [np.clip(out, -128, 127).astype(np.int8)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        if g.tensor(op.inputs[0]).dtype == "float32":
            return _call(g, op, "leaky_relu", "evo_leaky_relu_f32_params_t", {"size": p["size"], "alpha": p["alpha"]})
        keys = ("size", "input_offset", "output_offset", "multiplier_alpha", "shift_alpha", "alpha_negative",
                "multiplier_identity", "shift_identity")
        return _call(g, op, "leaky_relu", "evo_leaky_relu_params_t", {k: int(p[k]) for k in keys})


# --------------------------------------------------------------------------------------------
# HARD_SWISH
# --------------------------------------------------------------------------------------------


def downscale_int32_to_int16_multiplier(m: int) -> int:
    """DownScaleInt32ToInt16Multiplier: round a Q0.31 multiplier to Q0.15, saturating."""
    if m >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (m + (1 << 15)) >> 16


def _hard_swish_params(in_scale: float, out_scale: float) -> tuple[int, int, int, int]:
    """(output_mult16, output_exponent, reluish_mult16, reluish_exponent) as TFLM's Prepare (float32)."""
    hires = _f32(1.0 / 128.0) * _f32(in_scale)
    reluish_scale = _f32(3.0) / _f32(32768.0)
    om, oe = fx.quantize_multiplier(float(hires / _f32(out_scale)))
    rm, re_ = fx.quantize_multiplier(float(hires / reluish_scale))
    return downscale_int32_to_int16_multiplier(om), oe, downscale_int32_to_int16_multiplier(rm), re_


def _srdhm16(a, b):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    r = _wrap16(_trunc_div(ab + nudge, 1 << 15))
    return np.where((a == b) & (a == -32768), 32767, r)


def _sdhm16(a, b):
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    r = _wrap16(_trunc_div(a * b, 1 << 15))
    return np.where((a == b) & (a == -32768), 32767, r)


def _sat_left_shift16(v, amount: int):
    return np.clip(np.asarray(v, dtype=np.int64) * (1 << amount), -32768, 32767)


def _rdivpot16(x, exponent: int):
    """gemmlowp RoundingDivideByPOT instantiated for int16 (mask and sums wrap to int16)."""
    x = np.asarray(x, dtype=np.int64)
    mask = int(_wrap16((1 << exponent) - 1))
    remainder = _wrap16(x & mask)
    threshold = _wrap16((mask >> 1) + (x < 0).astype(np.int64))
    return _wrap16((x >> exponent) + (remainder > threshold).astype(np.int64))


@register
class HardSwish(OpImpl):
    types = ("HARD_SWISH",)
    inplace_inputs = (0,)  # out[i] = f(in[i]), i ascending

    def check(self, g: Graph, op: Op) -> None:
        _check_unary(g, op)
        x, y = _io(g, op)
        if x.dtype == "int8":
            _, oe, _, re_ = _hard_swish_params(_scale(x), _scale(y))
            if oe > 0:
                raise EvoError(
                    f"int8 HARD_SWISH with input scale {_scale(x):.6g} and output scale {_scale(y):.6g} is not supported: "
                    "input_scale / 128 must be below the output scale (TFLM rejects it too)",
                    "re-quantize the output with a larger scale",
                )
            if re_ > 31:
                raise EvoError(f"int8 HARD_SWISH input scale {_scale(x):.6g} is too large", "re-quantize the input")

    def prepare(self, g: Graph, op: Op) -> dict[str, Any]:
        x, y = _io(g, op)
        p: dict[str, Any] = {"size": x.size}
        if x.dtype == "int8":
            om, oe, rm, re_ = _hard_swish_params(_scale(x), _scale(y))
            p.update(
                input_zero_point=_zp(x), output_zero_point=_zp(y),
                output_multiplier_fixedpoint_int16=om, output_multiplier_exponent=oe,
                reluish_multiplier_fixedpoint_int16=rm, reluish_multiplier_exponent=re_,
            )
        return p

    def reference(self, g: Graph, op: Op, p: dict[str, Any], inputs: list[np.ndarray | None]) -> list[np.ndarray]:
        x = inputs[0]
        if x.dtype == np.float32:
            r = np.minimum(np.float32(6.0), np.maximum(np.float32(0.0), x + np.float32(3.0)))
            return [(x * r / np.float32(6.0)).astype(np.float32)]
        v = _wrap16(x.astype(np.int64) - p["input_zero_point"])
        hires = _wrap16(v * 128)
        preshift = _srdhm16(hires, p["output_multiplier_fixedpoint_int16"])
        re_ = p["reluish_multiplier_exponent"]
        reluish = hires
        if re_ > 0:
            reluish = _sat_left_shift16(reluish, re_ - 1)
        reluish = _srdhm16(reluish, p["reluish_multiplier_fixedpoint_int16"])
        if re_ > 0:
            reluish = _sat_left_shift16(reluish, 1)
        if re_ < 0:
            reluish = _rdivpot16(reluish, -re_)
        reluish = _wrap16((reluish + (1 << 15)) >> 1)
        out = _sdhm16(reluish, preshift)
        out = _rdivpot16(out, -p["output_multiplier_exponent"])
        out = _wrap16(out + p["output_zero_point"])
        return [np.clip(out, -128, 127).astype(np.int8)]

    def emit(self, g: Graph, op: Op, p: dict[str, Any]) -> KernelCall:
        if g.tensor(op.inputs[0]).dtype == "float32":
            return _call(g, op, "hard_swish", "evo_act_f32_params_t", {"size": p["size"]})
        keys = ("size", "input_zero_point", "output_zero_point", "reluish_multiplier_fixedpoint_int16",
                "reluish_multiplier_exponent", "output_multiplier_fixedpoint_int16", "output_multiplier_exponent")
        return _call(g, op, "hard_swish", "evo_hard_swish_params_t", {k: int(p[k]) for k in keys})

    def macs(self, g: Graph, op: Op) -> int:
        return g.tensor(op.inputs[0]).size
