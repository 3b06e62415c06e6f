"""gemmlowp-style fixed-point transcendental functions (exp, tanh, logistic, reciprocal).

TFLM's int8 SOFTMAX, LOGISTIC and TANH evaluate these on raw int32 values in Q(m).(31-m)
formats. Every helper here takes int64 NumPy arrays (or ints) holding int32 values and returns
int64 arrays with the exact int32 results (additions wrap like the C build, multiplications go
through the saturating rounding doubling high multiply). The C twin is
kernels_c/include/evo/gemmlowp_fixedpoint.h; keep the two in step.
"""
from __future__ import annotations

import numpy as np

from evo.ref.fixedpoint import (
    INT32_MAX,
    INT32_MIN,
    rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
    wrap_int32,
)

srdhm = saturating_rounding_doubling_high_mul

# Raw int32 constants (Q0.31 unless stated): exp(-1/8), 1/3, exp(-2^k) for the barrel shifter,
# and the Newton-Raphson seeds 48/17 and -32/17 in Q2.29.
_EXP_MINUS_ONE_EIGHTH = 1895147668
_ONE_THIRD = 715827883
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401), (4, 242))
_NR_48_OVER_17 = 1515870810
_NR_NEG_32_OVER_17 = -1010580540


def _a(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def add(a, b) -> np.ndarray:
    """int32 addition with two's-complement wrap."""
    return wrap_int32(_a(a) + _a(b))


def sub(a, b) -> np.ndarray:
    return wrap_int32(_a(a) - _a(b))


def sat_mul_pot(x, exponent: int) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOT<exponent>: saturating left shift or rounding right shift."""
    x = _a(x)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    out = x * (1 << exponent)
    out = np.where(x > threshold, INT32_MAX, out)
    return np.where(x < -threshold, INT32_MIN, out).astype(np.int64)


def rescale(x, src_int_bits: int, dst_int_bits: int) -> np.ndarray:
    """Rescale<dst>(FixedPoint<src>)."""
    return sat_mul_pot(x, src_int_bits - dst_int_bits)


def rounding_half_sum(a, b) -> np.ndarray:
    s = _a(a) + _a(b)
    sign = np.where(s >= 0, 1, -1)
    t = s + sign
    q = np.abs(t) // 2
    return np.where(t < 0, -q, q).astype(np.int64)


def exp_on_interval_between_negative_one_quarter_and_0_excl(a) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor expansion around -1/8)."""
    x = add(a, 1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = rounding_divide_by_pot(add(srdhm(add(x4_over_4, x3), _ONE_THIRD), x2), 1)
    return add(_EXP_MINUS_ONE_EIGHTH, srdhm(_EXP_MINUS_ONE_EIGHTH, add(x, poly)))


def exp_on_negative_values(a, integer_bits: int) -> np.ndarray:
    """exp(a) for a <= 0 given in Q(integer_bits); result in Q0.31."""
    a = _a(a)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    mask = one_quarter - 1
    a_mod_quarter_minus_quarter = sub(a & mask, one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(a_mod_quarter_minus_quarter, integer_bits, 0))
    remainder = sub(a_mod_quarter_minus_quarter, a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where((remainder & bit) != 0, srdhm(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result).astype(np.int64)


def _newton_reciprocal_q2(a) -> np.ndarray:
    """Shared Newton-Raphson part: returns x ~ 1/half_denominator in Q2.29."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = add(_NR_48_OVER_17, srdhm(half_denominator, _NR_NEG_32_OVER_17))
    one_q2 = 1 << 29
    for _ in range(3):
        half_denominator_times_x = srdhm(half_denominator, x)
        one_minus = sub(one_q2, half_denominator_times_x)
        x = add(x, rescale(srdhm(x, one_minus), 4, 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """1 / (1 + a) for a in [0, 1), Q0.31 in and out."""
    return rescale(_newton_reciprocal_q2(a), 1, 0)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a) -> np.ndarray:
    """(1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out."""
    return rescale(sub(_newton_reciprocal_q2(a), 1 << 29), 2, 0)


def tanh(a, integer_bits: int) -> np.ndarray:
    """tanh of a Q(integer_bits) value; Q0.31 result."""
    a = _a(a)
    negative = a < 0
    n = np.where(negative, a, wrap_int32(-a))
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return np.where(a == 0, 0, np.where(negative, wrap_int32(-t), t)).astype(np.int64)


def logistic(a, integer_bits: int) -> np.ndarray:
    """1 / (1 + exp(-a)) of a Q(integer_bits) value; Q0.31 result."""
    a = _a(a)
    positive = a > 0
    abs_input = np.where(positive, a, wrap_int32(-a))
    if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(wrap_int32(-abs_input), integer_bits))
    if_negative = sub(INT32_MAX, if_positive)
    return np.where(a == 0, 1 << 30, np.where(positive, if_positive, if_negative)).astype(np.int64)


def count_leading_zeros32(x) -> np.ndarray:
    """Leading zero bits of x viewed as uint32 (32 for 0)."""
    u = _a(x) & 0xFFFFFFFF
    out = np.full(u.shape, 32, dtype=np.int64)
    nz = u != 0
    # floor(log2) via frexp is exact for integers below 2^53
    _, e = np.frexp(u[nz].astype(np.float64))
    out[nz] = 32 - e
    return out


def get_reciprocal(x, x_integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLM's GetReciprocal: (Q0.31 reciprocal scale, num_bits_over_unit)."""
    x = _a(x)
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = ((x & 0xFFFFFFFF) << headroom_plus_one) & 0xFFFFFFFF
    shifted_sum_minus_one = wrap_int32(shifted - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit
