/* DEPTHWISE_CONV_2D, int8, 3x3 filter, stride_w 1 or 2, depth multiplier 1, dilation 1: the
 * channel-planar kernel (evo/depthwise_fast.h).
 *
 * Why planar: with one channel's row values adjacent, two horizontally adjacent outputs share
 * their input words. Per kernel row, A = (x0, x1) and B = (x2, x3) give
 *     out0 = SMLAD(A, (w0, w1)) + SMLABT(B, (w1, w2))   [x0 w0 + x1 w1 + x2 w2]
 *     out1 = SMLATB(A, (w0, w1)) + SMLAD(B, (w1, w2))   [x1 w0 + x2 w1 + x3 w2]
 * so both outputs cost 4 multiply instructions per kernel row and no repacking; at stride 2 the
 * output after (A, B) starts at B, and SMLAD(B, (w0, w1)) + SMLABT(C, (w1, w2)) gives it.
 *
 * The ring holds the three padded input rows of the current output row as int16 pairs (input
 * offset added, 0 in the padding): word [channel][column pair k][slot s] = padded columns 2k and
 * 2k + 1 of the padded row whose index is s modulo 3. The three slots of a column pair are
 * adjacent, so three LDRD fetch two pairs' worth; which kernel row sits in which slot rotates with
 * the output row, so each channel's pack stores its rows r0 r1 r2 r0 r1 and the row's weights are
 * the six words starting at the rotation. A new input row is widened once into its slot (PKH +
 * SXTAB16, four channels at a time); padding pixels read the pack's zero-point pixel.
 *
 * On Cortex-M with the DSP extension one inline-assembly block computes a whole output row for
 * every channel: the six weight words stay in registers along the row, and the channel's
 * requantisation constants sit in a small stack frame. Elsewhere plain C does the same arithmetic.
 * Input rows are read only when first copied into the ring, before the output row that needs them
 * is written, so the kernel also runs in place (the _rows entry). */
#include "evo/depthwise_fast.h"
#include "evo/simd32.h"

#define DW3_PACK 15 /* words per channel: 2 * bias (twice), M, T, e, weights r0 r1 r2 r0 r1 */

/* Column pairs per ring row and channel: the last output reads pair ((ow - 1) * sw + 2) / 2. */
static int32_t dw3_pairs(const evo_depthwise_conv2d_s8_params_t *p)
{
    return ((p->out.w - 1) * p->stride_w + 2) / 2 + 1;
}

int32_t evo_depthwise_conv2d_s8_planar_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p)
{
    return (3 * p->out.c * dw3_pairs(p) * 4 + 15) & ~15;
}

/* Channels [0, ch) of two adjacent input pixels a, b (a padding pixel points at the zero-point
 * pixel, which widens to 0) into their pair words, a channel stride (cstep words) apart: per four
 * channels two PKH and four SXTAB16. */
static void dw3_widen_pair(uint32_t *dst, const int8_t *a, const int8_t *b, int32_t ch, size_t cstep, uint32_t off2)
{
    const int32_t off = (int32_t)(int16_t)(off2 & 0xFFFFu);
    int32_t c;
    for (c = 0; c + 4 <= ch; c += 4) {
        const uint32_t va = evo_s32_ld(a + c), vb = evo_s32_ld(b + c);
        const uint32_t lo = evo_s32_pkhbt(va, vb), hi = evo_s32_pkhtb(va, vb);
        dst[0] = evo_s32_sxtab16(off2, lo);
        dst[cstep] = evo_s32_sxtab16_r8(off2, lo);
        dst[2 * cstep] = evo_s32_sxtab16(off2, hi);
        dst[3 * cstep] = evo_s32_sxtab16_r8(off2, hi);
        dst += 4 * cstep;
    }
    for (; c < ch; ++c) { /* the channels past the last full four */
        *dst = ((uint32_t)(a[c] + off) & 0xFFFFu) | ((uint32_t)(b[c] + off) << 16);
        dst += cstep;
    }
}

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)

/* A run of column pairs for the assembly below (C a multiple of 4): the fields are loaded with one
 * LDM into r0-r12, lr, in this order (gap words are registers it sets itself). */
typedef struct {
    uint32_t *dst;      /* r0: ring word of the first pair, channel 0 */
    const int8_t *a, *b; /* r1, r2: the first pair's pixels */
    int32_t gap3;
    uint32_t s1, s3;    /* r4, r5: 1 and 3 channel strides, bytes */
    uint32_t off2;      /* r6: input offset in both halves */
    int32_t gap7, gap8, gap9;
    int32_t npairs;     /* r10 */
    int32_t quads;      /* r11: C / 4 */
    uint32_t back;      /* r12: bytes from past the last channel back to the next pair's channel 0 */
    int32_t ch;         /* lr: pixel bytes; the next pair's pixels follow (a' = b + C) */
} dw3_run_t;

typedef char dw3_run_is_14_words[sizeof(dw3_run_t) == 56 ? 1 : -1];

#define DW3_WIDEN_QUAD                                                                                         \
    "ldr r7, [r1], #4\n\t"                                                                                     \
    "ldr r8, [r2], #4\n\t"                                                                                     \
    "pkhbt r9, r7, r8, lsl #16\n\t"                                                                            \
    "pkhtb r8, r8, r7, asr #16\n\t"                                                                            \
    "sxtab16 r7, r6, r9\n\t"                                                                                   \
    "str r7, [r0]\n\t"                                                                                         \
    "sxtab16 r7, r6, r9, ror #8\n\t"                                                                           \
    "str r7, [r0, r4]\n\t"                                                                                     \
    "sxtab16 r7, r6, r8\n\t"                                                                                   \
    "str r7, [r0, r4, lsl #1]\n\t"                                                                             \
    "sxtab16 r7, r6, r8, ror #8\n\t"                                                                           \
    "str r7, [r0, r5]\n\t"                                                                                     \
    "add r0, r0, r4, lsl #2\n\t"

/* Widen a run of column pairs, two quads per trip. */
static void dw3_widen_run(const dw3_run_t *r)
{
    __asm__ volatile("push {r0-r12, lr}\n\t"
                     "ldm %[r], {r0-r12, lr}\n"
                     "1:\n\t"
                     "lsrs r3, r11, #1\n\t"
                     "beq 3f\n"
                     "2:\n\t" DW3_WIDEN_QUAD DW3_WIDEN_QUAD "subs r3, r3, #1\n\t"
                     "bne 2b\n"
                     "3:\n\t"
                     "tst r11, #1\n\t"
                     "beq 4f\n\t" DW3_WIDEN_QUAD "4:\n\t"
                     "sub r0, r0, r12\n\t"
                     "mov r1, r2\n\t"
                     "add r2, r2, lr\n\t"
                     "subs r10, r10, #1\n\t"
                     "bne 1b\n\t"
                     "pop {r0-r12, lr}"
                     :
                     : [r] "r"(r)
                     : "memory", "cc");
}

#endif

/* Where a row goes in the ring: the column pairs [k0, k1) that hold an image pixel (the others
 * stay 0, dw3_clear_padding), and the stride between channels. */
typedef struct {
    int32_t k0, k1;
    size_t cstep; /* words */
} dw3_span_t;

/* Copy padded row `row` (NULL: a padding row) into ring slot s; zrow: C zero-point bytes, what
 * the padding pixels read. */
static void dw3_load_row(uint32_t *ring, const int8_t *row, const int8_t *zrow, const evo_depthwise_conv2d_s8_params_t *p,
                         const dw3_span_t *sp, int32_t s, uint32_t off2)
{
    const int32_t ch = p->out.c, w = p->in.w;
    int32_t k = sp->k0, x0 = 2 * sp->k0 - p->pad_w; /* >= -1: pair k0 holds an image pixel */
    uint32_t *dst = ring + (size_t)k * 3 + s;
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
    if (ch % 4 == 0) { /* all in assembly: the pairs with both pixels in the image in one run */
        dw3_run_t r;
        r.s1 = (uint32_t)sp->cstep * 4;
        r.s3 = 3 * r.s1;
        r.off2 = off2;
        r.quads = ch / 4;
        r.back = (uint32_t)ch * r.s1 - 12; /* quads * 4 strides, less one pair */
        r.ch = ch;
        r.gap3 = r.gap7 = r.gap8 = r.gap9 = 0;
        while (k < sp->k1) {
            const int inside = row != NULL && x0 >= 0 && x0 + 1 < w;
            int32_t n = inside ? (w - x0) / 2 : 1; /* pairs with x0 + 1 < w, or one border pair */
            n = n < sp->k1 - k ? n : sp->k1 - k;
            r.dst = dst;
            r.a = (row != NULL && x0 >= 0) ? row + (size_t)x0 * ch : zrow;
            r.b = (row != NULL && x0 + 1 < w) ? row + (size_t)(x0 + 1) * ch : zrow;
            r.npairs = n;
            dw3_widen_run(&r);
            k += n;
            x0 += 2 * n;
            dst += 3 * n;
        }
        return;
    }
#endif
    for (; k < sp->k1; ++k, x0 += 2, dst += 3) {
        const int8_t *a = (row != NULL && x0 >= 0) ? row + (size_t)x0 * ch : zrow;
        const int8_t *b = (row != NULL && x0 + 1 < w) ? row + (size_t)(x0 + 1) * ch : zrow;
        dw3_widen_pair(dst, a, b, ch, sp->cstep, off2);
    }
}

/* Zero the column pairs wholly outside the image, which no row load writes (cheaper than clearing
 * the whole ring). */
static void dw3_clear_padding(uint32_t *ring, const evo_depthwise_conv2d_s8_params_t *p, int32_t np)
{
    int32_t c, k;
    for (k = 0; k < np; ++k) {
        const int32_t x0 = 2 * k - p->pad_w;
        if (x0 + 1 < 0 || x0 >= p->in.w) {
            uint32_t *dst = ring + (size_t)k * 3;
            for (c = 0; c < p->out.c; ++c, dst += (size_t)np * 3) {
                dst[0] = 0;
                dst[1] = 0;
                dst[2] = 0;
            }
        }
    }
}

/* Per output row, what the row routine reads. On the DSP path this is also the layout of its stack
 * frame (the assembly copies it there and addresses the fields by offset): the five channel
 * fields first, so one LDM/STM pair steps them to the next channel. */
typedef struct {
    int8_t *out;          /* 0: this channel's first output */
    const int32_t *pack;  /* 4: this channel's pack */
    const int32_t *wrow;  /* 8: this channel's weights for the row's rotation */
    int32_t left;         /* 12: channels left, this one included */
    int32_t consts[5];    /* 16: the channel's 2 * bias (twice), M, T, e (filled by the assembly) */
    int32_t lo, hi;       /* 36, 40: activation clamp (mode 1) */
    int32_t n2;           /* 44: output pairs */
    int32_t cs;           /* 48: output bytes per pixel (C) */
    const uint32_t *ring; /* 52: channel 0's ring words (channels follow each other) */
    int32_t odd;          /* 56: one output after the pairs */
    int32_t rstride;      /* 60: ring bytes per channel */
} dw3_row_t;

/* The same arithmetic in C (cores without DSP, the host, and rows one output wide): output x of
 * channel c reads pair k = x * sw / 2 (A) and k + 1 (B). */
static void dw3_row_c(const dw3_row_t *a, int32_t sw, int mode)
{
    const int32_t ow = 2 * a->n2 + a->odd, np3 = a->rstride / 4;
    int32_t c, x, s;
    for (c = 0; c < a->left; ++c) {
        const int32_t *pk = a->pack + (size_t)c * DW3_PACK;
        const uint32_t *w = (const uint32_t *)a->wrow + (size_t)c * DW3_PACK;
        const uint32_t *rc = a->ring + (size_t)c * np3;
        for (x = 0; x < ow; ++x) {
            const int32_t k = x * sw / 2;
            uint32_t A[3], B[3];
            for (s = 0; s < 3; ++s) {
                A[s] = rc[3 * k + s];
                B[s] = rc[3 * k + 3 + s];
            }
            a->out[(size_t)x * a->cs + c] = evo_dw3_planar_out(A, B, w, (x * sw) & 1, pk[0], pk[2], pk[3], pk[4], mode, a->lo, a->hi);
        }
    }
}

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)

typedef char dw3_frame_is_64_bytes[sizeof(dw3_row_t) == 64 ? 1 : -1]; /* the assembly's offsets */

/* Registers in the loops: r0 ring, r1 out, r2 pair count, r3 C, r4-r9 weights (slot s: r4+2s =
 * (w0, w1), r5+2s = (w1, w2)), r10/r11 accumulators, r12/lr loaded words; the frame at sp. A
 * channel's ring is (n2 + 1 + odd) column pairs (dw3_pairs), so after its pairs the next one starts
 * 12 (even width) or 24 (odd) bytes on at either stride. */
