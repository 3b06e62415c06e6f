/* Cortex-M-tuned binary convolution (evo/ops/bnn_tiled.py picks it at generation time).
 *
 * Per output pixel the receptive field is gathered once into a "field" of `field_words` words
 * (padded taps = bit 0): whole blocks of three words, then possibly a two-word tail (a field of
 * 3k + 1 words, or of fewer than 3, gets zero words up to the next block). With 16 or fewer
 * input channels, `tap_pack` taps share one field word (tap t at bit (t % tap_pack) * in.c of
 * word t / tap_pack), so a 3x3 window of 16 channels is 5 words (a block and a tail), not 9.
 * The filters are re-laid-out the same way at generation time (0 ^ 0 counts nothing), output
 * channels in pairs sharing each field load: per pair [block][lane][3] words, then the tail
 * [lane][2] (an odd last channel is paired with a zero filter whose count is dropped). Three
 * words of one lane are counted together through a carry-save adder; the per-byte counts go
 * into the lane's total with one USADA8 on DSP cores. On Thumb-2 DSP cores the whole count
 * (all pairs of one pixel) is one hand-scheduled assembly loop, about 8.5 instructions per
 * word; elsewhere (host, tests) the same arithmetic in C.
 *
 * Blocks whose field is all padding need not be counted (evo_bnn_count_pixel): whole rows of
 * taps, and a row's first/last block at the left/right borders, when rows are whole blocks.
 * Zero-padding (pad_value 0) needs, per padded tap, the popcount of each filter at that tap:
 * `tap_pop` [out.c, kh * kw] is precomputed, so border pixels cost a few adds per channel.
 * Scratch: field_words + out.c rounded up to even int32 (the field, then the counts). */
#ifndef EVO_BNN_TILED_H
#define EVO_BNN_TILED_H

#include "evo/bnn.h"

#define EVO_BNN_LANES 2

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__) && defined(__GNUC__)
/* accum[c] = popcount(field ^ filter_c) over `blocks` blocks of three words for 2 * pairs
 * channels (layout above; each pair's filters start skip_bytes after the previous pair's last
 * counted block); evo_bnn_count_pairs_add adds the counts to accum instead.
 * Registers: r0 field, r1 filters, r2 blocks left, r3-r5 field words, r6-r8 filter words (then
 * temporaries), r9 the lane's count, r10/r11 the two totals, r12 zero, lr the output. One
 * lane's block: LDM, 3 EOR, carry-save adder (5), two 2-stage SWAR counts (10), ones + 2 twos
 * (1), nibbles to bytes (3), USADA8. */
#define EVO_BNN_LANE_ASM(acc)                                                                                                   \
    "ldmia r1!, {r6, r7, r8}\n\t"                                                                                               \
    "eor r6, r6, r3\n\t"                                                                                                        \
    "eor r7, r7, r4\n\t"                                                                                                        \
    "eor r8, r8, r5\n\t"                                                                                                        \
    "eor r9, r6, r7\n\t"            /* u = a ^ b */                                                                             \
    "and r6, r6, r7\n\t"                                                                                                        \
    "and r7, r9, r8\n\t"                                                                                                        \
    "orr r6, r6, r7\n\t"            /* twos = (a & b) | (u & c) */                                                              \
    "eor r9, r9, r8\n\t"            /* ones = u ^ c */                                                                          \
    "and r7, r9, #0xAAAAAAAA\n\t"                                                                                               \
    "sub r9, r9, r7, lsr #1\n\t"                                                                                                \
    "and r7, r9, #0xCCCCCCCC\n\t"                                                                                               \
    "and r9, r9, #0x33333333\n\t"                                                                                               \
    "add r9, r9, r7, lsr #2\n\t"    /* ones: nibble counts <= 4 */                                                              \
    "and r7, r6, #0xAAAAAAAA\n\t"                                                                                               \
    "sub r6, r6, r7, lsr #1\n\t"                                                                                                \
    "and r7, r6, #0xCCCCCCCC\n\t"                                                                                               \
    "and r6, r6, #0x33333333\n\t"                                                                                               \
    "add r6, r6, r7, lsr #2\n\t"    /* twos: nibble counts <= 4 */                                                              \
    "add r9, r9, r6, lsl #1\n\t"    /* nibbles <= 12 */                                                                         \
    "and r7, r9, #0xF0F0F0F0\n\t"                                                                                               \
    "and r9, r9, #0x0F0F0F0F\n\t"                                                                                               \
    "add r9, r9, r7, lsr #4\n\t"    /* bytes <= 24 */                                                                           \
    "usada8 " acc ", r9, r12, " acc "\n\t"
