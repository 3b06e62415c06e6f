/* Bit-sliced binary convolution with bit-packed output (LceBconv2d, one-padding or VALID): built by
 * evo/ops/bnn_sliced.py, picked on DSP cores for layers whose groups of 32 output channels are
 * mostly used (evo/ops/bnn_tiled.py uses_sliced; the tiled kernel otherwise, and as the lean
 * variant where the list's scratch would raise the arena).
 *
 * accum_c = popcount(field XOR filter_c) over the K = kh * kw * in.c field bits (padded taps are
 * bit 0) is P_c + n1 - 2 S_c, where P_c = popcount(filter_c), n1 = the field's set bits and
 * S_c = the number of set field bits b where filter_c has bit b set. For 32 output channels at
 * once the filters are transposed: table word T[b] holds bit b of each channel's filter (channel
 * 32 g + j at bit j of group g's table), so the 32 values S_c are the sum of the words T[b] over
 * the field's set bits, counted bit-sliced (word k = bit k of the 32 sums). Only set bits cost
 * work, padded taps none; when more than half of the field is set, its zero bits are summed
 * instead (accum = 2 S0_c + n1 - P_c), so a pixel sums at most K / 2 words per group: the time
 * depends on the data, half the field set being the worst case.
 *
 * Per pixel the window's set bits are counted (which picks the bits to list), the set (or zero)
 * bits are listed once as byte offsets into the table, then each group of 32 channels sums its
 * table words at those offsets: a Harley-Seal carry-save tree keeps ones..sixteens in registers
 * and adds the thirty-twos of each 32 words into the counter planes. The counter starts at a
 * per-channel value B (from the precomputed planes `init`, shifted by n1) chosen so that the
 * output bit is the counter's top plane (zero bits summed) or its complement (set bits summed):
 * no per-channel compare, no bit packing.
 *
 * `table` [out_words][K + 1] (word K is 0: the list is padded to whole blocks with it);
 * `init` [out_words][2][planes + 1]: the bit-sliced U_c = 2^planes + thr_c - P_c (set bits
 * summed) and V_c = 2^planes - 1 - thr_c - P_c (zero bits summed), thr_c clipped to [-1, K];
 * the counter starts at floor((U_c - n1) / 2), or floor((V_c + n1) / 2), with 2^(planes-1) >= K + 2
 * so that nothing wraps. Scratch: K / 2 + 15 int32 (the list, padded to whole blocks with the
 * zero word), then `planes` (the counter). */
#ifndef EVO_BNN_SLICED_H
#define EVO_BNN_SLICED_H

#include "evo/bnn.h"

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

/* Adds the table words at the byte offsets [list, end) (whole blocks of EVO_BSL_BLOCK) to the
 * counter m[0..planes) and returns the total's top plane: a carry-save tree over 32 words at a
 * time keeps ones..sixteens in registers and ripples its thirty-twos up the counter from plane 5;
 * at the end ones..sixteens are added to planes 0..4, of which only the carry into the top plane
 * is needed. The ripple needs no bound: the counter never exceeds its start value plus the final
 * sum, which is < 2^planes (evo/ops/bnn_sliced.py). */
#if defined(__thumb2__) && defined(__GNUC__)
/* h = carry, l = sum of l, a, b (r8 temporary; a is clobbered, h may be a). */
#define EVO_BSL_CSA_ASM(h, l, a, b)                                                                                              \
    "eor r8, " l ", " a "\n\t"                                                                                                   \
    "and " a ", " a ", " l "\n\t"                                                                                                \
    "eor " l ", r8, " b "\n\t"                                                                                                   \
    "and r8, r8, " b "\n\t"                                                                                                      \
    "orr " h ", " a ", r8\n\t"
/* Two table words (offsets from the list) into the ones (r2); their twos carry to h. */
#define EVO_BSL_PAIR_ASM(h)                                                                                                      \
    "ldrd r6, r7, [r0], #8\n\t"                                                                                                  \
    "ldr r6, [r1, r6]\n\t"                                                                                                       \
    "ldr r7, [r1, r7]\n\t" EVO_BSL_CSA_ASM(h, "r2", "r6", "r7")
/* Four table words: a quad completing a pending fours carry (r10) or one making it. */
#define EVO_BSL_QUAD_A_ASM EVO_BSL_PAIR_ASM("r9") EVO_BSL_PAIR_ASM("r6") EVO_BSL_CSA_ASM("r10", "r3", "r9", "r6")
#define EVO_BSL_QUAD_B_ASM(h8) EVO_BSL_PAIR_ASM("r9") EVO_BSL_PAIR_ASM("r6") EVO_BSL_CSA_ASM("r6", "r3", "r9", "r6") EVO_BSL_CSA_ASM(h8, "r4", "r10", "r6")
/* Registers: r0 list, r1 table, r2-r5 ones..eights, r6/r7 words, r8 temporary, r9-r11 pending
 * twos/fours/eights carries, r12 sixteens, lr the first half's sixteens carry; [sp] end,
 * [sp, #4] m, [sp, #44] planes. About 7 instructions a word. A list of 32 k + 4 q words enters
 * the block at quad 8 - q (a TBH), the pending carries of the quads it skips being 0. */
__attribute__((naked, noinline, unused)) static uint32_t evo_bsl_blocks(const int32_t *list __attribute__((unused)),
                                                                      const int32_t *table __attribute__((unused)),
                                                                      const int32_t *end __attribute__((unused)), uint32_t *m __attribute__((unused)),
                                                                      int32_t planes __attribute__((unused)))
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "push {r2, r3}\n\t"
                     "movs r4, #0\n\t"
                     "movs r5, #0\n\t"
                     "mov r12, #0\n\t"
                     "mov r10, #0\n\t"
                     "mov r11, #0\n\t"
                     "mov lr, #0\n\t"
                     "subs r6, r2, r0\n\t"
                     "movs r2, #0\n\t"
                     "movs r3, #0\n\t"
                     "ubfx r6, r6, #4, #3\n\t" /* quads past whole blocks of 32 */
                     "tbh [pc, r6, lsl #1]\n\t"
                     ".Lbsl_tab:\n\t"
                     ".hword (.Lbsl_top - .Lbsl_tab) / 2\n\t"
                     ".hword (.Lbsl_q7 - .Lbsl_tab) / 2\n\t"
                     ".hword (.Lbsl_q6 - .Lbsl_tab) / 2\n\t"
                     ".hword (.Lbsl_q5 - .Lbsl_tab) / 2\n\t"
                     ".hword (.Lbsl_q4 - .Lbsl_tab) / 2\n\t"
                     ".hword (.Lbsl_q3 - .Lbsl_tab) / 2\n\t"
                     ".hword (.Lbsl_q2 - .Lbsl_tab) / 2\n\t"
                     ".hword (.Lbsl_q1 - .Lbsl_tab) / 2\n\t"
                     ".Lbsl_top:\n\t"
                     "1:\n\t"
                     "ldr r8, [sp]\n\t"
                     "cmp r0, r8\n\t"
                     "beq 4f\n\t" EVO_BSL_QUAD_A_ASM ".Lbsl_q1:\n\t" EVO_BSL_QUAD_B_ASM("r11") ".Lbsl_q2:\n\t" EVO_BSL_QUAD_A_ASM
                     ".Lbsl_q3:\n\t" EVO_BSL_QUAD_B_ASM("r6") EVO_BSL_CSA_ASM("lr", "r5", "r11", "r6") /* the first half's sixteens */
                     ".Lbsl_q4:\n\t" EVO_BSL_QUAD_A_ASM ".Lbsl_q5:\n\t" EVO_BSL_QUAD_B_ASM("r11") ".Lbsl_q6:\n\t" EVO_BSL_QUAD_A_ASM
                     ".Lbsl_q7:\n\t" EVO_BSL_QUAD_B_ASM("r6") EVO_BSL_CSA_ASM("r6", "r5", "r11", "r6")
                     EVO_BSL_CSA_ASM("r6", "r12", "lr", "r6") /* thirty-twos */
                     "cmp r6, #0\n\t"
                     "beq 1b\n\t"
                     "ldr r9, [sp, #4]\n\t"
                     "add r9, r9, #20\n\t"
                     "2:\n\t" /* half adders up the planes, two a turn, until no lane carries */
                     "ldr r7, [r9]\n\t"
                     "ands r8, r7, r6\n\t"
                     "eor r7, r7, r6\n\t"
                     "str r7, [r9], #4\n\t"
                     "beq 1b\n\t"
                     "ldr r7, [r9]\n\t"
                     "ands r6, r7, r8\n\t"
                     "eor r7, r7, r8\n\t"
                     "str r7, [r9], #4\n\t"
                     "bne 2b\n\t"
                     "b 1b\n\t"
                     "4:\n\t" /* the carry into the top plane: full adders over planes 0..4, then ANDs */
                     "ldr r9, [sp, #4]\n\t"
                     "ldmia r9!, {r6, r7, r8, r10, r11}\n\t"
                     "and r6, r6, r2\n\t"
                     "eor r2, r7, r3\n\t"
                     "and r7, r7, r3\n\t"
                     "and r2, r2, r6\n\t"
                     "orr r6, r7, r2\n\t"
                     "eor r2, r8, r4\n\t"
                     "and r8, r8, r4\n\t"
                     "and r2, r2, r6\n\t"
                     "orr r6, r8, r2\n\t"
                     "eor r2, r10, r5\n\t"
                     "and r10, r10, r5\n\t"
                     "and r2, r2, r6\n\t"
                     "orr r6, r10, r2\n\t"
                     "eor r2, r11, r12\n\t"
                     "and r11, r11, r12\n\t"
                     "and r2, r2, r6\n\t"
                     "orr r6, r11, r2\n\t"
                     "ldr r3, [sp, #44]\n\t"
                     "add r3, r9, r3, lsl #2\n\t"
                     "sub r3, r3, #24\n\t" /* &m[planes - 1] */
                     "6:\n\t"
                     "cmp r9, r3\n\t"
                     "beq 7f\n\t"
                     "ldr r7, [r9], #4\n\t"
                     "ands r6, r6, r7\n\t"
                     "bne 6b\n\t"
                     "7:\n\t"
                     "ldr r7, [r3]\n\t"
                     "eor r0, r7, r6\n\t"
                     "add sp, sp, #8\n\t"
                     "pop {r4-r11, pc}\n\t");
}
#undef EVO_BSL_QUAD_B_ASM
#undef EVO_BSL_QUAD_A_ASM
#undef EVO_BSL_PAIR_ASM
#undef EVO_BSL_CSA_ASM
#define EVO_BSL_BLOCK 4 /* the list is padded to whole quads of offsets (with the table's zero word) */
#else
#define EVO_BSL_BLOCK 16 /* the list is padded to whole blocks of 16 offsets (with the table's zero word) */
static inline uint32_t evo_bsl_blocks(const int32_t *list, const int32_t *table, const int32_t *end, uint32_t *m, int32_t planes)
{
    const char *tab = (const char *)table;
    uint32_t ones = 0, twos = 0, fours = 0, eights = 0, sixteens = 0, c;
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
        c = sixteens & s16; /* the thirty-twos */
        sixteens ^= s16;
        for (plane = m + 5; c; ++plane) {
            s16 = *plane & c;
            *plane ^= c;
            c = s16;
        }
    }
