/* FULLY_CONNECTED, int8, for DSP cores without any scratch: the input bytes are widened in
 * registers (two SXTB16 per four) and used at once by four output channels, instead of being
 * widened once into a copy (2 * depth bytes of arena, fully_connected_s8_dsp.c). The weight
 * stream (evo/ops/conv_dsp.py quad_stream) is evo/mm_s16.h's with two channel pairs per record
 * and the input offset folded into the accumulator starts. One step of four depths: a load, two
 * SXTB16, two LDM, eight SMLAD for 16 MACs, four steps unrolled. Requantisation as evo/mm_s16.h: bit-exact with TFLM. */
#include <string.h>

#include "evo/conv_dsp.h"
#include "evo/mm_s16.h"
#include "evo/simd32.h"

#if defined(__ARM_FEATURE_DSP)
#define EVO_FC_STEP                                                                                 \
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

static inline uint32_t sxtb16_plain(uint32_t v) { return evo_s32_sxtab16(0, v); }
static inline uint32_t sxtb16_ror8(uint32_t v) { return evo_s32_sxtab16_r8(0, v); }

/* a[0..3] += the record's four channels . x over `steps` whole steps; returns the advanced
 * weight pointer. */
static EVO_ALWAYS_INLINE const int32_t *dot_quad(const int8_t *x, const int32_t *w, int32_t steps, int32_t *acc0, int32_t *acc1,
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
            __asm__ volatile(EVO_FC_STEP EVO_FC_STEP EVO_FC_STEP EVO_FC_STEP
                             : [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3),
                               [x] "+r"(x), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3)
                             :
                             : "memory");
        }
        for (; steps > 0; --steps) {
            __asm__ volatile(EVO_FC_STEP
                             : [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [w3] "=&r"(w3),
                               [x] "+r"(x), [w] "+r"(w), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3)
                             :
                             : "memory");
        }
    }
#endif
    for (; steps > 0; --steps, x += 4, w += 8) { /* plain C (no DSP extension) */
        const uint32_t v = evo_s32_ld(x);
        const uint32_t xe = sxtb16_plain(v), xo = sxtb16_ror8(v);
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
static EVO_ALWAYS_INLINE void requant(int8_t *out, int32_t acc2, const int32_t *q, int32_t lo, int32_t hi)
{
    int32_t t = evo_s32_ssat8((evo_s32_smmlar(acc2, q[0], q[1]) - (acc2 < 0 ? 1 : 0)) >> q[2]);
    t = t < lo ? lo : t;
    out[q[3]] = (int8_t)(t > hi ? hi : t);
}

evo_status_t evo_fully_connected_s8_dsp_direct(const evo_fully_connected_s8_dsp_params_t *p, const int8_t *input,
                                               const int32_t *stream, int8_t *output)
{
    const int32_t depth = p->depth, full = p->depth >> 2, steps = (p->depth + 3) >> 2;
    const int32_t lo = p->act_min, hi = p->act_max, quads = stream[0]; /* locals: the stores may alias p */
    int32_t b;
    if (p->batches < 0 || p->units < 0 || depth < 0) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        int8_t *out = output + (size_t)b * p->units;
        uint8_t tail[4] = {0, 0, 0, 0}; /* the last, partial step: bytes past depth are 0 (weights 0 there) */
        const int32_t *rec = evo_mm_records(stream);
        int32_t quad;
        memcpy(tail, x + 4 * full, (size_t)(depth & 3));
        for (quad = 0; quad < quads; ++quad) {
            int32_t a0 = rec[0], a1 = rec[1], a2 = rec[2], a3 = rec[3];
            const int32_t *q = dot_quad(x, rec + 4, full, &a0, &a1, &a2, &a3);
            if (full < steps) {
                q = dot_quad((const int8_t *)tail, q, 1, &a0, &a1, &a2, &a3);
            }
            /* pair B first: a dummy B stores to A's channels, which A then overwrites */
            requant(out, a2, q + 8, lo, hi);
            requant(out, a3, q + 12, lo, hi);
            requant(out, a0, q, lo, hi);
            requant(out, a1, q + 4, lo, hi);
            rec = q + 16;
        }
        evo_mm_constants(stream, out);
    }
    return EVO_OK;
}