/* The two-word tail of a field (field_words % 3 == 2) for one lane: both words' SWAR counts
 * (nibbles <= 8), added, to bytes, USADA8. */
#define EVO_BNN_TAIL2_ASM(acc)                                                                                                  \
    "ldmia r1!, {r6, r7}\n\t"                                                                                                   \
    "eor r6, r6, r3\n\t"                                                                                                        \
    "eor r7, r7, r4\n\t"                                                                                                        \
    "and r9, r6, #0xAAAAAAAA\n\t"                                                                                               \
    "sub r6, r6, r9, lsr #1\n\t"                                                                                                \
    "and r9, r6, #0xCCCCCCCC\n\t"                                                                                               \
    "and r6, r6, #0x33333333\n\t"                                                                                               \
    "add r6, r6, r9, lsr #2\n\t"                                                                                                \
    "and r9, r7, #0xAAAAAAAA\n\t"                                                                                               \
    "sub r7, r7, r9, lsr #1\n\t"                                                                                                \
    "and r9, r7, #0xCCCCCCCC\n\t"                                                                                               \
    "and r7, r7, #0x33333333\n\t"                                                                                               \
    "add r7, r7, r9, lsr #2\n\t"                                                                                                \
    "add r6, r6, r7\n\t"                                                                                                        \
    "and r9, r6, #0xF0F0F0F0\n\t"                                                                                               \
    "and r6, r6, #0x0F0F0F0F\n\t"                                                                                               \
    "add r6, r6, r9, lsr #4\n\t"                                                                                                \
    "usada8 " acc ", r6, r12, " acc "\n\t"
#define EVO_BNN_COUNT_PAIRS_ASM(init, tail)                                                                                           \
    __asm__ volatile("push {r4-r11, lr}\n\t"                                                                                    \
                     "ldr lr, [sp, #36]\n\t"                                                                                    \
                     "add r3, lr, r3, lsl #3\n\t" /* the output's end */                                                          \
                     "mov r10, #0\n\t"                                                                                          \
                     "mov r11, #0\n\t"                                                                                          \
                     "mov r12, #0\n\t"                                                                                          \
                     "push {r0, r2, r3, r10, r11}\n\t" /* [sp] field, [sp, #4] blocks, [sp, #8] end, [sp, #12] two zeros */     \
                     "1:\n\t"                                                                                                   \
                     "ldr r0, [sp]\n\t"                                                                                         \
                     "ldr r2, [sp, #4]\n\t" init "2:\n\t"                                                                       \
                     "ldmia r0!, {r3, r4, r5}\n\t" EVO_BNN_LANE_ASM("r10") EVO_BNN_LANE_ASM("r11") "subs r2, r2, #1\n\t"       \
                     "bne 2b\n\t" tail                                                                                          \
                     "stmia lr!, {r10, r11}\n\t"                                                                                \
                     "ldr r3, [sp, #60]\n\t" /* skip_bytes: to the next pair's first counted block */                          \
                     "add r1, r1, r3\n\t"                                                                                       \
                     "ldr r3, [sp, #8]\n\t"                                                                                     \
                     "cmp lr, r3\n\t"                                                                                           \
                     "bne 1b\n\t"                                                                                               \
                     "add sp, sp, #20\n\t"                                                                                      \
                     "pop {r4-r11, pc}\n\t")
#define EVO_BNN_COUNT_PAIRS_ARGS                                                                                                \
    const int32_t *field __attribute__((unused)), const int32_t *filters __attribute__((unused)),                             \
        int32_t blocks __attribute__((unused)), int32_t pairs __attribute__((unused)), int32_t *accum __attribute__((unused)), \
        int32_t skip_bytes __attribute__((unused))
