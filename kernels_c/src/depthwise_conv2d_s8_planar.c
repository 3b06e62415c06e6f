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
 * adjacent, so one post-indexed LDRD pair walks them; which kernel row sits in which slot rotates
 * with the output row, so each channel's pack stores its rows twice over (r0 r1 r2 r0 r1) and the
 * row's weights are the six words starting at the rotation.
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

/* Copy padded row `row` (NULL: a padding row) into ring slot s. Every word of the slot is written. */
static void dw3_load_row(uint32_t *ring, const int8_t *row, const evo_depthwise_conv2d_s8_params_t *p, int32_t np,
                         int32_t s, uint32_t off2, uint32_t zp4)
{
    const int32_t ch = p->out.c, w = p->in.w, off = p->input_offset;
    const size_t cstep = (size_t)np * 3;
    int32_t k, c;
    for (k = 0; k < np; ++k) {
        const int32_t x0 = 2 * k - p->pad_w, x1 = x0 + 1;
        const int in0 = row != NULL && x0 >= 0 && x0 < w, in1 = row != NULL && x1 >= 0 && x1 < w;
        const int8_t *a = in0 ? row + (size_t)x0 * ch : NULL, *b = in1 ? row + (size_t)x1 * ch : NULL;
        uint32_t *dst = ring + (size_t)k * 3 + s;
        c = 0;
        if (in0 || in1) {
            for (; c + 4 <= ch; c += 4) { /* four channels of both columns: two PKH, four SXTAB16 */
                const uint32_t va = in0 ? evo_s32_ld(a + c) : zp4, vb = in1 ? evo_s32_ld(b + c) : zp4;
                const uint32_t lo = evo_s32_pkhbt(va, vb), hi = evo_s32_pkhtb(va, vb);
                dst[0] = evo_s32_sxtab16(off2, lo);
                dst[cstep] = evo_s32_sxtab16_r8(off2, lo);
                dst[2 * cstep] = evo_s32_sxtab16(off2, hi);
                dst[3 * cstep] = evo_s32_sxtab16_r8(off2, hi);
                dst += 4 * cstep;
            }
        }
        for (; c < ch; ++c) {
            const int32_t va = in0 ? a[c] + off : 0, vb = in1 ? b[c] + off : 0;
            *dst = ((uint32_t)va & 0xFFFFu) | ((uint32_t)vb << 16);
            dst += cstep;
        }
    }
}

/* Per output row, what the row routine reads (the assembly addresses these fields by offset). */
typedef struct {
    const uint32_t *ring; /* 0: this channel's ring words */
    int8_t *out;          /* 4: this channel's first output */
    const int32_t *pack;  /* 8: this channel's pack */
    int32_t left;         /* 12: channels left, this one included */
    int32_t rstride;      /* 16: ring bytes per channel */
    int32_t woff;         /* 20: bytes from a pack to the row's rotated weights */
    int32_t n2;           /* 24: output pairs */
    int32_t cs;           /* 28: output bytes per pixel (C) */
    int32_t odd;          /* 32: one output after the pairs */
    int32_t lo, hi;       /* 36, 40: activation clamp (mode 1) */
} dw3_row_t;

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)

/* Registers in the loops: r0 ring, r1 out, r2 pair count, r3 C, r4-r9 weights (slot s: r4+2s =
 * (w0, w1), r5+2s = (w1, w2)), r10/r11 accumulators, r12/lr loaded words. Stack frame: [sp] 2 * bias
 * twice, [sp, #8] M, T, e, [sp, #20] lo, hi, [sp, #28] the dw3_row_t. */
#define DW3_HEAD                                                                                               \
    "push {r0-r12, lr}\n\t"                                                                                    \
    "mov lr, %[a]\n\t"                                                                                         \
    "sub sp, sp, #32\n\t"                                                                                      \
    "str lr, [sp, #28]\n\t"                                                                                    \
    "ldr r4, [lr, #36]\n\t"                                                                                    \
    "ldr r5, [lr, #40]\n\t"                                                                                    \
    "strd r4, r5, [sp, #20]\n"                                                                                 \
    "1:\n\t"                                                                                                   \
    "ldr lr, [sp, #28]\n\t"                                                                                    \
    "ldm lr, {r0-r3}\n\t"                                                                                      \
    "ldr r4, [lr, #16]\n\t"                                                                                    \
    "add r6, r0, r4\n\t"                                                                                       \
    "add r7, r1, #1\n\t"                                                                                       \
    "add r8, r2, #60\n\t"                                                                                      \
    "sub r9, r3, #1\n\t"                                                                                       \
    "stm lr, {r6-r9}\n\t"                                                                                      \
    "ldm r2, {r4-r8}\n\t"                                                                                      \
    "stm sp, {r4-r8}\n\t"                                                                                      \
    "ldr r3, [lr, #20]\n\t"                                                                                    \
    "add r2, r2, r3\n\t"                                                                                       \
    "ldm r2, {r4-r9}\n\t"                                                                                      \
    "ldrd r2, r3, [lr, #24]\n\t"                                                                               \
    "cmp r2, #0\n\t"                                                                                           \
    "beq 3f\n"                                                                                                 \
    "2:\n\t"

