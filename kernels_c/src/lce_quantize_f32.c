/* LceQuantize, float32 -> bit-packed int32: bit set <=> x < 0.
 *
 * The test runs on the float's bits: x < 0 exactly when the bits, as unsigned, lie in
 * [0x80000001, 0xFF800000] (negative subnormals and normals up to -inf; -0 and the NaNs with
 * the sign bit set are not below zero), i.e. bits - 0x80000001 < 0x7F800000. Integer compares
 * avoid a VCMP + VMRS per value on FPU cores and a library call on soft-float ones. */
#include "evo/bnn.h"

evo_status_t evo_lce_quantize_f32(const evo_lce_quantize_params_t *p, const float *input, int32_t *output)
{
    int32_t o, w, b;
    for (o = 0; o < p->outer; ++o) {
        const float *x = input + (size_t)o * p->channels;
        int32_t *y = output + (size_t)o * p->words;
        for (w = 0; w < p->words; ++w) {
            const int32_t base = w * 32;
            const int32_t n = EVO_MIN(32, p->channels - base);
            uint32_t word = 0;
            for (b = n - 1; b >= 0; --b) { /* highest channel first: each step shifts the word up one bit */
                union {
                    float f;
                    uint32_t u;
                } v; /* the float's bits (C99 allows reading the other member) */
                v.f = x[base + b];
                word = (word << 1) | (uint32_t)(v.u - 0x80000001u < 0x7F800000u);
            }
            y[w] = (int32_t)word;
        }
    }
    return EVO_OK;
}
