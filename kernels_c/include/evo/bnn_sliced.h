/* Bit-sliced binary convolution with bit-packed output (LceBconv2d, one-padding or VALID), picked
 * by evo/ops/bnn_sliced.py on Thumb-2 DSP cores.
 *
 * accum_c = popcount(field XOR filter_c) over the K = kh * kw * in.c field bits (padded taps are
 * bit 0) is P_c + n1 - 2 S_c, where P_c = popcount(filter_c), n1 = the field's set bits and
 * S_c = the number of set field bits b where filter_c has bit b set. For 32 output channels at
 * once the filters are transposed: table word T[b] holds bit b of each channel's filter (channel
 * 32 g + j at bit j of group g's table), so the 32 values S_c are the sum of the words T[b] over
 * the field's set bits, counted bit-sliced (word k = bit k of the 32 sums). Only set bits cost
 * work, padded taps none; when more than half of the field is set, its zero bits are summed
 * instead (accum = 2 S0_c + n1 - P_c), so a pixel sums at most K / 2 words per group.
 *
 * Per pixel the field's set (or zero) bits are listed once as byte offsets into the table, then
 * each group of 32 channels sums its table words at those offsets: a Harley-Seal carry-save tree
 * keeps ones, twos, fours and eights in registers and adds each block of 16 words' sixteens into
 * the counter planes. The counter starts at a per-channel value B (from the precomputed planes
 * `init`, shifted by n1) chosen so that the output bit is the counter's top plane (zero bits
 * summed) or its complement (set bits summed): no per-channel compare, no bit packing.
 *
 * `table` [out_words][K + 1] (word K is 0: the list is padded to whole blocks with it);
 * `init` [out_words][2][planes + 1]: the bit-sliced U_c = 2^planes + thr_c - P_c (set bits
 * summed) and V_c = 2^planes - 1 - thr_c - P_c (zero bits summed), thr_c clipped to [-1, K];
 * the counter starts at floor((U_c - n1) / 2), or floor((V_c + n1) / 2), with 2^(planes-1) >= K + 2
 * so that nothing wraps. Scratch: K / 2 + 32 int32 (the list), then 4 + planes (the carry-save
 * state and the counter). */
#ifndef EVO_BNN_SLICED_H
#define EVO_BNN_SLICED_H

#include "evo/bnn.h"

#define EVO_BSL_BLOCK 16 /* table words per carry-save block (the list is padded to whole blocks) */

typedef struct {
    evo_dims4_t in;  /* in.c: channels_in */
    evo_dims4_t out; /* out.c: channels_out */
    int32_t words;   /* packed input words per pixel */
    int32_t out_words;
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t planes; /* counter planes: 2^(planes-1) >= K + 2, planes >= 6 */
} evo_bconv2d_sliced_params_t;