/* Requantise r10 and r11 (SMMLAR form, evo/depthwise_fast.h) and store them C bytes apart. */
#define DW3_REQUANT2(CLAMP)                                                                                    \
    "ldrd r12, lr, [sp, #8]\n\t"                                                                               \
    "add lr, lr, r10, asr #31\n\t"                                                                             \
    "smmlar r10, r10, r12, lr\n\t"                                                                             \
    "ldr lr, [sp, #12]\n\t"                                                                                    \
    "add lr, lr, r11, asr #31\n\t"                                                                             \
    "smmlar r11, r11, r12, lr\n\t"                                                                             \
    "ldr r12, [sp, #16]\n\t"                                                                                   \
    "asr r10, r10, r12\n\t"                                                                                    \
    "asr r11, r11, r12\n\t"                                                                                    \
    "ssat r10, #8, r10\n\t"                                                                                    \
    "ssat r11, #8, r11\n\t" CLAMP "strb r10, [r1]\n\t"                                                         \
    "strb r11, [r1, r3]\n\t"                                                                                   \
    "add r1, r1, r3, lsl #1\n\t"                                                                               \
    "subs r2, r2, #1\n\t"                                                                                      \
    "bne 2b\n"                                                                                                 \
    "3:\n\t"                                                                                                   \
    "ldr lr, [sp, #28]\n\t"                                                                                    \
    "ldr r2, [lr, #32]\n\t"                                                                                    \
    "cmp r2, #0\n\t"                                                                                           \
    "beq 4f\n\t"

#define DW3_CLAMP2                                                                                             \
    "ldrd r12, lr, [sp, #20]\n\t"                                                                              \
    "cmp r10, r12\n\t"                                                                                         \
    "it lt\n\t"                                                                                                \
    "movlt r10, r12\n\t"                                                                                       \
    "cmp r10, lr\n\t"                                                                                          \
    "it gt\n\t"                                                                                                \
    "movgt r10, lr\n\t"                                                                                        \
    "cmp r11, r12\n\t"                                                                                         \
    "it lt\n\t"                                                                                                \
    "movlt r11, r12\n\t"                                                                                       \
    "cmp r11, lr\n\t"                                                                                          \
    "it gt\n\t"                                                                                                \
    "movgt r11, lr\n\t"

#define DW3_CLAMP1                                                                                             \
    "ldrd r12, lr, [sp, #20]\n\t"                                                                              \
    "cmp r10, r12\n\t"                                                                                         \
    "it lt\n\t"                                                                                                \
    "movlt r10, r12\n\t"                                                                                       \
    "cmp r10, lr\n\t"                                                                                          \
    "it gt\n\t"                                                                                                \
    "movgt r10, lr\n\t"

/* The last output alone (r0 at its column pair A, B = the next pair), then the next channel. */
#define DW3_TAIL(CLAMP)                                                                                        \
    "ldr r10, [sp]\n\t"                                                                                        \
    "ldrd r12, lr, [r0]\n\t"                                                                                   \
    "smlad r10, r12, r4, r10\n\t"                                                                              \
    "smlad r10, lr, r6, r10\n\t"                                                                               \
    "ldrd r12, lr, [r0, #8]\n\t"                                                                               \
    "smlad r10, r12, r8, r10\n\t"                                                                              \
    "smlabt r10, lr, r5, r10\n\t"                                                                              \
    "ldrd r12, lr, [r0, #16]\n\t"                                                                              \
    "smlabt r10, r12, r7, r10\n\t"                                                                             \
    "smlabt r10, lr, r9, r10\n\t"                                                                              \
    "ldrd r12, lr, [sp, #8]\n\t"                                                                               \
    "add lr, lr, r10, asr #31\n\t"                                                                             \
    "smmlar r10, r10, r12, lr\n\t"                                                                             \
    "ldr r12, [sp, #16]\n\t"                                                                                   \
    "asr r10, r10, r12\n\t"                                                                                    \
    "ssat r10, #8, r10\n\t" CLAMP "strb r10, [r1]\n"                                                           \
    "4:\n\t"                                                                                                   \
    "ldr lr, [sp, #28]\n\t"                                                                                    \
    "ldr r2, [lr, #12]\n\t"                                                                                    \
    "cmp r2, #0\n\t"                                                                                           \
    "bne 1b\n\t"                                                                                               \
    "add sp, sp, #32\n\t"                                                                                      \
    "pop {r0-r12, lr}"

/* Stride 1: outputs 2i, 2i + 1 from pairs i (A) and i + 1 (B). */
#define DW3_PAIR_S1                                                                                            \
    "ldrd r10, r11, [sp]\n\t"                                                                                  \
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
    "ldrd r10, r11, [sp]\n\t"                                                                                  \
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

#define DW3_ROW_FN(NAME, PAIR, CLAMP2, CLAMP1)                                                                 \
    static void NAME(const dw3_row_t *a)                                                                       \
    {                                                                                                          \
        __asm__ volatile(DW3_HEAD PAIR DW3_REQUANT2(CLAMP2) DW3_TAIL(CLAMP1) : : [a] "r"(a) : "memory", "cc"); \
    }