#undef EVO_BSL_W
    c = m[0] & ones;
    c = (m[1] & twos) | (c & (m[1] ^ twos));
    c = (m[2] & fours) | (c & (m[2] ^ fours));
    c = (m[3] & eights) | (c & (m[3] ^ eights));
    c = (m[4] & sixteens) | (c & (m[4] ^ sixteens));
    for (plane = m + 5; c && plane < m + planes - 1; ++plane) {
        c &= *plane;
    }
    return m[planes - 1] ^ c;
}
#endif

/* m[0..planes) = floor((x + y) / 2), x bit-sliced in planes + 1 words, y a scalar (mod 2^(planes+1)):
 * a ripple-carry add whose second operand is 0 or all ones in each plane. */
#if defined(__thumb2__) && defined(__GNUC__)
/* r4 plane of x, r5 carry, r6 sum; a clear bit of y: sum = x ^ c, c = x & c; a set bit:
 * sum = ~(x ^ c), c = x | c. */
__attribute__((naked, noinline, unused)) static void evo_bsl_start(const int32_t *x __attribute__((unused)), uint32_t y __attribute__((unused)),
                                                                 uint32_t *m __attribute__((unused)), int32_t planes __attribute__((unused)))
{
    __asm__ volatile("push {r4-r6}\n\t"
                     "ldr r4, [r0], #4\n\t"
                     "lsrs r1, r1, #1\n\t"
                     "sbc r6, r6, r6\n\t" /* 0 if bit 0 of y is set, else all ones */
                     "bic r5, r4, r6\n\t" /* the carry out of plane 0 (its sum is dropped: the / 2) */
                     "1:\n\t"
                     "ldr r4, [r0], #4\n\t"
                     "eor r6, r4, r5\n\t"
                     "lsrs r1, r1, #1\n\t"
                     "bcs 2f\n\t"
                     "and r5, r4, r5\n\t"
                     "str r6, [r2], #4\n\t"
                     "subs r3, r3, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r4-r6}\n\t"
                     "bx lr\n\t"
                     "2:\n\t"
                     "orr r5, r4, r5\n\t"
                     "mvn r6, r6\n\t"
                     "str r6, [r2], #4\n\t"
                     "subs r3, r3, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r4-r6}\n\t"
                     "bx lr\n\t");
}
#else
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
#endif

/* Appends base - 4 z for each set bit 31 - z of x (highest first); returns the list's new end. */
static inline int32_t *evo_bsl_bits(uint32_t x, int32_t base, int32_t *list)
{
    while (x) {
        const int32_t z = evo_bsl_clz(x);
        *list++ = base - 4 * z;
        x ^= 0x80000000u >> z;
    }
    return list;
}

/* How a row of in-bounds taps is read: nw words a tap (each XOR flip, the last masked by `last`),
 * then src_skip bytes to the next tap; word w of a tap lists at base + 128 w, the next tap at
 * base + 128 (nw - 1) + base_skip. */
typedef struct {
    int32_t nw;
    int32_t src_skip;
    uint32_t flip;
    uint32_t last;
    int32_t base_skip;
} evo_bsl_walk_t;

/* Lists the bits of `taps` taps from src (as evo_bsl_bits, tap by tap); returns the list's end. */
#if defined(__thumb2__) && defined(__GNUC__)
/* r0 word, r1 src, r2 taps left, r3 base, r4-r8 the walk, r9 list, r10 0x80000000, r11 words
 * left, r12/lr temporaries. A set bit: CLZ, shift, offset, store, clear (6 instructions). */
