/* Requantisation of a block of int32 accumulators (one per output channel) to int8, with the
 * exact results of evo_requantize (TFLM's MultiplyByQuantizedMultiplier), written so that a
 * compiler vectorises it across channels on plain SSE2 / NEON: only 32-bit lane operations,
 * 32x32->64 unsigned multiplies and shifts by constant amounts.
 *
 * Per-channel shifts differ from lane to lane, and baseline SIMD has no per-lane variable
 * shifts, so each shift is turned into a multiplier once per block (evo_rq_block_init) and the
 * per-value work (evo_rq_block_s8) is multiplies, adds and masks. Why it is exact, for a
 * multiplier M in [0, 2^31) and right shift r in [0, 31]:
 *  - the rounding doubling high multiply (ab + nudge) / 2^31 (truncating) equals
 *    floor((ab + 2^30) / 2^31) for both signs of ab; with u = x mod 2^32 (x = u - 2^32 when
 *    x < 0) that is floor((u*M + 2^30) / 2^31) - 2M [x < 0], all in unsigned arithmetic;
 *  - the rounding right shift by r >= 1 (ties away from zero) equals floor((h + n) / 2^r) with
 *    n = 2^(r-1) - [h < 0]; with b = h + 2^31 and P = 2^(31-r) that is
 *    ((b*P + 2^30 - P [h < 0]) >> 31) - P; for r = 0 the 2^30 - P [h < 0] term is dropped.
 * M < 0 never comes out of QuantizeMultiplier; evo_rq_block_init reports it (and shifts out of
 * range) so that callers keep the scalar path for such channels. */
#ifndef EVO_REQUANT_BLOCK_H
#define EVO_REQUANT_BLOCK_H

#include <stdint.h>

#include "evo/common.h"

/* EVO_VECTOR_LOOPS: 1 where kernels take their loop shapes written for a compiler's
 * vectoriser (hosts, NEON), which use this header; 0 on Cortex-M cores without a vector unit,
 * which keep loops shaped for scalar code (and their own DSP paths) - the form below would cost
 * them two 64-bit products per value and more stack. */
#ifndef EVO_VECTOR_LOOPS
#if defined(__arm__) && !defined(__ARM_NEON)
#define EVO_VECTOR_LOOPS 0
#else
#define EVO_VECTOR_LOOPS 1
#endif
#endif

#define EVO_RQ_LANES 16 /* channels per block; 4 x 4 B x 16 of stack per block */

typedef struct {
    uint32_t mult[EVO_RQ_LANES]; /* M */
    uint32_t lmul[EVO_RQ_LANES]; /* 2^left_shift */
    uint32_t pow[EVO_RQ_LANES];  /* P = 2^(31 - right_shift) */
    uint32_t half[EVO_RQ_LANES]; /* 2^30 when right_shift >= 1, else 0 */
    int32_t any_left;            /* some channel shifts left (multiplier > 1): rare */
} evo_rq_block_t;

/* Lane constants of channels [0, n) (n <= EVO_RQ_LANES) from TFLM multipliers and shifts.
 * Returns 0 when some channel is outside this path's range (use evo_requantize there). */
static inline int evo_rq_block_init(evo_rq_block_t *b, const int32_t *multiplier, const int32_t *shift, int32_t n)
{
    int32_t j;
    b->any_left = 0;
    for (j = 0; j < n; ++j) {
        const int32_t s = shift[j];
        if (multiplier[j] < 0 || s > 30 || s < -31) {
            return 0;
        }
        b->mult[j] = (uint32_t)multiplier[j];
        b->lmul[j] = 1u << (s > 0 ? s : 0);
        b->pow[j] = 1u << (s >= 0 ? 31 : 31 + s);
        b->half[j] = s < 0 ? (1u << 30) : 0u;
        b->any_left |= s > 0;
    }
    return 1;
}

/* The lanes of evo_rq_block_s8, into v[]; `with_left` is a literal (a 32-bit lane multiply
 * costs several instructions on SSE2, so blocks without left shifts skip it). */
static inline void evo_rq_lanes(const evo_rq_block_t *b, const int32_t *acc, int32_t n, int32_t out_offset, int32_t lo,
                                int32_t hi, int32_t *v, const int with_left)
{
    int32_t j;
    for (j = 0; j < n; ++j) {
        const uint32_t m = b->mult[j], p = b->pow[j], half = b->half[j];
        const uint32_t u = with_left ? (uint32_t)acc[j] * b->lmul[j] : (uint32_t)acc[j]; /* x << left, wrapping */
        const uint32_t xneg = (uint32_t)((int32_t)u >> 31); /* all ones when x < 0 */
        const uint32_t h = (uint32_t)(((uint64_t)u * m + (1u << 30)) >> 31) - (xneg & (m << 1));
        const uint32_t hneg = (uint32_t)((int32_t)h >> 31);
        const uint32_t pneg = half != 0u ? p : 0u;
        const uint64_t t = (uint64_t)(h ^ 0x80000000u) * p + (half - (hneg & pneg));
        const int32_t r = (int32_t)((uint32_t)(t >> 31) - p) + out_offset;
        v[j] = EVO_CLAMP(r, lo, hi);
    }
}

/* out[j] = clamp(requantize(acc[j]) + out_offset, lo, hi) for j < n (acc already holds the bias). */
static inline void evo_rq_block_s8(const evo_rq_block_t *b, const int32_t *acc, int32_t n, int32_t out_offset,
                                   int32_t lo, int32_t hi, int8_t *out)
{
    int32_t j;
    /* Two passes: the arithmetic has only 32/64-bit lanes (four per SSE2 vector, so 8-channel
     * blocks vectorise too); the int8 stores would make the vector loop 16 lanes wide. */
    int32_t v[EVO_RQ_LANES];
    if (b->any_left) {
        evo_rq_lanes(b, acc, n, out_offset, lo, hi, v, 1);
    } else {
        evo_rq_lanes(b, acc, n, out_offset, lo, hi, v, 0);
    }
    for (j = 0; j < n; ++j) {
        out[j] = (int8_t)v[j];
    }
}

#endif
