/* Cortex-M DSP-extension helpers (M4, M7, M33: __ARM_FEATURE_DSP) for the int8 kernels.
 *
 * The int8 dot products use SMLAD (two 16x16 multiply-accumulates per instruction) on operands
 * widened with SXTB16 / SXTAB16. SXTB16 of a word holding bytes (b0, b1, b2, b3) gives the
 * halfword pair (b0, b2); SXTB16 with ROR #8 gives (b1, b3). An operand widened that way
 * ("reordered": x0, x2, x1, x3 per group of four) pairs with a weight word widened the same way,
 * so a group of four int8 weights costs one load and two SXTB16 and no repacking. All integer
 * sums are exact (int32, wrapping like the portable C), so results are bit-identical.
 *
 * GCC 12's arm_acle.h has no __ror and does not fold a rotate into SXTB16, so the rotated forms
 * are one-instruction inline assembly. Empty unless __ARM_FEATURE_DSP. */
#ifndef EVO_ARM_DSP_H
#define EVO_ARM_DSP_H

#if defined(__ARM_FEATURE_DSP)

#include <stdint.h>
#include <string.h>

#include <arm_acle.h>

/* An unaligned little-endian 32-bit load (one LDR on v7E-M / v8-M Mainline). */
static inline uint32_t evo_ld32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t evo_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int8x4_t)x); }

static inline uint32_t evo_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* (a.lo + b0, a.hi + b2) */
static inline uint32_t evo_sxtab16(uint32_t a, uint32_t x) { return (uint32_t)__sxtab16((int16x2_t)a, (int8x4_t)x); }

/* (a.lo + b1, a.hi + b3) */
static inline uint32_t evo_sxtab16_ror8(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

static inline int32_t evo_smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad((int16x2_t)a, (int16x2_t)b, acc); }
static inline int32_t evo_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb((int32_t)a, (int32_t)b, acc); }
static inline int32_t evo_smlatt(uint32_t a, uint32_t b, int32_t acc) { return __smlatt((int32_t)a, (int32_t)b, acc); }

/* An int16 offset in both halfwords (for SXTAB16). */
static inline uint32_t evo_pack_off16(int32_t off) { return ((uint32_t)off & 0xFFFFu) * 0x10001u; }

/* evo_requantize (fixedpoint.h) in fewer instructions, same results for every input:
 * - SaturatingRoundingDoublingHighMul: TFLM adds 2^30 (ab >= 0) or 1 - 2^30 (ab < 0) and divides
 *   by 2^31 rounding toward zero. For ab < 0 that is -floor((-ab + 2^30 - 1) / 2^31)
 *   = -ceil((-ab - 2^30) / 2^31) = floor((ab + 2^30) / 2^31), the ab >= 0 formula, so one
 *   multiply-accumulate and an arithmetic shift (CMSIS-NN's arm_nn_doubling_high_mult_no_sat).
 *   The saturating case a == b == INT32_MIN is kept.
 * - RoundingDivideByPOT: unchanged (mask, threshold + 1 for negatives). */
static inline int32_t evo_requantize_dsp(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t a = (int32_t)((uint32_t)x << left);
    int32_t hm, mask, rem, threshold, r;
    if (a == INT32_MIN && multiplier == INT32_MIN) {
        hm = INT32_MAX;
    } else {
        hm = (int32_t)(((int64_t)a * multiplier + (1LL << 30)) >> 31);
    }
    mask = (int32_t)((1u << right) - 1u);
    rem = hm & mask;
    threshold = (mask >> 1) + (hm < 0 ? 1 : 0);
    r = hm >> right;
    return r + (rem > threshold ? 1 : 0);
}

#endif /* __ARM_FEATURE_DSP */

#endif