#define DW3_HEAD                                                                                               \
    "push {r0-r12, lr}\n\t"                                                                                    \
    "mov lr, %[a]\n\t"                                                                                         \
    "sub sp, sp, #64\n\t"                                                                                      \
    "ldm lr!, {r0-r7}\n\t"                                                                                     \
    "stm sp, {r0-r7}\n\t"                                                                                      \
    "ldm lr, {r0-r7}\n\t"                                                                                      \
    "add r12, sp, #32\n\t"                                                                                     \
    "stm r12, {r0-r7}\n\t"                                                                                     \
    "ldr r0, [sp, #52]\n"                                                                                      \
    "1:\n\t"                                                                                                   \
    "ldm sp, {r1-r4}\n\t"                                                                                      \
    "add r5, r1, #1\n\t"                                                                                       \
    "add r6, r2, #60\n\t"                                                                                      \
    "add r7, r3, #60\n\t"                                                                                      \
    "sub r8, r4, #1\n\t"                                                                                       \
    "stm sp, {r5-r8}\n\t"                                                                                      \
    "ldm r2, {r4-r8}\n\t"                                                                                      \
    "add r12, sp, #16\n\t"                                                                                     \
    "stm r12, {r4-r8}\n\t"                                                                                     \
    "ldm r3, {r4-r9}\n\t"                                                                                      \
    "ldrd r2, r3, [sp, #44]\n\t"

/* Requantise r10 and r11 (SMMLAR form, evo/depthwise_fast.h) and store them C bytes apart. */
#define DW3_REQUANT2(CLAMP)                                                                                    \
    "ldrd r12, lr, [sp, #24]\n\t"                                                                              \
    "add lr, lr, r10, asr #31\n\t"                                                                             \
    "smmlar r10, r10, r12, lr\n\t"                                                                             \
    "ldr lr, [sp, #28]\n\t"                                                                                    \
    "add lr, lr, r11, asr #31\n\t"                                                                             \
    "smmlar r11, r11, r12, lr\n\t"                                                                             \
    "ldr r12, [sp, #32]\n\t"                                                                                   \
    "asr r10, r10, r12\n\t"                                                                                    \
    "asr r11, r11, r12\n\t"                                                                                    \
    "ssat r10, #8, r10\n\t"                                                                                    \
    "ssat r11, #8, r11\n\t" CLAMP "strb r10, [r1]\n\t"                                                         \
    "strb r11, [r1, r3]\n\t"                                                                                   \
    "add r1, r1, r3, lsl #1\n\t"                                                                               \
    "subs r2, r2, #1\n\t"                                                                                      \
    "bne 2b\n"                                                                                                 \
    "3:\n\t"

#define DW3_CLAMP_R(R)                                                                                         \
    "cmp " R ", r12\n\t"                                                                                       \
    "it lt\n\t"                                                                                                \
    "movlt " R ", r12\n\t"                                                                                     \
    "cmp " R ", lr\n\t"                                                                                        \
    "it gt\n\t"                                                                                                \
    "movgt " R ", lr\n\t"
#define DW3_CLAMP2 "ldrd r12, lr, [sp, #36]\n\t" DW3_CLAMP_R("r10") DW3_CLAMP_R("r11")
#define DW3_CLAMP1 "ldrd r12, lr, [sp, #36]\n\t" DW3_CLAMP_R("r10")

/* The last output alone (r0 at its column pair A, B = the next pair). */
#define DW3_TAIL(CLAMP)                                                                                        \
    "ldr r10, [sp, #16]\n\t"                                                                                   \
    "ldrd r12, lr, [r0]\n\t"                                                                                   \
    "smlad r10, r12, r4, r10\n\t"                                                                              \
    "smlad r10, lr, r6, r10\n\t"                                                                               \
    "ldrd r12, lr, [r0, #8]\n\t"                                                                               \
    "smlad r10, r12, r8, r10\n\t"                                                                              \
    "smlabt r10, lr, r5, r10\n\t"                                                                              \
    "ldrd r12, lr, [r0, #16]\n\t"                                                                              \
    "smlabt r10, r12, r7, r10\n\t"                                                                             \
    "smlabt r10, lr, r9, r10\n\t"                                                                              \
    "ldrd r12, lr, [sp, #24]\n\t"                                                                              \
    "add lr, lr, r10, asr #31\n\t"                                                                             \
    "smmlar r10, r10, r12, lr\n\t"                                                                             \
    "ldr r12, [sp, #32]\n\t"                                                                                   \
    "asr r10, r10, r12\n\t"                                                                                    \
    "ssat r10, #8, r10\n\t" CLAMP "strb r10, [r1]\n\t"

