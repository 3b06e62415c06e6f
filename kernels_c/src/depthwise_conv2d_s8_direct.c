/* DEPTHWISE_CONV_2D, int8, depth multiplier 1: the scratch-free tap-pair kernel
 * (evo/depthwise_fast.h), the memory-first build's DSP depthwise.
 *
 * Why no ring: the pairs and planar kernels widen each input row once into an int16 ring in the
 * arena, which can set the arena. This kernel reads the int8 NHWC input in place. A word of one
 * pixel holds four channels; for two taps A, B of the same output pixel, PKHBT / PKHTB on the
 * raw bytes give (a0 a1 b0 b1) and (a2 a3 b2 b3), and SXTAB16 (plain and ROR 8, adding the input
 * offset to both lanes) turns them into the four per-channel pairs (a_c, b_c) that SMLAD
 * multiplies with the packed weight pairs (w_A[c], w_B[c]). So two taps of four channels cost two
 * loads, two PKH, four SXTAB16 and four SMLAD; an odd last tap pairs with itself against a zero
 * weight. The input offset is folded into the accumulator starts (so the raw bytes are widened).
 *
 * Padding: a border pixel first lists its taps' input pointers; a tap outside the image points at
 * the pack's pixel of zero points (-input_offset), which widens to 0, so borders run the same loop.
 * The pixels whose taps all lie in the image share one list (the taps of pixel 0) plus their byte
 * offset, so they list nothing, and a run of them is one assembly call. Loop order: output row,
 * output pixel, quad of channels, tap pair; channels past the last whole quad go through a plain
 * per-channel loop. The row-streaming entry (in place) runs the same rows from a ring of input rows. */
#include "evo/depthwise_fast.h"
#include "evo/fixedpoint.h"
#include "evo/simd32.h"

/* Requantise channel c's doubled accumulator a2 (q: the quad's 16 constants; lo, hi: the clamp,
 * held in registers since the byte stores could alias p). */
static EVO_ALWAYS_INLINE int8_t dwd_requant(int32_t a2, const int32_t *q, int32_t c, int mode, int32_t lo, int32_t hi,
                                            const evo_depthwise_conv2d_s8_params_t *p)
{
    const int32_t m = q[4 + 3 * c], t = q[5 + 3 * c], e = q[6 + 3 * c];
    int32_t r;
    if (mode == EVO_DWP_MODE_EXACT) {
        r = evo_requantize(a2 / 2, m, e) + p->output_offset;
        return (int8_t)EVO_CLAMP(r, lo, hi);
    }
    r = evo_s32_ssat8(evo_s32_smmlar(a2, m, t + (a2 >> 31)) >> e);
    if (mode == EVO_DWP_MODE_FAST_CLAMP) {
        r = EVO_CLAMP(r, lo, hi);
    }
    return (int8_t)r;
}

#if defined(__ARM_FEATURE_DSP)
/* One tap pair of four channels: tap pointers from *tp, weight pairs from *w (both advanced). GCC
 * keeps neither the four accumulators nor the pointers in registers around the C form. */
#define DWD_PAIR                                                                                               \
    "ldrd %[xa], %[xb], [%[tp]], #8\n\t"                                                                      \
    "ldr %[xa], [%[xa], %[c]]\n\t"                                                                             \
    "ldr %[xb], [%[xb], %[c]]\n\t"                                                                             \
    "pkhbt %[t1], %[xa], %[xb], lsl #16\n\t"                                                                   \
    "pkhtb %[xb], %[xb], %[xa], asr #16\n\t"                                                                   \
    "ldrd %[xa], %[t2], [%[w]], #8\n\t"                                                                        \
    "sxtb16 %[t3], %[t1]\n\t"                                                                                  \
    "smlad %[a0], %[t3], %[xa], %[a0]\n\t"                                                                     \
    "sxtb16 %[t3], %[t1], ror #8\n\t"                                                                          \
    "smlad %[a1], %[t3], %[t2], %[a1]\n\t"                                                                     \
    "ldrd %[xa], %[t2], [%[w]], #8\n\t"                                                                        \
    "sxtb16 %[t3], %[xb]\n\t"                                                                                  \
    "smlad %[a2], %[t3], %[xa], %[a2]\n\t"                                                                     \
    "sxtb16 %[t3], %[xb], ror #8\n\t"                                                                          \
    "smlad %[a3], %[t3], %[t2], %[a3]\n\t"