__attribute__((naked, noinline, unused)) static int32_t *evo_bsl_row(const evo_bsl_walk_t *wk __attribute__((unused)),
                                                                   const int32_t *src __attribute__((unused)), int32_t taps __attribute__((unused)),
                                                                   int32_t base __attribute__((unused)), int32_t *list __attribute__((unused)))
{
    __asm__ volatile("push {r4-r11, lr}\n\t"
                     "ldm r0, {r4-r8}\n\t"
                     "ldr r9, [sp, #36]\n\t"
                     "mov r10, #0x80000000\n\t"
                     "cbz r2, 9f\n\t"
                     "1:\n\t" /* a tap */
                     "subs r11, r4, #1\n\t"
                     "beq 4f\n\t"
                     "2:\n\t" /* its whole words */
                     "ldr r0, [r1], #4\n\t"
                     "eor r0, r0, r6\n\t"
                     "cbz r0, 3f\n\t"
                     "20:\n\t"
                     "clz r12, r0\n\t"
                     "lsr lr, r10, r12\n\t"
                     "sub r12, r3, r12, lsl #2\n\t"
                     "str r12, [r9], #4\n\t"
                     "eors r0, r0, lr\n\t"
                     "bne 20b\n\t"
                     "3:\n\t"
                     "add r3, r3, #128\n\t"
                     "subs r11, r11, #1\n\t"
                     "bne 2b\n\t"
                     "4:\n\t" /* its last word */
                     "ldr r0, [r1], #4\n\t"
                     "eor r0, r0, r6\n\t"
                     "ands r0, r0, r7\n\t"
                     "beq 6f\n\t"
                     "5:\n\t"
                     "clz r12, r0\n\t"
                     "lsr lr, r10, r12\n\t"
                     "sub r12, r3, r12, lsl #2\n\t"
                     "str r12, [r9], #4\n\t"
                     "eors r0, r0, lr\n\t"
                     "bne 5b\n\t"
                     "6:\n\t"
                     "add r3, r3, r8\n\t"
                     "add r1, r1, r5\n\t"
                     "subs r2, r2, #1\n\t"
                     "bne 1b\n\t"
                     "9:\n\t"
                     "mov r0, r9\n\t"
                     "pop {r4-r11, pc}\n\t");
}
#else
static inline int32_t *evo_bsl_row(const evo_bsl_walk_t *wk, const int32_t *src, int32_t taps, int32_t base, int32_t *list)
{
    int32_t w;
    for (; taps > 0; --taps) {
        for (w = 0; w < wk->nw - 1; ++w, base += 128) {
            list = evo_bsl_bits((uint32_t)*src++ ^ wk->flip, base, list);
        }
        list = evo_bsl_bits(((uint32_t)*src++ ^ wk->flip) & wk->last, base, list);
        base += wk->base_skip;
        src = (const int32_t *)(const void *)((const char *)src + wk->src_skip);
    }
    return list;
}
#endif

/* The in-bounds taps of one window: rows [ylo, yhi), columns [xlo, xhi) of the kernel. */
typedef struct {
    const int32_t *in_b;
    int32_t y0, x0;
    int32_t ylo, yhi, xlo, xhi;
} evo_bsl_window_t;

static inline void evo_bsl_window(const evo_bconv2d_sliced_params_t *p, const int32_t *in_b, int32_t y0, int32_t x0, evo_bsl_window_t *win)
{
    win->in_b = in_b;
    win->y0 = y0;
    win->x0 = x0;
    evo_bnn_row_range(y0, p->dil_h, p->in.h, p->kh, &win->ylo, &win->yhi);
    evo_bnn_row_range(x0, p->dil_w, p->in.w, p->kw, &win->xlo, &win->xhi);
}

/* Valid bits of a pixel's last word. */
static inline uint32_t evo_bsl_last(const evo_bconv2d_sliced_params_t *p)
{
    return (p->in.c % 32) ? (1u << (p->in.c % 32)) - 1u : ~0u;
}

/* acc (byte sums) plus the set bits of the n words at src. */
static inline uint32_t evo_bsl_popcount(const int32_t *src, int32_t n, uint32_t acc)
{
    for (; n >= 3; n -= 3, src += 3) {
        acc = evo_bnn_add_bytes(acc, evo_popcount_bytes3((uint32_t)src[0], (uint32_t)src[1], (uint32_t)src[2]));
    }
    for (; n > 0; --n, ++src) {
        acc = evo_bnn_add_bytes(acc, evo_popcount_bytes1((uint32_t)*src));
    }
    return acc;
}