DW3_ROW_FN(dw3_row_s1, DW3_PAIR_S1, "", "")
DW3_ROW_FN(dw3_row_s1_clamp, DW3_PAIR_S1, DW3_CLAMP2, DW3_CLAMP1)
DW3_ROW_FN(dw3_row_s2, DW3_PAIR_S2, "", "")
DW3_ROW_FN(dw3_row_s2_clamp, DW3_PAIR_S2, DW3_CLAMP2, DW3_CLAMP1)

static void dw3_row(const dw3_row_t *a, int32_t sw, int mode)
{
    if (sw == 1) {
        (mode == EVO_DWP_MODE_FAST ? dw3_row_s1 : dw3_row_s1_clamp)(a);
    } else {
        (mode == EVO_DWP_MODE_FAST ? dw3_row_s2 : dw3_row_s2_clamp)(a);
    }
}

#else

/* The same arithmetic in C: output x of channel c reads pair k = x * sw / 2 (A) and k + 1 (B). */
static void dw3_row(const dw3_row_t *a, int32_t sw, int mode)
{
    const int32_t ow = 2 * a->n2 + a->odd, np3 = a->rstride / 4;
    int32_t c, x, s;
    for (c = 0; c < a->left; ++c) {
        const int32_t *pk = a->pack + (size_t)c * DW3_PACK;
        const uint32_t *w = (const uint32_t *)pk + a->woff / 4;
        const uint32_t *rc = a->ring + (size_t)c * np3;
        for (x = 0; x < ow; ++x) {
            const int32_t k = x * sw / 2, odd = (x * sw) & 1;
            int32_t acc = pk[0], r;
            for (s = 0; s < 3; ++s) {
                const uint32_t A = rc[3 * k + s], B = rc[3 * k + 3 + s], w01 = w[2 * s], w12 = w[2 * s + 1];
                if (!odd) {
                    acc += evo_s32_lane(A, 0) * evo_s32_lane(w01, 0) + evo_s32_lane(A, 1) * evo_s32_lane(w01, 1) +
                           evo_s32_lane(B, 0) * evo_s32_lane(w12, 1);
                } else {
                    acc += evo_s32_lane(A, 1) * evo_s32_lane(w01, 0) + evo_s32_lane(B, 0) * evo_s32_lane(w12, 0) +
                           evo_s32_lane(B, 1) * evo_s32_lane(w12, 1);
                }
            }
            r = evo_s32_ssat8(evo_s32_smmlar(acc, pk[2], pk[3] + (acc >> 31)) >> pk[4]);
            if (mode == EVO_DWP_MODE_FAST_CLAMP) {
                r = r < a->lo ? a->lo : (r > a->hi ? a->hi : r);
            }
            a->out[(size_t)x * a->cs + c] = (int8_t)r;
        }
    }
}

#endif

evo_status_t evo_depthwise_conv2d_s8_planar(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                            const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch)
{
    const int32_t ch = p->out.c, ih = p->in.h, np = dw3_pairs(p), mode = qpack[0];
    const uint32_t off2 = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    const uint32_t zp4 = (uint32_t)(uint8_t)(int8_t)(-p->input_offset) * 0x01010101u;
    uint32_t *const ring = (uint32_t *)scratch;
    dw3_row_t a;
    int32_t b, oy;

    if (p->in.n != p->out.n || p->in.c != ch || p->depth_multiplier != 1 || p->kh != 3 || p->kw != 3 ||
        p->dil_h != 1 || p->dil_w != 1 || p->stride_h < 1 || (p->stride_w != 1 && p->stride_w != 2) ||
        p->pad_h < 0 || p->pad_w < 0 || ch < 1 || p->out.w < 1 || scratch == NULL ||
        (mode != EVO_DWP_MODE_FAST && mode != EVO_DWP_MODE_FAST_CLAMP)) {
        return EVO_ERR_ARG;
    }
    a.rstride = np * 3 * 4;
    a.n2 = p->out.w / 2;
    a.odd = p->out.w % 2;
    a.cs = ch;
    a.lo = p->act_min;
    a.hi = p->act_max;
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * ih * p->in.w * ch;
        int32_t next = 0; /* first padded row not yet in the ring */
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t pr0 = oy * p->stride_h;
            int32_t pr = next > pr0 ? next : pr0;
            for (; pr < pr0 + 3; ++pr) {
                const int32_t iy = pr - p->pad_h;
                dw3_load_row(ring, (iy >= 0 && iy < ih) ? in_b + (size_t)iy * p->in.w * ch : NULL, p, np, pr % 3, off2,
                             zp4);
            }
            next = pr0 + 3;
            a.ring = ring;
            a.out = output + ((size_t)b * p->out.h + oy) * p->out.w * ch;
            a.pack = wpack;
            a.left = ch;
            a.woff = (5 + 2 * ((3 - pr0 % 3) % 3)) * 4;
            dw3_row(&a, p->stride_w, mode);
        }
    }
    return EVO_OK;
}