__attribute__((naked, noinline)) static void evo_bnn_count_pairs(EVO_BNN_COUNT_PAIRS_ARGS)
{
    EVO_BNN_COUNT_PAIRS_ASM("ldrd r10, r11, [sp, #12]\n\t", "");
}
/* The same, then each pair's two-word tail (field_words % 3 == 2, after the blocks). */
__attribute__((naked, noinline)) static void evo_bnn_count_pairs_tail2(EVO_BNN_COUNT_PAIRS_ARGS)
{
    EVO_BNN_COUNT_PAIRS_ASM("ldrd r10, r11, [sp, #12]\n\t", "ldmia r0!, {r3, r4}\n\t" EVO_BNN_TAIL2_ASM("r10") EVO_BNN_TAIL2_ASM("r11"));
}
__attribute__((naked, noinline)) static void evo_bnn_count_pairs_add(EVO_BNN_COUNT_PAIRS_ARGS)
{
    EVO_BNN_COUNT_PAIRS_ASM("ldmia lr, {r10, r11}\n\t", "");
}
#undef EVO_BNN_COUNT_PAIRS_ARGS
#undef EVO_BNN_COUNT_PAIRS_ASM
#undef EVO_BNN_LANE_ASM
#undef EVO_BNN_TAIL2_ASM
#else
static inline void evo_bnn_count_pairs_to(const int32_t *field, const int32_t *filters, int32_t blocks, int32_t pairs, int32_t *accum,
                                          int32_t skip_bytes, int32_t add, int32_t tail2)
{
    const uint32_t *f = (const uint32_t *)filters;
    int32_t pr, j;
    for (pr = 0; pr < pairs; ++pr) {
        const uint32_t *x = (const uint32_t *)field;
        uint32_t a0 = add ? (uint32_t)accum[2 * pr] : 0u, a1 = add ? (uint32_t)accum[2 * pr + 1] : 0u;
        for (j = 0; j < blocks; ++j) {
            a0 = evo_bnn_add_bytes(a0, evo_popcount_bytes3(x[0] ^ f[0], x[1] ^ f[1], x[2] ^ f[2]));
            a1 = evo_bnn_add_bytes(a1, evo_popcount_bytes3(x[0] ^ f[3], x[1] ^ f[4], x[2] ^ f[5]));
            x += 3;
            f += 6;
        }
        if (tail2) {
            a0 = evo_bnn_add_bytes(a0, evo_popcount_bytes1(x[0] ^ f[0]) + evo_popcount_bytes1(x[1] ^ f[1]));
            a1 = evo_bnn_add_bytes(a1, evo_popcount_bytes1(x[0] ^ f[2]) + evo_popcount_bytes1(x[1] ^ f[3]));
            f += 4;
        }
        accum[2 * pr] = (int32_t)a0;
        accum[2 * pr + 1] = (int32_t)a1;
        f += skip_bytes / 4;
    }
}

static inline void evo_bnn_count_pairs(const int32_t *field, const int32_t *filters, int32_t blocks, int32_t pairs, int32_t *accum,
                                       int32_t skip_bytes)
{
    evo_bnn_count_pairs_to(field, filters, blocks, pairs, accum, skip_bytes, 0, 0);
}

static inline void evo_bnn_count_pairs_tail2(const int32_t *field, const int32_t *filters, int32_t blocks, int32_t pairs, int32_t *accum,
                                             int32_t skip_bytes)
{
    evo_bnn_count_pairs_to(field, filters, blocks, pairs, accum, skip_bytes, 0, 1);
}

static inline void evo_bnn_count_pairs_add(const int32_t *field, const int32_t *filters, int32_t blocks, int32_t pairs, int32_t *accum,
                                           int32_t skip_bytes)
{
    evo_bnn_count_pairs_to(field, filters, blocks, pairs, accum, skip_bytes, 1, 0);
}
#endif

/* Gather one output pixel's field into `buf` (layout above); returns the number of padded taps. */
static inline int32_t evo_bnn_gather_field(const evo_bconv2d_params_t *p, const int32_t *in_b, int32_t y0, int32_t x0, int32_t *buf)
{
    int32_t n, npad;
    if (p->tap_pack > 1) { /* words == 1: several taps per field word */
        const int32_t pack = p->tap_pack, bits = p->in.c;
        const uint32_t mask = (1u << bits) - 1u; /* unused high bits would land on the next tap */
        int32_t fy, fx, slot = 0;
        uint32_t word = 0;
        npad = 0;
        n = 0;
        for (fy = 0; fy < p->kh; ++fy) {
            const int32_t iy = y0 + fy * p->dil_h;
            const int32_t row_ok = iy >= 0 && iy < p->in.h;
            for (fx = 0; fx < p->kw; ++fx) {
                const int32_t ix = x0 + fx * p->dil_w;
                if (row_ok && ix >= 0 && ix < p->in.w) {
                    word |= ((uint32_t)in_b[(size_t)iy * p->in.w + ix] & mask) << (slot * bits);
                } else {
                    ++npad;
                }
                if (++slot == pack) {
                    buf[n++] = (int32_t)word;
                    word = 0;
                    slot = 0;
                }
            }
        }
        if (slot > 0) {
            buf[n++] = (int32_t)word;
        }
    } else {
        npad = evo_bconv2d_gather(p, in_b, y0, x0, buf);
        n = p->kh * p->kw * p->words;
    }
    for (; n < p->field_words; ++n) {
        buf[n] = 0;
    }
    return npad;
}

