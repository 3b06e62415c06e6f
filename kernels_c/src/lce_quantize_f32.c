/* LceQuantize, float32 -> bit-packed int32: bit set <=> x < 0.
 *
 * The test runs on the float's bits: x < 0 exactly when the bits, as unsigned, lie in
 * [0x80000001, 0xFF800000] (negative subnormals and normals up to -inf; -0 and the NaNs with
 * the sign bit set are not below zero), i.e. bits - 0x80000001 < 0x7F800000. Integer compares
 * avoid a VCMP + VMRS per value on FPU cores and a library call on soft-float ones. On Thumb-2
 * the compare's carry is the bit: RRX shifts it in at the top, lowest channel first, so a word of
 * n channels is n RRXs and one final shift (3.5 instructions a value). */
#include "evo/bnn.h"

#if defined(__thumb2__) && defined(__GNUC__)
/* The packed word of the n (1..32) values at x. */
static inline uint32_t lce_quantize_word(const float *x, int32_t n)
{
    const uint32_t *u = (const uint32_t *)(const void *)x, *end = u + (n & ~1);
    const uint32_t off = 0x7FFFFFFFu, lim = 0x7F7FFFFFu; /* bits + off = bits - 0x80000001; C = lim >= that */
    uint32_t word = 0, a, b;
    if (u != end) {
        __asm__("1:\n\t"
                "ldrd %[a], %[b], [%[u]], #8\n\t"
                "add %[a], %[a], %[off]\n\t"
                "cmp %[lim], %[a]\n\t"
                "rrx %[w], %[w]\n\t"
                "add %[b], %[b], %[off]\n\t"
                "cmp %[lim], %[b]\n\t"
                "rrx %[w], %[w]\n\t"
                "cmp %[u], %[end]\n\t"
                "bne 1b\n\t"
                : [w] "+r"(word), [u] "+r"(u), [a] "=&r"(a), [b] "=&r"(b)
                : [end] "r"(end), [off] "r"(off), [lim] "r"(lim)
                : "cc");
    }
    if (n & 1) {
        __asm__("add %[a], %[a], %[off]\n\t"
                "cmp %[lim], %[a]\n\t"
                "rrx %[w], %[w]\n\t"
                : [w] "+r"(word), [a] "=&r"(a)
                : "[a]"(*u), [off] "r"(off), [lim] "r"(lim)
                : "cc");
    }
    return n < 32 ? word >> (32 - n) : word;
}

evo_status_t evo_lce_quantize_f32(const evo_lce_quantize_params_t *p, const float *input, int32_t *output)
{
    int32_t o, w;
    for (o = 0; o < p->outer; ++o) {
        const float *x = input + (size_t)o * p->channels;
        int32_t *y = output + (size_t)o * p->words;
        for (w = 0; w < p->words; ++w) {
            const int32_t base = w * 32;
            y[w] = (int32_t)lce_quantize_word(x + base, EVO_MIN(32, p->channels - base));
        }
    }
    return EVO_OK;
}
#else
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
#endif