/* Set bits of the window (padded taps have none). */
static inline int32_t evo_bsl_ones(const evo_bconv2d_sliced_params_t *p, const evo_bsl_window_t *win)
{
    const int32_t nw = p->words, step = p->dil_w * nw, taps = win->xhi - win->xlo;
    const uint32_t last = evo_bsl_last(p);
    uint32_t acc = 0;
    int32_t fy, fx;
    for (fy = win->ylo; fy < win->yhi; ++fy) {
        const int32_t *src = win->in_b + ((size_t)(win->y0 + fy * p->dil_h) * p->in.w + win->x0 + win->xlo * p->dil_w) * nw;
        if (p->dil_w == 1 && last == ~0u) { /* the row's in-bounds words are contiguous */
            acc = evo_bsl_popcount(src, taps * nw, acc);
        } else if (nw == 1) { /* one masked word a tap: three at a time through the carry-save adder */
            for (fx = taps; fx >= 3; fx -= 3, src += 3 * step) {
                acc = evo_bnn_add_bytes(acc, evo_popcount_bytes3((uint32_t)src[0] & last, (uint32_t)src[step] & last, (uint32_t)src[2 * step] & last));
            }
            for (; fx > 0; --fx, src += step) {
                acc = evo_bnn_add_bytes(acc, evo_popcount_bytes1((uint32_t)src[0] & last));
            }
        } else {
            for (fx = 0; fx < taps; ++fx, src += step) {
                acc = evo_bsl_popcount(src, nw - 1, acc);
                acc = evo_bnn_add_bytes(acc, evo_popcount_bytes1((uint32_t)src[nw - 1] & last));
            }
        }
    }
    return (int32_t)acc;
}

/* Lists the byte offsets 4 b of the window's field bits b that are set (flip 0; padded taps have
 * none) or clear (flip ~0; padded taps included); returns their number. */
static inline int32_t evo_bsl_list(const evo_bconv2d_sliced_params_t *p, const evo_bsl_window_t *win, uint32_t flip, int32_t *list)
{
    const int32_t cin = p->in.c, nw = p->words;
    const uint32_t last = evo_bsl_last(p);
    const evo_bsl_walk_t walk = {nw, 4 * (p->dil_w - 1) * nw, flip, last, 4 * cin - 128 * (nw - 1)};
    int32_t *at = list;
    int32_t fy, fx, w;
    for (fy = win->ylo; fy < win->yhi; ++fy) {
        const int32_t *src = win->in_b + ((size_t)(win->y0 + fy * p->dil_h) * p->in.w + win->x0 + win->xlo * p->dil_w) * nw;
        at = evo_bsl_row(&walk, src, win->xhi - win->xlo, 4 * ((fy * p->kw + win->xlo) * cin + 31), at);
    }
    if (flip && (win->yhi - win->ylo < p->kh || win->xhi - win->xlo < p->kw)) { /* padded taps: all bits clear */
        for (fy = 0; fy < p->kh; ++fy) {
            for (fx = 0; fx < p->kw; ++fx) {
                if (fy >= win->ylo && fy < win->yhi && fx >= win->xlo && fx < win->xhi) {
                    continue;
                }
                for (w = 0; w < nw; ++w) {
                    at = evo_bsl_bits(w == nw - 1 ? last : ~0u, 4 * ((fy * p->kw + fx) * cin + 32 * w + 31), at);
                }
            }
        }
    }
    return (int32_t)(at - list);
}

/* `table`, `init` as above; scratch K / 2 + 15 + planes int32. */
evo_status_t evo_bconv2d_sliced_bin(const evo_bconv2d_sliced_params_t *p, const int32_t *input, const int32_t *table, const int32_t *init,
                                    int32_t *output, int32_t *scratch);

#endif