/* The next channel (its ring follows this one's: K bytes on from where the pairs stopped), or the
 * end of the row. */
#define DW3_END(K)                                                                                             \
    "add r0, r0, #" K "\n\t"                                                                                   \
    "ldr r2, [sp, #12]\n\t"                                                                                    \
    "cmp r2, #0\n\t"                                                                                           \
    "bne 1b\n\t"                                                                                               \
    "add sp, sp, #64\n\t"                                                                                      \
    "pop {r0-r12, lr}"

/* Stride 1: outputs 2i, 2i + 1 from pairs i (A) and i + 1 (B). */
#define DW3_PAIR_S1                                                                                            \
    "2:\n\t"                                                                                                   \
    "ldrd r10, r11, [sp, #16]\n\t"                                                                             \
    "ldrd r12, lr, [r0], #12\n\t"                                                                              \
    "smlad r10, r12, r4, r10\n\t"                                                                              \
    "smlatb r11, r12, r4, r11\n\t"                                                                             \
    "smlad r10, lr, r6, r10\n\t"                                                                               \
    "smlatb r11, lr, r6, r11\n\t"                                                                              \
    "ldrd r12, lr, [r0, #-4]\n\t"                                                                              \
    "smlad r10, r12, r8, r10\n\t"                                                                              \
    "smlatb r11, r12, r8, r11\n\t"                                                                             \
    "smlabt r10, lr, r5, r10\n\t"                                                                              \
    "smlad r11, lr, r5, r11\n\t"                                                                               \
    "ldrd r12, lr, [r0, #4]\n\t"                                                                               \
    "smlabt r10, r12, r7, r10\n\t"                                                                             \
    "smlad r11, r12, r7, r11\n\t"                                                                              \
    "smlabt r10, lr, r9, r10\n\t"                                                                              \
    "smlad r11, lr, r9, r11\n\t"

/* Stride 2: outputs 2i, 2i + 1 from pairs 2i (A), 2i + 1 (B), 2i + 2 (C). */
#define DW3_PAIR_S2                                                                                            \
    "2:\n\t"                                                                                                   \
    "ldrd r10, r11, [sp, #16]\n\t"                                                                             \
    "ldrd r12, lr, [r0], #24\n\t"                                                                              \
    "smlad r10, r12, r4, r10\n\t"                                                                              \
    "smlad r10, lr, r6, r10\n\t"                                                                               \
    "ldrd r12, lr, [r0, #-16]\n\t"                                                                             \
    "smlad r10, r12, r8, r10\n\t"                                                                              \
    "smlabt r10, lr, r5, r10\n\t"                                                                              \
    "smlad r11, lr, r4, r11\n\t"                                                                               \
    "ldrd r12, lr, [r0, #-8]\n\t"                                                                              \
    "smlabt r10, r12, r7, r10\n\t"                                                                             \
    "smlad r11, r12, r6, r11\n\t"                                                                              \
    "smlabt r10, lr, r9, r10\n\t"                                                                              \
    "smlad r11, lr, r8, r11\n\t"                                                                               \
    "ldrd r12, lr, [r0]\n\t"                                                                                   \
    "smlabt r11, r12, r5, r11\n\t"                                                                             \
    "smlabt r11, lr, r7, r11\n\t"                                                                              \
    "ldr r12, [r0, #8]\n\t"                                                                                    \
    "smlabt r11, r12, r9, r11\n\t"

/* One routine per stride, clamp and width parity (constants inside, no per-channel tests). */
#define DW3_ROW_FN(NAME, PAIR, CLAMP2, CLAMP1)                                                                 \
    static void NAME##_even(const dw3_row_t *a)                                                                \
    {                                                                                                          \
        __asm__ volatile(DW3_HEAD PAIR DW3_REQUANT2(CLAMP2) DW3_END("12") : : [a] "r"(a) : "memory", "cc");         \
    }                                                                                                          \
    static void NAME##_odd(const dw3_row_t *a)                                                                 \
    {                                                                                                          \
        __asm__ volatile(DW3_HEAD PAIR DW3_REQUANT2(CLAMP2) DW3_TAIL(CLAMP1) DW3_END("24")                \
                         :                                                                                     \
                         : [a] "r"(a)                                                                          \
                         : "memory", "cc");                                                                    \
    }

