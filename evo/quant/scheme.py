"""Scale rules: how TFLite turns a real range into int8/int32 quantization parameters.

* activations: asymmetric int8 per tensor, the range widened to contain 0, zero point nudged
  as in TFLite's GetAsymmetricQuantizationParams (zero_point = round(qmin - min / scale));
* weights: symmetric int8 in [-127, 127] (narrow range), one scale per output channel
  (or one per tensor), scale = max|w| / 127;
* bias: int32, zero point 0, scale = input scale x weight scale (per channel).
"""
from __future__ import annotations

import numpy as np

from evo.ir import Quant

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT16_RANGE = (-32768, 32767)
_MIN_WIDTH = 1e-8  # a tensor that is constant 0 still needs a positive scale


def activation_quant(rmin: float, rmax: float, qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> Quant:
    """Asymmetric per-tensor parameters for the real range [rmin, rmax] (0 is always representable)."""
    rmin, rmax = min(float(rmin), 0.0), max(float(rmax), 0.0)
    if rmax - rmin < _MIN_WIDTH:
        rmax = rmin + 1.0  # degenerate (all-zero) tensor: any scale represents it exactly
    # float32 arithmetic, as TFLite's converter (the double quotient can differ by one ulp)
    scale = np.float32(np.float32(rmax) - np.float32(rmin)) / np.float32(qmax - qmin)
    zp_real = qmin - rmin / float(scale)
    zp = int(np.clip(np.round(zp_real), qmin, qmax))
    return Quant(scale=np.array([scale], np.float32), zero_point=np.array([zp], np.int64))


def symmetric_int16_quant(rmin: float, rmax: float) -> Quant:
    """16x8 activations: zero point 0, scale max(|min|, |max|) / 32767 (float32, as TFLite)."""
    absmax = max(abs(float(rmin)), abs(float(rmax)))
    if absmax < _MIN_WIDTH:
        absmax = 1.0
    scale = np.float32(absmax) / np.float32(32767)
    return Quant(scale=np.array([scale], np.float32), zero_point=np.zeros(1, np.int64))


def fixed_quant(scale: float, zero_point: int) -> Quant:
    return Quant(scale=np.array([scale], np.float32), zero_point=np.array([zero_point], np.int64))


def round_away(x: np.ndarray) -> np.ndarray:
    """std::round: halves away from zero (what TFLite's quantization utilities use)."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_values(x: np.ndarray, q: Quant, qmin: int = INT8_MIN, qmax: int = INT8_MAX) -> np.ndarray:
    """Per-tensor affine quantization of constant values."""
    r = round_away(np.asarray(x, np.float64) / float(q.scale[0])) + int(q.zero_point[0])
    return np.clip(r, qmin, qmax)


def weight_quant(w: np.ndarray, axis: int | None) -> tuple[np.ndarray, Quant]:
    """Symmetric int8 weights; `axis` None = per tensor. Returns (int8 data, Quant)."""
    w = np.asarray(w, np.float64)
    if axis is None:
        absmax = np.array([np.max(np.abs(w)) if w.size else 0.0])
    else:
        moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
        absmax = np.max(np.abs(moved), axis=1) if moved.size else np.zeros(w.shape[axis])
    scale = np.where(absmax > 0, absmax / 127.0, 1.0).astype(np.float32)
    # TFLite multiplies by the float32 inverse scale in float32 (126.49999 -> 126, not 127).
    inv = (np.float32(1.0) / scale).astype(np.float32)
    w32 = w.astype(np.float32)
    if axis is None:
        q = round_away(w32 * inv[0])
    else:
        shape = [1] * w.ndim
        shape[axis] = -1
        q = round_away((w32 * inv.reshape(shape)).astype(np.float32))
    q = np.clip(q, -127, 127).astype(np.int8)
    return q, Quant(scale=scale, zero_point=np.zeros(scale.size, np.int64), axis=0 if axis is None else axis)


def dequantize_weights(q: np.ndarray, quant: Quant) -> np.ndarray:
    if quant.scale.size == 1:
        return q.astype(np.float64) * float(quant.scale[0])
    shape = [1] * q.ndim
    shape[quant.axis] = -1
    return q.astype(np.float64) * quant.scale.astype(np.float64).reshape(shape)


def bias_quant(b: np.ndarray, input_scale: float, weight_scales: np.ndarray, n: int, int64: bool = False) -> tuple[np.ndarray, Quant]:
    """int32 (int64 for 16x8 operators) bias with scale input_scale x weight_scale per channel
    (broadcast to n channels)."""
    ws = np.broadcast_to(np.asarray(weight_scales, np.float32), (n,))
    scale = (np.float32(input_scale) * ws).astype(np.float32)
    q = round_away(np.asarray(b, np.float64).reshape(n) / scale.astype(np.float64))
    q = np.clip(q, -(2**62), 2**62).astype(np.int64) if int64 else np.clip(q, INT32_MIN, INT32_MAX).astype(np.int32)
    if np.asarray(weight_scales).size == 1:  # per-tensor weights: one bias scale too
        scale = scale[:1]
    return q, Quant(scale=scale, zero_point=np.zeros(scale.size, np.int64), axis=0)
