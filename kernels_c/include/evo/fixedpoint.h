/* Fixed-point helpers with the exact semantics of TFLite Micro's reference kernels
 * (gemmlowp rounding, double-rounding requantisation). Twins of evo/ref/fixedpoint.py. */
#ifndef EVO_FIXEDPOINT_H
#define EVO_FIXEDPOINT_H

#include <stdint.h>

static inline int32_t evo_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / (1LL << 31));
}

static inline int32_t evo_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)((1LL << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31), rounded as TFLM does (shift may be positive or negative). */
static inline int32_t evo_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    /* Wrap on overflow like the reference build does; unsigned avoids undefined behaviour. */
    const int32_t shifted = (int32_t)((uint32_t)x << left);
    return evo_rounding_divide_by_pot(evo_sat_rounding_doubling_high_mul(shifted, multiplier), right);
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0). */
static inline int32_t evo_requantize_lt1(int32_t x, int32_t multiplier, int32_t left_shift)
{
    return evo_rounding_divide_by_pot(evo_sat_rounding_doubling_high_mul(x, multiplier), -left_shift);
}

/* MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0). */
static inline int32_t evo_requantize_gt1(int32_t x, int32_t multiplier, int32_t left_shift)
{
    return evo_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left_shift), multiplier);
}

#endif