/* Leading zeros of x != 0: CLZ on cores that have it, a short search elsewhere (no libgcc call). */
static inline int32_t evo_bsl_clz(uint32_t x)
{
#if defined(__GNUC__) && (!defined(__arm__) || defined(__ARM_FEATURE_CLZ))
    return (int32_t)__builtin_clz(x);
#else
    int32_t n = 0;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

/* u = l ^ a; h = (l & a) | (u & b); l = u ^ b: a carry-save adder of l, a, b (sum to l, carry to h). */
#define EVO_BSL_CSA(h, l, a, b)                                                                                                  \
    do {                                                                                                                         \
        const uint32_t u_ = (l) ^ (a);                                                                                           \
        (h) = ((l) & (a)) | (u_ & (b));                                                                                          \
        (l) = u_ ^ (b);                                                                                                          \
    } while (0)

/* Block of EVO_BSL_BLOCK words: carry-save tree (ones..eights stay in registers), then the sixteens
 * rippled into the counter planes from plane 4 up. The ripple needs no bound: the counter never
 * exceeds its start value plus the final sum, which is < 2^planes (evo/ops/bnn_sliced.py). */
#if defined(__thumb2__) && defined(__GNUC__)
/* h = carry, l = sum of l, a, b (r8 temporary; a is clobbered, h may be a). */
#define EVO_BSL_CSA_ASM(h, l, a, b)                                                                                              \
    "eor r8, " l ", " a "\n\t"                                                                                                   \
    "and " a ", " a ", " l "\n\t"                                                                                                \
    "eor " l ", r8, " b "\n\t"                                                                                                   \
    "and r8, r8, " b "\n\t"                                                                                                      \
    "orr " h ", " a ", r8\n\t"
/* Two table words (offsets from the list) into ones (r2); their twos carry to h. */
#define EVO_BSL_PAIR_ASM(h)                                                                                                      \
    "ldrd r6, r7, [r0], #8\n\t"                                                                                                  \
    "ldr r6, [r1, r6]\n\t"                                                                                                       \
    "ldr r7, [r1, r7]\n\t" EVO_BSL_CSA_ASM(h, "r2", "r6", "r7")
/* Sums the table words at the byte offsets [list, end) (whole blocks) into the counter m[4..] and
 * leaves the ones, twos, fours and eights (starting from 0) in m[-4..-1]. Registers: r0 list,
 * r1 table, r2-r5 ones..eights, r6/r7 words, r8 temporary, r9-r11 pending twos/fours/eights
 * carries, r12 m, lr end. About 7.5 instructions a word. */
__attribute__((naked, noinline, unused)) static void evo_bsl_blocks(const int32_t *list __attribute__((unused)), const int32_t *table __attribute__((unused)),
                                                          const int32_t *end __attribute__((unused)), uint32_t *m __attribute__((unused)))
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "mov r12, r3\n\t"
                     "mov lr, r2\n\t"
                     "movs r2, #0\n\t"
                     "movs r3, #0\n\t"
                     "movs r4, #0\n\t"
                     "movs r5, #0\n\t"
                     "cmp r0, lr\n\t"
                     "beq 4f\n\t"
                     "1:\n\t" EVO_BSL_PAIR_ASM("r9") EVO_BSL_PAIR_ASM("r6") EVO_BSL_CSA_ASM("r10", "r3", "r9", "r6")
                     EVO_BSL_PAIR_ASM("r9") EVO_BSL_PAIR_ASM("r6") EVO_BSL_CSA_ASM("r6", "r3", "r9", "r6")
                     EVO_BSL_CSA_ASM("r11", "r4", "r10", "r6")
                     EVO_BSL_PAIR_ASM("r9") EVO_BSL_PAIR_ASM("r6") EVO_BSL_CSA_ASM("r10", "r3", "r9", "r6")
                     EVO_BSL_PAIR_ASM("r9") EVO_BSL_PAIR_ASM("r6") EVO_BSL_CSA_ASM("r6", "r3", "r9", "r6")
                     EVO_BSL_CSA_ASM("r6", "r4", "r10", "r6")
                     EVO_BSL_CSA_ASM("r6", "r5", "r11", "r6") /* sixteens */
                     "cbz r6, 3f\n\t"
                     "add r9, r12, #16\n\t"
                     "2:\n\t" /* half adders up the planes, two a turn, until no lane carries */
                     "ldr r7, [r9]\n\t"
                     "ands r8, r7, r6\n\t"
                     "eor r7, r7, r6\n\t"
                     "str r7, [r9], #4\n\t"
                     "beq 3f\n\t"
                     "ldr r7, [r9]\n\t"
                     "ands r6, r7, r8\n\t"
                     "eor r7, r7, r8\n\t"
                     "str r7, [r9], #4\n\t"
                     "bne 2b\n\t"
                     "3:\n\t"
                     "cmp r0, lr\n\t"
                     "bne 1b\n\t"
                     "4:\n\t"
                     "stmdb r12, {r2-r5}\n\t"
                     "pop {r4-r11, pc}\n\t");
}
#undef EVO_BSL_PAIR_ASM
#undef EVO_BSL_CSA_ASM
#else
static inline void evo_bsl_blocks(const int32_t *list, const int32_t *table, const int32_t *end, uint32_t *m)
{
    const char *tab = (const char *)table;
    uint32_t ones = 0, twos = 0, fours = 0, eights = 0, c;
    uint32_t *plane;
#define EVO_BSL_W(j) (*(const uint32_t *)(const void *)(tab + list[j]))
    for (; list != end; list += EVO_BSL_BLOCK) {
        uint32_t t2a, t2b, f4a, f4b, e8a, e8b, s16;
        EVO_BSL_CSA(t2a, ones, EVO_BSL_W(0), EVO_BSL_W(1));
        EVO_BSL_CSA(t2b, ones, EVO_BSL_W(2), EVO_BSL_W(3));
        EVO_BSL_CSA(f4a, twos, t2a, t2b);
        EVO_BSL_CSA(t2a, ones, EVO_BSL_W(4), EVO_BSL_W(5));
        EVO_BSL_CSA(t2b, ones, EVO_BSL_W(6), EVO_BSL_W(7));
        EVO_BSL_CSA(f4b, twos, t2a, t2b);
        EVO_BSL_CSA(e8a, fours, f4a, f4b);
        EVO_BSL_CSA(t2a, ones, EVO_BSL_W(8), EVO_BSL_W(9));
        EVO_BSL_CSA(t2b, ones, EVO_BSL_W(10), EVO_BSL_W(11));
        EVO_BSL_CSA(f4a, twos, t2a, t2b);
        EVO_BSL_CSA(t2a, ones, EVO_BSL_W(12), EVO_BSL_W(13));
        EVO_BSL_CSA(t2b, ones, EVO_BSL_W(14), EVO_BSL_W(15));
        EVO_BSL_CSA(f4b, twos, t2a, t2b);
        EVO_BSL_CSA(e8b, fours, f4a, f4b);
        EVO_BSL_CSA(s16, eights, e8a, e8b);
        for (plane = m + 4; s16; ++plane) {
            c = *plane & s16;
            *plane ^= s16;
            s16 = c;
        }
    }
#undef EVO_BSL_W
    m[-4] = ones;
    m[-3] = twos;
    m[-2] = fours;
    m[-1] = eights;
}
#endif