#define DWD_OPERANDS                                                                                           \
    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [tp] "+r"(tp), [w] "+r"(w), [xa] "=&r"(xa),   \
      [xb] "=&r"(xb), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3)                                           \
    : [c] "r"(c)                                                                                               \
    : "memory"
#endif

/* Four channels [c, c + 4) of one output pixel. NP: tap pairs (a constant where inlined). The
 * accumulator starts hold the input offset's share (evo/depthwise_fast.h), so the raw bytes are
 * widened: a padded tap reads zero points, -input_offset, which cancels its share. */
static EVO_ALWAYS_INLINE void dwd_quad(const int8_t *const *tp, int32_t np, size_t c, const uint32_t *w, const int32_t *q,
                                       int mode, int32_t lo, int32_t hi, const evo_depthwise_conv2d_s8_params_t *p, int8_t *out)
{
    int32_t a0 = q[0], a1 = q[1], a2 = q[2], a3 = q[3], j;
#if defined(__ARM_FEATURE_DSP)
    uint32_t xa, xb, t1, t2, t3;
    if (np == 5) {
        __asm__ volatile(DWD_PAIR DWD_PAIR DWD_PAIR DWD_PAIR DWD_PAIR DWD_OPERANDS);
    } else {
        for (j = 0; j < np; ++j) {
            __asm__ volatile(DWD_PAIR DWD_OPERANDS);
        }
    }
#else
    for (j = 0; j < np; ++j) {
        const uint32_t xa = evo_s32_ld(tp[2 * j] + c), xb = evo_s32_ld(tp[2 * j + 1] + c);
        const uint32_t lo = evo_s32_pkhbt(xa, xb), hi = evo_s32_pkhtb(xa, xb);
        a0 = evo_s32_smlad(evo_s32_sxtab16(0, lo), w[0], a0);
        a1 = evo_s32_smlad(evo_s32_sxtab16_r8(0, lo), w[1], a1);
        a2 = evo_s32_smlad(evo_s32_sxtab16(0, hi), w[2], a2);
        a3 = evo_s32_smlad(evo_s32_sxtab16_r8(0, hi), w[3], a3);
        w += 4;
    }
#endif
    out[0] = dwd_requant(a0, q, 0, mode, lo, hi, p);
    out[1] = dwd_requant(a1, q, 1, mode, lo, hi, p);
    out[2] = dwd_requant(a2, q, 2, mode, lo, hi, p);
    out[3] = dwd_requant(a3, q, 3, mode, lo, hi, p);
}

/* Every whole quad of one output pixel; its taps are at tp[k] + off. */
static EVO_ALWAYS_INLINE void dwd_quads(const int8_t *const *tp, size_t off, int32_t np, int32_t nq, const uint32_t *w,
                                        const int32_t *q, int mode, const evo_depthwise_conv2d_s8_params_t *p, int8_t *out)
{
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t k;
    for (k = 0; k < nq; ++k) {
        dwd_quad(tp, np, off + (size_t)4 * k, w, q, mode, lo, hi, p, out + 4 * k);
        w += 4 * np;
        q += 16;
    }
}

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
/* The common 3x3 filter (five pairs) in fast mode: one assembly loop over the whole quads of a run
 * of pixels sharing one tap list (pixel i's taps at tp[k] + off + i * pstep), requantisation
 * included (GCC spills the loop state around the pairs block). LDM'd into r0-r10. */
typedef struct {
    const int8_t *const *tp;
    const uint32_t *w;
    const int32_t *q;
    int8_t *out;  /* pixel i's outputs at out + 4 * nq * i */
    int32_t end;  /* off + 4 * whole quads (nq > 0) */
    int32_t lo, hi;
    int32_t off;  /* the first pixel's first channel offset */
    int32_t npix; /* >= 1 */
    int32_t back; /* 4 nq - pstep: from a pixel's end offset to the next pixel's start */
    int32_t pstep;
} dwd_run_t;

typedef char dwd_run_is_44_bytes[sizeof(dwd_run_t) == 44 ? 1 : -1]; /* the assembly's LDM */

/* Registers: r0 tap cursor, r1 channel offset c, r2 weights, r3 constants, r4-r7 accumulators,
 * r8-r12 scratch, lr output; frame [sp] = {tap list, end, lo, hi, pixels left, back, weights,
 * constants, pstep}. */
