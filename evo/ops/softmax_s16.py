"""SOFTMAX with int16 input and output (16x8 mode), as TFLM's reference SoftmaxInt16 computes it.

* Input symmetric int16 (zero point 0); output zero point 0, scale 1/32768 (TFLM checks both).
* Prepare: two 513-entry int16 tables built in float32 - exp(x) on [-10, 0] and 1 / (1 + x) on
  [0, 1], output range [-1, 1] scaled by 32768 - where each entry is the sample at the step
  start, corrected by half the rounding error of linear interpolation at the step midpoint;
  the last entry only serves the slope of the one before. The input multiplier is
  QuantizeMultiplier(double(input_scale) * double(beta) / (10 / 65535)).
* Eval, per row: d = x - max(row) rescaled (int32 MultiplyByQuantizedMultiplier) so that
  [-65535, 0] spans [-10, 0], re-centred by +32767 and saturated to int16, then looked up
  with linear interpolation (index 256 + (v >> 7), 7-bit fraction, rounded); the sum of the
  exponentials (Q16.15) is normalised by its leading zeros to [1, 2), re-centred and looked
  up in the reciprocal table; each output is exp * reciprocal, rounded right shift by
  31 - leading zeros, clamped to [0, 32767].
"""
from __future__ import annotations

from typing import Any

import numpy as np

from evo.errors import EvoError
from evo.ir import Graph, Op
from evo.ops.base import ConstArray, KernelCall, TensorArg
from evo.ref import fixedpoint as fx

LUT_SIZE = 513
OUTPUT_SCALE = 1.0 / 32768


def _round_f32(x: np.ndarray) -> np.ndarray:
    """roundf: halves away from zero, in float32."""
    x = np.asarray(x, np.float32)
    return (np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))).astype(np.float32)


def _f32(v) -> np.ndarray:
    return np.asarray(v, np.float32)


def gen_lut(func, lo: float, hi: float) -> np.ndarray:
    """The 513-entry int16 table of `func` on [lo, hi] (float32 arithmetic, output range [-1, 1])."""
    steps = LUT_SIZE - 1
    lo32, hi32 = np.float32(lo), np.float32(hi)
    step = np.float32(np.float32(hi32 - lo32) / np.float32(steps))
    half = np.float32(step / np.float32(2))
    scale = np.float32(np.float32(65536) / np.float32(2))
    i = np.arange(steps, dtype=np.float32)
    at = _f32(lo32 + _f32(i * step))
    nxt = _f32(lo32 + _f32(_f32(i + np.float32(1)) * step))
    mid = _f32(at + half)
    val, val_next, val_mid = func(at), func(nxt), func(mid)
    sample = _round_f32(_f32(val * scale))
    interp = _round_f32(_f32(_f32(_f32(val_next * scale) + sample) / np.float32(2)))
    err = _f32(interp - _round_f32(_f32(val_mid * scale)))
    bias = _round_f32(_f32(err / np.float32(2)))
    lut = np.empty(LUT_SIZE, np.int16)
    lut[:steps] = np.clip(_f32(sample - bias), -32768, 32767).astype(np.int16)
    lut[steps] = np.int16(np.clip(_round_f32(_f32(func(np.array([hi32], np.float32)) * scale))[0], -32768, 32767))
    return lut


def _exp_f32(x: np.ndarray) -> np.ndarray:
    # exp in double rounded to float32: the correctly rounded expf
    return np.exp(np.asarray(x, np.float64)).astype(np.float32)


def _recip_f32(x: np.ndarray) -> np.ndarray:
    return _f32(np.float32(1) / _f32(np.float32(1) + _f32(x)))


def lut_lookup(v: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """int16 table lookup with 7-bit linear interpolation (int16 wrap-around as in C)."""
    v = np.asarray(v, np.int64)
    idx = 256 + (v >> 7)
    frac = v & 0x7F
    base = lut[idx].astype(np.int64)
    slope = ((lut[idx + 1].astype(np.int64) - base + 32768) & 0xFFFF) - 32768
    r = base + ((slope * frac + 64) >> 7)
    return ((r + 32768) & 0xFFFF) - 32768


def check(g: Graph, op: Op, x, y) -> None:
    if y.dtype != "int16":
        raise EvoError(f"SOFTMAX with int16 input and {y.dtype} output is not supported", "use an int16 output")
    if x.quant is None or int(x.quant.zero_point[0]) != 0:
        raise EvoError("int16 SOFTMAX needs a symmetric input (zero point 0)", "quantize int16 activations symmetrically")
    if y.quant is None or int(y.quant.zero_point[0]) != 0 or abs(float(y.quant.scale[0]) - OUTPUT_SCALE) > 0.001 * OUTPUT_SCALE:
        raise EvoError("int16 SOFTMAX output must have scale 1/32768 and zero point 0 (TFLM rejects anything else)",
                       "re-quantize the model with the 16x8 softmax output quantization")


def prepare(g: Graph, op: Op, x) -> dict[str, Any]:
    beta = float(np.float32(op.attrs.get("beta", 1.0)))
    mult, shift = fx.quantize_multiplier(float(x.quant.scale[0]) * beta / (10.0 / 65535.0))
    return dict(input_multiplier=mult, input_left_shift=shift,
                exp_lut=gen_lut(_exp_f32, -10.0, 0.0), recip_lut=gen_lut(_recip_f32, 0.0, 1.0))


def _clz32(v: np.ndarray) -> np.ndarray:
    """Leading zeros of uint32 values: frexp's exponent is the bit length (exact below 2^53)."""
    v = np.asarray(v, np.int64) & 0xFFFFFFFF
    return 32 - np.frexp(v.astype(np.float64))[1].astype(np.int64)


def reference(p: dict[str, Any], x: np.ndarray) -> np.ndarray:
    rows = x.reshape(p["outer"], p["depth"]).astype(np.int64)
    diff = rows - rows.max(axis=1, keepdims=True)
    scaled = fx.multiply_by_quantized_multiplier(diff, p["input_multiplier"], p["input_left_shift"])
    e = lut_lookup(np.clip(scaled + 32767, -32768, 32767), p["exp_lut"])
    total = fx.wrap_int32(e.sum(axis=1))
    head = _clz32(total)
    shifted = ((total << (head - 1)) + (1 << 13)) >> 14
    recip = lut_lookup(np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767), p["recip_lut"])
    rshift = (31 - head)[:, None]
    out = (e * recip[:, None] + (np.int64(1) << (rshift - 1))) >> rshift
    return np.clip(out, 0, 32767).astype(np.int16).reshape(x.shape)


def emit(op: Op, p: dict[str, Any]) -> KernelCall:
    return KernelCall(
        func="evo_softmax_s16",
        sources=["softmax_s16.c"],
        header="activation.h",
        params_type="evo_softmax_s16_params_t",
        params=dict(outer=int(p["outer"]), depth=int(p["depth"]), input_multiplier=int(p["input_multiplier"]),
                    input_left_shift=int(p["input_left_shift"]), exp_lut=ConstArray("exp_lut", p["exp_lut"]),
                    recip_lut=ConstArray("recip_lut", p["recip_lut"])),
        args=[TensorArg(op.inputs[0]), TensorArg(op.outputs[0])],
    )