/* The top plane of the counter m[0..planes) plus ones..eights (m[-4..-1]) at planes 0..3: only the
 * carry into the top plane is needed. */
static inline uint32_t evo_bsl_top(const uint32_t *m, int32_t planes)
{
    uint32_t c = m[0] & m[-4];
    int32_t k;
    c = (m[1] & m[-3]) | (c & (m[1] ^ m[-3]));
    c = (m[2] & m[-2]) | (c & (m[2] ^ m[-2]));
    c = (m[3] & m[-1]) | (c & (m[3] ^ m[-1]));
    for (k = 4; k < planes - 1; ++k) {
        c &= m[k];
    }
    return m[planes - 1] ^ c;
}

/* m[0..planes) = floor((x + y) / 2), x bit-sliced in planes + 1 words, y a scalar (mod 2^(planes+1)). */
static inline void evo_bsl_start(const int32_t *x, uint32_t y, uint32_t *m, int32_t planes)
{
    uint32_t c = 0;
    int32_t k;
    for (k = 0; k <= planes; ++k) {
        const uint32_t a = (uint32_t)x[k], s = 0u - ((y >> k) & 1u), t = a ^ c;
        if (k > 0) {
            m[k - 1] = t ^ s;
        }
        c = (a & c) | (s & t);
    }
}

/* Appends 4 * (base/4 - z) for each set bit 31 - z of x (highest first); returns the list's new end. */
static inline int32_t *evo_bsl_bits(uint32_t x, int32_t base, int32_t *list)
{
#if defined(__thumb2__) && defined(__GNUC__)
    uint32_t z, t;
    __asm__("cbz %[x], 2f\n\t"
            "1:\n\t"
            "clz %[z], %[x]\n\t"
            "lsr %[t], %[top], %[z]\n\t"
            "sub %[z], %[base], %[z], lsl #2\n\t"
            "str %[z], [%[list]], #4\n\t"
            "eors %[x], %[x], %[t]\n\t"
            "bne 1b\n\t"
            "2:\n\t"
            : [x] "+l"(x), [list] "+r"(list), [z] "=&r"(z), [t] "=&r"(t)
            : [base] "r"(base), [top] "r"(0x80000000u)
            : "cc", "memory");
#else
    while (x) {
        const int32_t z = evo_bsl_clz(x);
        *list++ = base - 4 * z;
        x ^= 0x80000000u >> z;
    }
#endif
    return list;
}

/* Lists the byte offsets 4 b of the field bits b that are set (flip 0; padded taps have none) or
 * clear (flip ~0; padded taps included) for the window at (y0, x0); returns their number, or -1
 * once it exceeds `cap` (checked after each word, so the list holds up to cap + 32). */
static inline int32_t evo_bsl_list(const evo_bconv2d_sliced_params_t *p, const int32_t *in_b, int32_t y0, int32_t x0, uint32_t flip,
                                   int32_t cap, int32_t *list)
{
    const int32_t cin = p->in.c, nw = p->words;
    const uint32_t last = (cin % 32) ? (1u << (cin % 32)) - 1u : ~0u; /* valid bits of a pixel's last word */
    int32_t *at = list, *const stop = list + cap;
    int32_t fy, fx, w, base = 4 * 31;
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = y0 + fy * p->dil_h;
        const int32_t row_ok = iy >= 0 && iy < p->in.h;
        for (fx = 0; fx < p->kw; ++fx, base += 4 * cin) {
            const int32_t ix = x0 + fx * p->dil_w;
            if (row_ok && ix >= 0 && ix < p->in.w) {
                const int32_t *src = in_b + ((size_t)iy * p->in.w + ix) * nw;
                for (w = 0; w < nw; ++w) {
                    at = evo_bsl_bits(((uint32_t)src[w] ^ flip) & (w == nw - 1 ? last : ~0u), base + 128 * w, at);
                    if (at > stop) {
                        return -1;
                    }
                }
            } else if (flip) { /* a padded tap: all its bits are clear */
                for (w = 0; w < nw; ++w) {
                    at = evo_bsl_bits(w == nw - 1 ? last : ~0u, base + 128 * w, at);
                }
            }
        }
    }
    return (int32_t)(at - list);
}

/* `table`, `init` as above; scratch K / 2 + 36 + planes int32. */
evo_status_t evo_bconv2d_sliced_bin(const evo_bconv2d_sliced_params_t *p, const int32_t *input, const int32_t *table, const int32_t *init,
                                    int32_t *output, int32_t *scratch);

#endif