#define DWD_HEAD                                                                                               \
    "push {r0-r12, lr}\n\t"                                                                                    \
    "mov lr, %[a]\n\t"                                                                                         \
    "ldm lr, {r0-r10}\n\t"                                                                                     \
    "sub sp, sp, #36\n\t"                                                                                      \
    "stm sp, {r0, r4, r5, r6, r8, r9}\n\t"                                                                     \
    "strd r1, r2, [sp, #24]\n\t"                                                                               \
    "str r10, [sp, #32]\n\t"                                                                                   \
    "mov lr, r3\n\t"                                                                                           \
    "mov r3, r2\n\t"                                                                                           \
    "mov r2, r1\n\t"                                                                                           \
    "mov r1, r7\n"                                                                                              \
    "1:\n\t"                                                                                                   \
    "ldr r0, [sp]\n\t"                                                                                         \
    "ldm r3!, {r4-r7}\n\t"

#define DWD_PAIR_R                                                                                             \
    "ldrd r8, r9, [r0], #8\n\t"                                                                                \
    "ldr r8, [r8, r1]\n\t"                                                                                     \
    "ldr r9, [r9, r1]\n\t"                                                                                     \
    "pkhbt r10, r8, r9, lsl #16\n\t"                                                                           \
    "pkhtb r9, r9, r8, asr #16\n\t"                                                                            \
    "ldrd r8, r11, [r2], #8\n\t"                                                                               \
    "sxtb16 r12, r10\n\t"                                                                                      \
    "smlad r4, r12, r8, r4\n\t"                                                                                \
    "sxtb16 r12, r10, ror #8\n\t"                                                                              \
    "smlad r5, r12, r11, r5\n\t"                                                                               \
    "ldrd r8, r11, [r2], #8\n\t"                                                                               \
    "sxtb16 r12, r9\n\t"                                                                                       \
    "smlad r6, r12, r8, r6\n\t"                                                                                \
    "sxtb16 r12, r9, ror #8\n\t"                                                                               \
    "smlad r7, r12, r11, r7\n\t"

/* Requantise accumulator R ({M, T, e} from the constants) and store it. */
#define DWD_REQ(R, CLAMP)                                                                                      \
    "ldm r3!, {r8-r10}\n\t"                                                                                    \
    "add r9, r9, " R ", asr #31\n\t"                                                                           \
    "smmlar " R ", " R ", r8, r9\n\t"                                                                          \
    "asr " R ", " R ", r10\n\t"                                                                                \
    "ssat " R ", #8, " R "\n\t" CLAMP(R) "strb " R ", [lr], #1\n\t"

#define DWD_NOCLAMP(R) ""
#define DWD_CLAMP(R) "cmp " R ", r0\n\tit lt\n\tmovlt " R ", r0\n\tcmp " R ", r12\n\tit gt\n\tmovgt " R ", r12\n\t"

/* Next quad; after a pixel's last, the next pixel (its end offset, the weights and constants again). */
#define DWD_TAIL                                                                                               \
    "add r1, r1, #4\n\t"                                                                                       \
    "ldr r8, [sp, #4]\n\t"                                                                                     \
    "cmp r1, r8\n\t"                                                                                           \
    "blt 1b\n\t"                                                                                               \
    "ldr r9, [sp, #16]\n\t"                                                                                    \
    "subs r9, r9, #1\n\t"                                                                                      \
    "beq 2f\n\t"                                                                                               \
    "str r9, [sp, #16]\n\t"                                                                                    \
    "ldr r9, [sp, #20]\n\t"                                                                                    \
    "sub r1, r1, r9\n\t"                                                                                       \
    "ldr r9, [sp, #32]\n\t"                                                                                    \
    "add r8, r8, r9\n\t"                                                                                       \
    "str r8, [sp, #4]\n\t"                                                                                     \
    "ldrd r2, r3, [sp, #24]\n\t"                                                                               \
    "b 1b\n"                                                                                                    \
    "2:\n\t"                                                                                                   \
    "add sp, sp, #36\n\t"                                                                                      \
    "pop {r0-r12, lr}"

#define DWD_BODY(LOHI, CLAMP)                                                                                  \
    DWD_HEAD DWD_PAIR_R DWD_PAIR_R DWD_PAIR_R DWD_PAIR_R DWD_PAIR_R LOHI DWD_REQ("r4", CLAMP)                  \
        DWD_REQ("r5", CLAMP) DWD_REQ("r6", CLAMP) DWD_REQ("r7", CLAMP) DWD_TAIL