/* Counts of the blocks [first, first + n) of every row in [lo, hi), added to accum (which holds
 * the skipped blocks' counts already). */
static inline void evo_bnn_count_rows(const evo_bconv2d_params_t *p, const int32_t *filter, const int32_t *field, int32_t lo, int32_t hi,
                                      int32_t first, int32_t n, int32_t *accum)
{
    const int32_t blocks = p->field_words / 3, pairs = (p->out.c + 1) / 2;
    int32_t fy;
    for (fy = lo; fy < hi; ++fy) {
        const int32_t at = fy * p->row_blocks + first;
        evo_bnn_count_pairs_add(field + 3 * at, filter + 6 * at, n, pairs, accum, 24 * (blocks - n));
    }
}

/* accum[c] = table[c] (*set) or accum[c] += table[c], out.c entries; clears *set. */
static inline void evo_bnn_add_counts(const evo_bconv2d_params_t *p, const int32_t *table, int32_t *accum, int32_t *set)
{
    int32_t c;
    if (*set) {
        for (c = 0; c < p->out.c; ++c) {
            accum[c] = table[c];
        }
        *set = 0;
        return;
    }
    for (c = 0; c < p->out.c; ++c) {
        accum[c] += table[c];
    }
}

/* Gathers the pixel's field into scratch and counts it against every filter: returns the
 * number of padded taps; the counts are at scratch + field_words. Blocks whose field words all
 * lie in padded taps (field 0) are not counted: their count is the filter's popcount there,
 * added from row_pop instead. With row_blocks > 0 (a filter row is whole blocks) whole rows of
 * padded taps are skipped (row_pop [kh, out.c]); with edge_blocks also a row's first or last
 * block where the padded columns cover it (then [lead block, tail block] popcounts follow:
 * row_pop [3, kh, out.c]). */
static inline int32_t evo_bnn_count_pixel(const evo_bconv2d_params_t *p, const int32_t *filter, const int32_t *row_pop,
                                          const evo_bconv2d_pixel_t *px, int32_t *scratch)
{
    const int32_t npad = evo_bnn_gather_field(p, px->in_b, px->y0, px->x0, scratch);
    const int32_t blocks = p->field_words / 3, pairs = (p->out.c + 1) / 2, co = p->out.c;
    int32_t *accum = scratch + p->field_words;
    int32_t lo = 0, hi = p->kh, nl = 0, nr = 0, set = 1, c, fy;
    if (p->row_blocks > 0 && npad > 0) {
        evo_bnn_row_range(px->y0, p->dil_h, p->in.h, p->kh, &lo, &hi);
        if (p->edge_blocks) {
            int32_t clo, chi;
            evo_bnn_row_range(px->x0, p->dil_w, p->in.w, p->kw, &clo, &chi);
            if (chi > clo) { /* then at least one block of valid words is left in a row */
                nl = clo * p->words >= 3;
                nr = (p->kw - chi) * p->words >= 3;
            }
        }
    }
    if (lo == 0 && hi == p->kh && !nl && !nr) {
        if (p->field_words % 3) {
            evo_bnn_count_pairs_tail2(scratch, filter, blocks, pairs, accum, 0);
        } else {
            evo_bnn_count_pairs(scratch, filter, blocks, pairs, accum, 0);
        }
        return npad;
    }
    for (fy = 0; fy < p->kh; ++fy) { /* the skipped blocks' counts first */
        if (fy < lo || fy >= hi) {
            evo_bnn_add_counts(p, row_pop + (size_t)fy * co, accum, &set);
        } else {
            if (nl) {
                evo_bnn_add_counts(p, row_pop + (size_t)(p->kh + fy) * co, accum, &set);
            }
            if (nr) {
                evo_bnn_add_counts(p, row_pop + (size_t)(2 * p->kh + fy) * co, accum, &set);
            }
        }
    }
    if (set) { /* not reached (something was skipped), kept so accum is never left unset */
        for (c = 0; c < co; ++c) {
            accum[c] = 0;
        }
    }
    if (hi > lo) {
        if (nl || nr) {
            evo_bnn_count_rows(p, filter, scratch, lo, hi, nl, p->row_blocks - nl - nr, accum);
        } else { /* the counted rows are contiguous: one pass */
            const int32_t first = lo * p->row_blocks, counted = (hi - lo) * p->row_blocks;
            evo_bnn_count_pairs_add(scratch + 3 * first, filter + 6 * first, counted, pairs, accum, 24 * (blocks - counted));
        }
    }
    return npad;
}

