/* gemmlowp-style fixed-point exp / tanh / logistic / reciprocal on raw int32 values, with the
 * exact semantics TFLM's int8 SOFTMAX, LOGISTIC and TANH rely on. Values are Q(m).(31-m) raw
 * int32s; the integer-bit count m is passed explicitly. Twin of evo/ref/gemmlowp.py.
 * Integer only: no floating point, no libm. */
#ifndef EVO_GEMMLOWP_FIXEDPOINT_H
#define EVO_GEMMLOWP_FIXEDPOINT_H

#include <stdint.h>

#include "evo/fixedpoint.h"

/* Wrapping int32 add/sub (the reference build wraps; unsigned arithmetic keeps C defined). */
static inline int32_t evo_gl_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t evo_gl_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* SaturatingRoundingMultiplyByPOT: exponent > 0 saturating left shift, < 0 rounding right shift. */
static inline int32_t evo_gl_mul_pot(int32_t x, int exponent)
{
    if (exponent > 0) {
        const int32_t threshold = (int32_t)((1LL << (31 - exponent)) - 1);
        if (x > threshold) {
            return INT32_MAX;
        }
        if (x < -threshold) {
            return INT32_MIN;
        }
        return (int32_t)((uint32_t)x << exponent);
    }
    if (exponent < 0) {
        return evo_rounding_divide_by_pot(x, -exponent);
    }
    return x;
}

static inline int32_t evo_gl_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a in [-1/4, 0); Q0.31 in and out. */
static inline int32_t evo_gl_exp_on_interval_neg_quarter(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;
    const int32_t one_third = 715827883;
    const int32_t x = evo_gl_add(a, 1 << 28);
    const int32_t x2 = evo_sat_rounding_doubling_high_mul(x, x);
    const int32_t x3 = evo_sat_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = evo_sat_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = evo_rounding_divide_by_pot(x4, 2);
    const int32_t poly = evo_rounding_divide_by_pot(
        evo_gl_add(evo_sat_rounding_doubling_high_mul(evo_gl_add(x4_over_4, x3), one_third), x2), 1);
    return evo_gl_add(exp_minus_one_eighth,
                      evo_sat_rounding_doubling_high_mul(exp_minus_one_eighth, evo_gl_add(x, poly)));
}

/* exp(a) for a <= 0 in Q(integer_bits); result Q0.31. integer_bits in [0, 30]. */
static inline int32_t evo_gl_exp_on_negative_values(int32_t a, int integer_bits)
{
    const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int frac_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_quarter = evo_gl_sub(a & mask, one_quarter);
    int32_t result = evo_gl_exp_on_interval_neg_quarter(evo_gl_mul_pot(a_mod_quarter_minus_quarter, integer_bits));
    const int32_t remainder = evo_gl_sub(a_mod_quarter_minus_quarter, a);
    int k;
    for (k = 0; k < 7; ++k) {
        const int exponent = k - 2;
        if (integer_bits > exponent) {
            const uint32_t bit = (uint32_t)1 << (frac_bits + exponent);
            if (((uint32_t)remainder & bit) != 0u) {
                result = evo_sat_rounding_doubling_high_mul(result, barrel[k]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -((int32_t)1 << (36 - integer_bits));
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = INT32_MAX;
    }
    return result;
}

/* Newton-Raphson 1/half_denominator in Q2.29 (shared by the two functions below). */
static inline int32_t evo_gl_newton_reciprocal_q2(int32_t a)
{
    const int32_t half_denominator = evo_gl_rounding_half_sum(a, INT32_MAX);
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = evo_gl_add(1515870810, evo_sat_rounding_doubling_high_mul(half_denominator, -1010580540));
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = evo_sat_rounding_doubling_high_mul(half_denominator, x);
        const int32_t one_minus = evo_gl_sub(one_q2, half_denominator_times_x);
        x = evo_gl_add(x, evo_gl_mul_pot(evo_sat_rounding_doubling_high_mul(x, one_minus), 2));
    }
    return x;
}

/* 1 / (1 + a) for a in [0, 1); Q0.31 in and out. */
static inline int32_t evo_gl_one_over_one_plus_x(int32_t a)
{
    return evo_gl_mul_pot(evo_gl_newton_reciprocal_q2(a), 1);
}

/* (1 - a) / (1 + a) for a in [0, 1); Q0.31 in and out. */
static inline int32_t evo_gl_one_minus_x_over_one_plus_x(int32_t a)
{
    return evo_gl_mul_pot(evo_gl_sub(evo_gl_newton_reciprocal_q2(a), (int32_t)1 << 29), 2);
}

/* tanh of a Q(integer_bits) value; Q0.31 result. */
static inline int32_t evo_gl_tanh(int32_t a, int integer_bits)
{
    const int32_t n = a < 0 ? a : evo_gl_sub(0, a);
    const int32_t t = evo_gl_one_minus_x_over_one_plus_x(evo_gl_exp_on_negative_values(n, integer_bits + 1));
    if (a == 0) {
        return 0;
    }
    return a < 0 ? evo_gl_sub(0, t) : t;
}

/* logistic of a Q(integer_bits) value; Q0.31 result. */
static inline int32_t evo_gl_logistic(int32_t a, int integer_bits)
{
    const int32_t abs_input = a > 0 ? a : evo_gl_sub(0, a);
    const int32_t if_positive =
        evo_gl_one_over_one_plus_x(evo_gl_exp_on_negative_values(evo_gl_sub(0, abs_input), integer_bits));
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    return a > 0 ? if_positive : evo_gl_sub(INT32_MAX, if_positive);
}

static inline int evo_gl_clz32(uint32_t x)
{
    int n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* TFLM's GetReciprocal: Q0.31 scale with 1/x = scale * 2^num_bits_over_unit (x in Q(x_integer_digits)). */
static inline int32_t evo_gl_get_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit)
{
    const int headroom_plus_one = evo_gl_clz32((uint32_t)x);
    const uint32_t shifted = headroom_plus_one >= 32 ? 0u : ((uint32_t)x << headroom_plus_one);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    return evo_gl_one_over_one_plus_x((int32_t)(shifted - 0x80000000u));
}

#endif