DW3_ROW_FN(dw3_row_s1, DW3_PAIR_S1, "", "")
DW3_ROW_FN(dw3_row_s1_clamp, DW3_PAIR_S1, DW3_CLAMP2, DW3_CLAMP1)
DW3_ROW_FN(dw3_row_s2, DW3_PAIR_S2, "", "")
DW3_ROW_FN(dw3_row_s2_clamp, DW3_PAIR_S2, DW3_CLAMP2, DW3_CLAMP1)

static void dw3_row(const dw3_row_t *a, int32_t sw, int mode)
{
    static void (*const fn[2][2][2])(const dw3_row_t *) = {
        {{dw3_row_s1_even, dw3_row_s1_odd}, {dw3_row_s1_clamp_even, dw3_row_s1_clamp_odd}},
        {{dw3_row_s2_even, dw3_row_s2_odd}, {dw3_row_s2_clamp_even, dw3_row_s2_clamp_odd}},
    };
    if (a->n2 == 0) { /* one output per row: the routines above assume a pair */
        dw3_row_c(a, sw, mode);
        return;
    }
    fn[sw == 2][mode == EVO_DWP_MODE_FAST_CLAMP][a->odd](a);
}

#else

static void dw3_row(const dw3_row_t *a, int32_t sw, int mode)
{
    dw3_row_c(a, sw, mode);
}

#endif

evo_status_t evo_depthwise_conv2d_s8_planar(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                            const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch)
{
    const int32_t ch = p->out.c, ih = p->in.h, np = dw3_pairs(p), mode = qpack[0];
    const uint32_t off2 = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    uint32_t *const ring = (uint32_t *)scratch;
    const int8_t *zrow;
    dw3_span_t sp;
    dw3_row_t a;
    int32_t b, oy;

    if (p->in.n != p->out.n || p->in.c != ch || p->depth_multiplier != 1 || p->kh != 3 || p->kw != 3 ||
        p->dil_h != 1 || p->dil_w != 1 || p->stride_h < 1 || (p->stride_w != 1 && p->stride_w != 2) ||
        p->pad_h < 0 || p->pad_w < 0 || ch < 1 || p->out.w < 1 || scratch == NULL ||
        (mode != EVO_DWP_MODE_FAST && mode != EVO_DWP_MODE_FAST_CLAMP)) {
        return EVO_ERR_ARG;
    }
    zrow = (const int8_t *)(wpack + (size_t)DW3_PACK * ch); /* the pack ends with one pixel of zero points */
    dw3_clear_padding(ring, p, np);
    a.rstride = np * 3 * 4;
    a.n2 = p->out.w / 2;
    a.odd = p->out.w % 2;
    a.cs = ch;
    a.lo = p->act_min;
    a.hi = p->act_max;
    sp.k0 = p->pad_w / 2;
    sp.k1 = (p->in.w - 1 + p->pad_w) / 2 + 1;
    sp.k1 = sp.k1 < np ? sp.k1 : np;
    sp.cstep = (size_t)np * 3;
    a.out = output;
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * ih * p->in.w * ch;
        int32_t next = 0, pr0 = 0; /* first padded row not yet in the ring; the output row's first */
        for (oy = 0; oy < p->out.h; ++oy, pr0 += p->stride_h) {
            const int32_t rot = pr0 % 3;
            int32_t pr = next > pr0 ? next : pr0;
            for (; pr < pr0 + 3; ++pr) {
                const int32_t iy = pr - p->pad_h;
                const int8_t *row = (iy >= 0 && iy < ih) ? in_b + (size_t)iy * p->in.w * ch : NULL;
                dw3_load_row(ring, row, zrow, p, &sp, pr % 3, off2);
            }
            next = pr0 + 3;
            a.ring = ring;
            a.pack = wpack;
            a.left = ch;
            a.wrow = wpack + 5 + 2 * (rot == 0 ? 0 : 3 - rot);
            dw3_row(&a, p->stride_w, mode);
            a.out += (size_t)p->out.w * ch;
        }
    }
    return EVO_OK;
}
