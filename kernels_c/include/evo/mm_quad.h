/* Four output channels times one pixel on DSP cores, the input widened in registers (no
 * scratch): the inner loop of fully_connected_s8_dsp_direct.c and conv2d_s8_dsp_direct.c. Records
 * (evo/ops/conv_dsp.py quad_stream): four accumulator starts (input offset folded in), per step of
 * four input bytes eight weight words, then four (m, rc, e, channel) requantisations (evo/mm_s16.h). */
#ifndef EVO_MM_QUAD_H
#define EVO_MM_QUAD_H

#include "evo/common.h"
#include "evo/simd32.h"

#if defined(__ARM_FEATURE_DSP)
#define EVO_MM_QUAD_STEP                                                                                 \
    "ldr %[xo], [%[x]], #4\n\t"                                                                   \
    "sxtb16 %[xe], %[xo]\n\t"                                                                     \
    "sxtb16 %[xo], %[xo], ror #8\n\t"                                                             \
    "ldmia %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                               \
    "smlad %[a0], %[w0], %[xe], %[a0]\n\t"                                                        \
    "smlad %[a0], %[w1], %[xo], %[a0]\n\t"                                                        \
    "smlad %[a1], %[w2], %[xe], %[a1]\n\t"                                                        \
    "smlad %[a1], %[w3], %[xo], %[a1]\n\t"                                                        \
    "ldmia %[w]!, {%[w0], %[w1], %[w2], %[w3]}\n\t"                                               \
    "smlad %[a2], %[w0], %[xe], %[a2]\n\t"                                                        \
    "smlad %[a2], %[w1], %[xo], %[a2]\n\t"                                                        \
    "smlad %[a3], %[w2], %[xe], %[a3]\n\t"                                                        \
    "smlad %[a3], %[w3], %[xo], %[a3]\n\t"
#endif

static inline uint32_t evo_mm_sxtb16(uint32_t v) { return evo_s32_sxtab16(0, v); }
static inline uint32_t evo_mm_sxtb16_r8(uint32_t v) { return evo_s32_sxtab16_r8(0, v); }

/* a[0..3] += the record's four channels . x over `steps` whole steps; returns the advanced
 * weight pointer. */
static EVO_ALWAYS_INLINE const int32_t *evo_mm_dot_quad(const int8_t *x, const int32_t *w, int32_t steps, int32_t *acc0, int32_t *acc1,
                                                 int32_t *acc2, int32_t *acc3)
{
    int32_t a0 = *acc0, a1 = *acc1, a2 = *acc2, a3 = *acc3;
#if defined(__ARM_FEATURE_DSP)
    {
        /* LDM fills its registers in ascending order: pin the four weight words to r8-r11 */
        register uint32_t w0 __asm__("r8");
        register uint32_t w1 __asm__("r9");
        register uint32_t w2 __asm__("r10");
        register uint32_t w3 __asm__("r11");
        uint32_t xe, xo;
        for (; steps >= 4; steps -= 4) {
            __asm__ volatile(EVO_MM_QUAD_STEP EVO_MM_QUAD_STEP EVO_MM_QUAD_STEP EVO_MM_QUAD_STEP
                             : [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3),
                               [x] "+r"(x), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3)
                             :
                             : "memory");
        }
        for (; steps > 0; --steps) {
            __asm__ volatile(EVO_MM_QUAD_STEP
                             : [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3),
                               [x] "+r"(x), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3)
                             :
                             : "memory");
        }
    }
#endif
    for (; steps > 0; --steps, x += 4, w += 8) { /* plain C (no DSP extension) */
        const uint32_t v = evo_s32_ld(x);
        const uint32_t xe = evo_mm_sxtb16(v), xo = evo_mm_sxtb16_r8(v);
        a0 = evo_s32_smlad((uint32_t)w[1], xo, evo_s32_smlad((uint32_t)w[0], xe, a0));
        a1 = evo_s32_smlad((uint32_t)w[3], xo, evo_s32_smlad((uint32_t)w[2], xe, a1));
        a2 = evo_s32_smlad((uint32_t)w[5], xo, evo_s32_smlad((uint32_t)w[4], xe, a2));
        a3 = evo_s32_smlad((uint32_t)w[7], xo, evo_s32_smlad((uint32_t)w[6], xe, a3));
    }
    *acc0 = a0;
    *acc1 = a1;
    *acc2 = a2;
    *acc3 = a3;
    return w;
}

/* evo/mm_s16.h: (SMMLAR(acc2, m, rc) - (acc2 < 0)) >> e, clamped; q = (m, rc, e, channel). */
static EVO_ALWAYS_INLINE void evo_mm_requant1(int8_t *out, int32_t acc2, const int32_t *q, int32_t lo, int32_t hi)
{
    int32_t t = evo_s32_ssat8((evo_s32_smmlar(acc2, q[0], q[1]) - (acc2 < 0 ? 1 : 0)) >> q[2]);
    t = t < lo ? lo : t;
    out[q[3]] = (int8_t)(t > hi ? hi : t);
}

#endif