static void dwd_run_fast(const dwd_run_t *a)
{
    __asm__ volatile(DWD_BODY("", DWD_NOCLAMP) : : [a] "r"(a) : "memory", "cc");
}

static void dwd_run_clamp(const dwd_run_t *a)
{
    __asm__ volatile(DWD_BODY("ldrd r0, r12, [sp, #8]\n\t", DWD_CLAMP) : : [a] "r"(a) : "memory", "cc");
}

/* Pixels [0, npix) of a run: taps at tp[k] + off + i * pstep, outputs at out + 4 * nq * i. */
static void dwd_pixels_5(const int8_t *const *tp, size_t off, size_t pstep, int32_t npix, int32_t nq, const uint32_t *w,
                         const int32_t *q, int mode, const evo_depthwise_conv2d_s8_params_t *p, int8_t *out)
{
    const dwd_run_t a = {tp, w, q, out, (int32_t)off + 4 * nq, p->act_min, p->act_max, (int32_t)off, npix,
                         4 * nq - (int32_t)pstep, (int32_t)pstep};
    if (nq > 0 && npix > 0) {
        if (mode == EVO_DWP_MODE_FAST_CLAMP) {
            dwd_run_clamp(&a);
        } else {
            dwd_run_fast(&a);
        }
    }
}
#else
/* The common 3x3 filter (five pairs) and both fast modes get their own unrolled copies. */
static void dwd_pixels_5(const int8_t *const *tp, size_t off, size_t pstep, int32_t npix, int32_t nq, const uint32_t *w,
                         const int32_t *q, int mode, const evo_depthwise_conv2d_s8_params_t *p, int8_t *out)
{
    int32_t i;
    for (i = 0; i < npix; ++i, off += pstep, out += 4 * nq) {
        if (mode == EVO_DWP_MODE_FAST_CLAMP) {
            dwd_quads(tp, off, 5, nq, w, q, EVO_DWP_MODE_FAST_CLAMP, p, out);
        } else {
            dwd_quads(tp, off, 5, nq, w, q, EVO_DWP_MODE_FAST, p, out);
        }
    }
}
#endif

static void dwd_quads_any(const int8_t *const *tp, size_t off, int32_t np, int32_t nq, const uint32_t *w, const int32_t *q,
                          int mode, const evo_depthwise_conv2d_s8_params_t *p, int8_t *out)
{
    dwd_quads(tp, off, np, nq, w, q, mode, p, out);
}

/* Channels [4 * nq, C) one at a time (C not a multiple of 4). */
static void dwd_tail(const int8_t *const *tp, size_t off, int32_t np, int32_t nq, int32_t ch, const uint32_t *w,
                     const int32_t *q, int mode, const evo_depthwise_conv2d_s8_params_t *p, int8_t *out)
{
    int32_t c, j;
    w += (size_t)4 * np * nq;
    q += (size_t)16 * nq;
    for (c = 4 * nq; c < ch; ++c) {
        const int32_t l = c - 4 * nq;
        int32_t acc = q[l];
        for (j = 0; j < np; ++j) {
            const uint32_t wv = w[4 * j + l];
            acc += (int32_t)tp[2 * j][off + c] * evo_s32_lane(wv, 0);
            acc += (int32_t)tp[2 * j + 1][off + c] * evo_s32_lane(wv, 1);
        }
        out[c] = dwd_requant(acc, q, l, mode, p->act_min, p->act_max, p);
    }
}

static int dwd_args_ok(const evo_depthwise_conv2d_s8_params_t *p, int32_t mode)
{
    const int32_t ch = p->out.c;
    return p->in.n == p->out.n && p->in.c == ch && p->depth_multiplier == 1 && p->kh >= 1 && p->kw >= 1 &&
           p->kh * p->kw <= EVO_DWD_MAX_TAPS && p->stride_h >= 1 && p->stride_w >= 1 && p->dil_h >= 1 && p->dil_w >= 1 &&
           ch >= 1 && (mode == EVO_DWP_MODE_FAST || mode == EVO_DWP_MODE_FAST_CLAMP || mode == EVO_DWP_MODE_EXACT);
}