/* Sum of tap_pop_c over the taps of this output pixel that fall outside the input. */
static inline int32_t evo_bnn_pad_pop(const evo_bconv2d_params_t *p, const int32_t *tap_pop_c, int32_t y0, int32_t x0)
{
    int32_t fy, fx, total = 0;
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = y0 + fy * p->dil_h;
        const int32_t row_ok = iy >= 0 && iy < p->in.h;
        for (fx = 0; fx < p->kw; ++fx) {
            const int32_t ix = x0 + fx * p->dil_w;
            if (!(row_ok && ix >= 0 && ix < p->in.w)) {
                total += tap_pop_c[fy * p->kw + fx];
            }
        }
    }
    return total;
}

/* clamp(K_eff - 2 accum) for channel c, the value the float and int8 outputs scale
 * (evo_bconv2d_value with the padded taps' popcounts taken from tap_pop). */
static inline int32_t evo_bnn_tiled_value(const evo_bconv2d_params_t *p, const int32_t *tap_pop, int32_t c, int32_t accum,
                                          const evo_bconv2d_pixel_t *px, int32_t npad)
{
    int32_t k_eff = p->kh * p->kw * p->in.c;
    if (npad > 0 && !p->pad_value) { /* padded taps drop out: remove their +1 contribution */
        accum -= evo_bnn_pad_pop(p, tap_pop + (size_t)c * p->kh * p->kw, px->y0, px->x0);
        k_eff -= npad * p->in.c;
    }
    return EVO_CLAMP(k_eff - 2 * accum, p->clamp_min, p->clamp_max);
}

/* Float and int8 outputs: clamp(K_eff - 2 accum) * multiplier + bias, stored as float
 * (to_s8 0) or rounded and saturated to int8 (to_s8 1). Each kernel passes a constant, so the
 * choice folds away. */
static inline evo_status_t evo_bconv2d_tiled_affine(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter,
                                                    const int32_t *row_pop, const int32_t *tap_pop, void *output, int32_t to_s8,
                                                    int32_t *scratch)
{
    const int32_t *accum = scratch + p->field_words;
    evo_bconv2d_pixel_t px;
    int32_t c, more;
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        const size_t out = px.pix * p->out.c;
        const int32_t npad = evo_bnn_count_pixel(p, filter, row_pop, &px, scratch);
        for (c = 0; c < p->out.c; ++c) {
            const int32_t v = evo_bnn_tiled_value(p, tap_pop, c, accum[c], &px, npad);
            const float y = (float)v * p->multiplier[c] + p->bias[c];
            if (to_s8) {
                ((int8_t *)output)[out + (size_t)c] = evo_bnn_round_s8(y);
            } else {
                ((float *)output)[out + (size_t)c] = y;
            }
        }
    }
    return EVO_OK;
}

/* `filter` is the paired layout above ((out.c + 1) / 2 pairs of 2 * field_words words);
 * `row_pop` [kh, out.c] the filters' popcounts per row of taps (NULL when row_blocks is 0);
 * `tap_pop` [out.c, kh * kw] per tap (zero-padding only, else NULL);
 * `scratch` holds field_words + out.c rounded up to even int32. */
evo_status_t evo_bconv2d_tiled_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *row_pop,
                                   int32_t *output, int32_t *scratch);
evo_status_t evo_bconv2d_tiled_f32(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *row_pop,
                                   const int32_t *tap_pop, float *output, int32_t *scratch);
evo_status_t evo_bconv2d_tiled_s8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *row_pop,
                                  const int32_t *tap_pop, int8_t *output, int32_t *scratch);
evo_status_t evo_bconv2d_tiled_q8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *row_pop,
                                  const int32_t *tap_pop, int8_t *output, int32_t *scratch);

#endif
