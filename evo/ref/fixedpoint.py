"""Integer arithmetic exactly as TFLite Micro's reference kernels do it.

Scalar helpers take Python ints; the array helpers work on int64 NumPy arrays and emulate
the C int32 semantics (truncating division, arithmetic shifts, wrap-around) so that results are
bit-exact with the C kernels and with TFLM. The C twins live in kernels_c/include/evo/fixedpoint.h.
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1

DTYPE_RANGE = {
    "int8": (-128, 127),
    "uint8": (0, 255),
    "int16": (-32768, 32767),
    "int32": (INT32_MIN, INT32_MAX),
}


def round_half_away(x: float) -> int:
    """std::round: ties away from zero. Exact for any double."""
    r = math.floor(abs(x) + 0.5)
    # abs(x) + 0.5 can round up for the largest doubles below .5; guard like std::round does
    if r - abs(x) > 0.5:
        r -= 1
    return int(r) if x >= 0 else -int(r)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real = multiplier * 2^(shift - 31), multiplier in [2^30, 2^31)."""
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(real_multiplier)
    q_fixed = round_half_away(q * (1 << 31))
    assert q_fixed <= (1 << 31)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift = 0
        q_fixed = 0
    return int(q_fixed), int(shift)


def quantize_multiplier_smaller_than_one_exp(real_multiplier: float) -> tuple[int, int]:
    """QuantizeMultiplierSmallerThanOneExp: the shift returned is <= 0."""
    assert 0.0 < real_multiplier < 1.0
    m, shift = quantize_multiplier(real_multiplier)
    assert shift <= 0
    return m, shift


def wrap_int32(v):
    """Two's-complement wrap of int64 values (or a Python int) into the int32 range."""
    if isinstance(v, np.ndarray):
        return ((v.astype(np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return ((int(v) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _trunc_div(a: np.ndarray, d: int) -> np.ndarray:
    """C integer division (rounds toward zero) for int64 arrays and a positive divisor."""
    q = np.abs(a) // d
    return np.where(a < 0, -q, q)


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values (arrays or scalars)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == b) & (a == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    high = _trunc_div(ab + nudge, 1 << 31)
    return np.where(overflow, INT32_MAX, high).astype(np.int64)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLM's MultiplyByQuantizedMultiplier (int32 accumulator, double rounding).

    `multiplier` and `shift` may be arrays broadcast against `x` (per-channel)."""
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = wrap_int32(x * (np.int64(1) << left))
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def multiply_by_quantized_multiplier_smaller_than_one_exp(x, multiplier, left_shift):
    """MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0)."""
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -np.asarray(left_shift))


def multiply_by_quantized_multiplier_greater_than_one(x, multiplier, left_shift):
    """MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0)."""
    x = np.asarray(x, dtype=np.int64)
    return saturating_rounding_doubling_high_mul(wrap_int32(x * (np.int64(1) << np.asarray(left_shift))), multiplier)


def quantize_value(f: float, scale: float, zero_point: int) -> int:
    """zero_point + round(f / scale) with float32 division, as TFLite's activation-range helper."""
    q = float(np.float32(f) / np.float32(scale))
    return zero_point + round_half_away(q)


def activation_range_quantized(activation: str, dtype: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: the clamp range of a fused activation on a quantized output."""
    qmin, qmax = DTYPE_RANGE[dtype]
    if activation == "NONE":
        return qmin, qmax
    if activation == "RELU":
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if activation == "RELU6":
        return max(qmin, quantize_value(0.0, scale, zero_point)), min(qmax, quantize_value(6.0, scale, zero_point))
    if activation == "RELU_N1_TO_1":
        return max(qmin, quantize_value(-1.0, scale, zero_point)), min(qmax, quantize_value(1.0, scale, zero_point))
    from evo.errors import EvoError

    raise EvoError(f"fused activation {activation} is not supported", "use NONE, RELU, RELU6 or RELU_N1_TO_1")


FLT_MAX = float(np.finfo(np.float32).max)


def activation_range_float(activation: str) -> tuple[float, float]:
    """CalculateActivationRange for float outputs."""
    ranges = {
        "NONE": (-FLT_MAX, FLT_MAX),
        "RELU": (0.0, FLT_MAX),
        "RELU6": (0.0, 6.0),
        "RELU_N1_TO_1": (-1.0, 1.0),
    }
    if activation not in ranges:
        from evo.errors import EvoError

        raise EvoError(f"fused activation {activation} is not supported", "use NONE, RELU, RELU6 or RELU_N1_TO_1")
    return ranges[activation]


def multiply_by_quantized_multiplier_int64(x, multiplier, shift):
    """TFLite's MultiplyByQuantizedMultiplier for an int64 accumulator (the 16x8 kernels): the
    multiplier is first rounded to 16 bits, then one rounding right shift by 15 - shift; the
    result is truncated to int32 as the C++ static_cast does."""
    x = np.asarray(x, dtype=np.int64)
    m = np.asarray(multiplier, dtype=np.int64)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - np.asarray(shift, dtype=np.int64)
    return wrap_int32((x * reduced + (np.int64(1) << (total - 1))) >> total)