/* One output row from its kernel rows' input rows (rows[fy]: NULL above or below the image). Where
 * no kernel row is padding, the pixels whose taps all lie in the image share one tap list (each
 * row's taps from pixel 0) and pass their pixel's byte offset instead (with five tap pairs in a
 * fast mode and whole quads, one assembly call runs them all); the others list their own taps, a
 * padded one at the pixel of zero points. */
void evo_depthwise_conv2d_s8_direct_row_of(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *const *rows, const int32_t *wpack,
                    const int32_t *qpack, int8_t *output)
{
    const int32_t ch = p->out.c, iw = p->in.w, ow = p->out.w, taps = p->kh * p->kw, mode = qpack[0];
    const int32_t np = (taps + 1) / 2, nq = ch / 4, quads = (ch + 3) / 4;
    const int32_t span = (p->kw - 1) * p->dil_w; /* a pixel's taps cover columns [ix0, ix0 + span] */
    const int fast5 = np == 5 && mode != EVO_DWP_MODE_EXACT;
    const uint32_t *w = (const uint32_t *)wpack;
    const int32_t *q = qpack + 4;
    const int8_t *zp = (const int8_t *)(wpack + (size_t)4 * np * quads); /* one pixel of zero points */
    const int8_t *tp[EVO_DWD_MAX_TAPS + 1], *shared[EVO_DWD_MAX_TAPS + 1];
    int32_t ox = 0, fy, fx, inner = 1, last = -1; /* last: the last pixel whose taps all lie in the image */

    for (fy = 0; fy < p->kh; ++fy) {
        inner = inner && rows[fy] != NULL;
    }
    if (inner && iw - span + p->pad_w - 1 >= 0) {
        int32_t k = 0;
        for (fy = 0; fy < p->kh; ++fy) {
            for (fx = 0; fx < p->kw; ++fx, ++k) {
                shared[k] = rows[fy] + (size_t)fx * p->dil_w * ch;
            }
        }
        shared[taps] = shared[taps - 1]; /* an odd last tap pairs with itself (zero weight) */
        last = (iw - span + p->pad_w - 1) / p->stride_w;
    }
    while (ox < ow) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        const int8_t *const *t = tp;
        size_t off = 0;
        if (ix0 >= 0 && ox <= last) {
            t = shared;
            off = (size_t)ix0 * ch;
            if (fast5 && nq == quads) { /* the run of such pixels at once */
                const int32_t n = (last < ow ? last + 1 : ow) - ox;
                dwd_pixels_5(shared, off, (size_t)p->stride_w * ch, n, nq, w, q, mode, p, output);
                ox += n;
                output += (size_t)n * ch;
                continue;
            }
        } else {
            int32_t k = 0;
            for (fy = 0; fy < p->kh; ++fy) {
                const int8_t *row = rows[fy];
                for (fx = 0; fx < p->kw; ++fx, ++k) {
                    const int32_t ix = ix0 + fx * p->dil_w;
                    tp[k] = (row != NULL && ix >= 0 && ix < iw) ? row + (size_t)ix * ch : zp;
                }
            }
            tp[taps] = tp[taps - 1];
        }
        if (fast5) {
            dwd_pixels_5(t, off, 0, 1, nq, w, q, mode, p, output);
        } else {
            dwd_quads_any(t, off, np, nq, w, q, mode, p, output);
        }
        if (nq < quads) {
            dwd_tail(t, off, np, nq, ch, w, q, mode, p, output);
        }
        output += ch;
        ++ox;
    }
}

evo_status_t evo_depthwise_conv2d_s8_direct(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                            const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch)
{
    const int32_t ih = p->in.h;
    const size_t in_row = (size_t)p->in.w * p->in.c, out_row = (size_t)p->out.w * p->out.c;
    const int8_t *rows[EVO_DWD_MAX_TAPS];
    int32_t b, oy, fy;

    (void)scratch;
    if (!dwd_args_ok(p, qpack[0])) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * ih * in_row;
        for (oy = 0; oy < p->out.h; ++oy) {
            for (fy = 0; fy < p->kh; ++fy) {
                const int32_t iy = oy * p->stride_h - p->pad_h + fy * p->dil_h;
                rows[fy] = (iy >= 0 && iy < ih) ? in_b + (size_t)iy * in_row : NULL;
            }
            evo_depthwise_conv2d_s8_direct_row_of(p, rows, wpack, qpack, output);
            output += out_row;
        }
    }
    return EVO_OK;
}
