/* DEPTHWISE_CONV_2D, int8, depth multiplier 1, dilation 1: the tap-pair kernel (evo/depthwise_fast.h).
 *
 * Why pairs: SMLAD multiplies two int16 lanes and adds both products to one accumulator, so both
 * lanes must belong to the same channel and output, i.e. two taps. Input words hold four channels
 * of one pixel; two adjacent pixels' words A, B become the pairs (a_c, b_c) with two PKH and four
 * SXTAB16 (which also add the input offset). That is done once per input row into a ring of kh
 * widened rows, so the inner loop is word loads and SMLADs only. Pairs start at even (padded)
 * columns; an output whose window starts at an odd column uses the second weight layout, whose
 * taps are shifted by one (first lane 0). Padding pixels widen to 0, so borders need no special
 * case.
 *
 * Loop order: output row, then quad of channels, then output pixel. Input rows are read only when
 * first widened, before the output row that needs them is written, so the kernel may run in place
 * like the row-streaming wrappers of evo/inplace.h. */
#include <string.h>

#include "evo/depthwise_fast.h"
#include "evo/fixedpoint.h"
#include "evo/simd32.h"

#define DWP_MAX_KH 16

typedef struct {
    int32_t ng;      /* tap pairs per kernel row: ceil(kw / 2) (one layout), kw / 2 + 1 (two) */
    int32_t slots;   /* pairs per widened row and quad */
    int32_t quads;   /* ceil(C / 4) (output channels) */
    int32_t rquads;  /* quads held per ring row: 1 when one input channel feeds every quad alike */
    int32_t layouts; /* 1 when every window starts at an even column (even stride), else 2 */
} dwp_geom_t;

static dwp_geom_t dwp_geometry(const evo_depthwise_conv2d_s8_params_t *p)
{
    dwp_geom_t g;
    g.layouts = (p->stride_w % 2 == 0) ? 1 : 2;
    g.ng = g.layouts == 1 ? (p->kw + 1) / 2 : p->kw / 2 + 1;
    g.slots = (p->stride_w * (p->out.w - 1)) / 2 + g.ng;
    g.quads = (p->out.c + 3) / 4;
    g.rquads = (p->in.c == 1 && p->out.c > 1) ? 1 : g.quads;
    return g;
}

int32_t evo_depthwise_conv2d_s8_pairs_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p)
{
    const dwp_geom_t g = dwp_geometry(p);
    return (p->kh * g.rquads * g.slots * 16 + 15) & ~15;
}

/* Channels [4q, 4q + nc) of input column x, or the zero point in the padding (and past C). */
static inline uint32_t dwp_column(const int8_t *row, int32_t x, int32_t w, int32_t ch, int32_t nc, uint32_t zp4)
{
    uint32_t v = zp4;
    int32_t c;
    if (x < 0 || x >= w) {
        return zp4;
    }
    if (nc == 4) {
        return evo_s32_ld(row + (size_t)x * ch);
    }
    for (c = 0; c < nc; ++c) {
        v = (v & ~(0xFFu << (8 * c))) | ((uint32_t)(uint8_t)row[(size_t)x * ch + c] << (8 * c));
    }
    return v;
}

/* Widen the pixel pair (a, b) of one quad into its four pair words. */
static inline void dwp_widen_pair(uint32_t *dst, uint32_t a, uint32_t b, uint32_t off2)
{
    const uint32_t lo = evo_s32_pkhbt(a, b), hi = evo_s32_pkhtb(a, b);
    dst[0] = evo_s32_sxtab16(off2, lo);
    dst[1] = evo_s32_sxtab16_r8(off2, lo);
    dst[2] = evo_s32_sxtab16(off2, hi);
    dst[3] = evo_s32_sxtab16_r8(off2, hi);
}

/* Widen input row `row` into ring row `dst` ([quad][slot][4] words): slot k holds padded columns
 * 2k and 2k + 1, i.e. input columns x = 2k - pad_w and x + 1. */
static void dwp_widen_row(uint32_t *dst, const int8_t *row, const evo_depthwise_conv2d_s8_params_t *p,
                          const dwp_geom_t *g, uint32_t off2, uint32_t zp4)
{
    const int32_t w = p->in.w, ch = p->in.c, pw = p->pad_w;
    const int32_t och = p->out.c;
    /* slots [k_lo, k_hi) have both columns inside the image */
    const int32_t k_lo = (pw + 1) / 2;
    int32_t k_hi = (w + pw - 1) / 2 + ((w + pw - 1) % 2 != 0 ? 1 : 0);
    int32_t q, k;
    while (k_hi > k_lo && 2 * (k_hi - 1) - pw + 1 >= w) {
        --k_hi;
    }
    if (k_hi > g->slots) {
        k_hi = g->slots;
    }
    for (q = 0; q < g->rquads; ++q) {
        const int32_t nc = (och - 4 * q) < 4 ? (och - 4 * q) : 4;
        const int8_t *rq = row + 4 * q;
        for (k = 0; k < g->slots; ++k) {
            const int32_t x = 2 * k - pw;
            if (x >= w || x + 1 < 0) { /* both columns are padding: zero since the ring was cleared */
                dst += 4;
                continue;
            }
            if (ch == 1 && och > 1) { /* one input channel (depth multiplier = C): every lane reads it */
                const uint32_t a = (x >= 0 && x < w) ? (uint32_t)(uint8_t)row[x] * 0x01010101u : zp4;
                const uint32_t b = (x + 1 >= 0 && x + 1 < w) ? (uint32_t)(uint8_t)row[x + 1] * 0x01010101u : zp4;
                dwp_widen_pair(dst, a, b, off2);
                dst += 4;
                continue;
            }
            if (nc == 4 && k == k_lo && k_hi > k_lo) { /* the interior: pointer steps, no checks */
                const int8_t *src = rq + (size_t)x * ch;
                const size_t step = 2 * (size_t)ch;
                for (; k < k_hi; ++k) {
                    dwp_widen_pair(dst, evo_s32_ld(src), evo_s32_ld(src + ch), off2);
                    dst += 4;
                    src += step;
                }
                --k;
                continue;
            }
            dwp_widen_pair(dst, dwp_column(rq, x, w, ch, nc, zp4), dwp_column(rq, x + 1, w, ch, nc, zp4), off2);
            dst += 4;
        }
    }
}

/* Requantise one accumulator of channel c (q: the quad's 16 constants). */
static EVO_ALWAYS_INLINE int8_t dwp_requant(int32_t a2, const int32_t *q, int32_t c, int mode,
                                            const evo_depthwise_conv2d_s8_params_t *p)
{
    const int32_t m = q[4 + 3 * c], t = q[5 + 3 * c], e = q[6 + 3 * c];
    int32_t r;
    if (mode == EVO_DWP_MODE_EXACT) {
        r = evo_requantize(a2 / 2, m, e) + p->output_offset;
        return (int8_t)EVO_CLAMP(r, p->act_min, p->act_max);
    }
    r = evo_s32_ssat8(evo_s32_smmlar(a2, m, t + (a2 >> 31)) >> e);
    if (mode == EVO_DWP_MODE_FAST_CLAMP) {
        r = EVO_CLAMP(r, p->act_min, p->act_max);
    }
    return (int8_t)r;
}

/* Channel c of two outputs: the constants are read once (the byte stores could alias them). */
static EVO_ALWAYS_INLINE void dwp_requant2(int32_t x, int32_t y, const int32_t *q, int32_t c, int mode,
                                           const evo_depthwise_conv2d_s8_params_t *p, int8_t *o0, int8_t *o1)
{
    const int32_t m = q[4 + 3 * c], t = q[5 + 3 * c], e = q[6 + 3 * c];
    int32_t r0, r1;
    if (mode == EVO_DWP_MODE_EXACT) {
        r0 = EVO_CLAMP(evo_requantize(x / 2, m, e) + p->output_offset, p->act_min, p->act_max);
        r1 = EVO_CLAMP(evo_requantize(y / 2, m, e) + p->output_offset, p->act_min, p->act_max);
    } else {
        r0 = evo_s32_ssat8(evo_s32_smmlar(x, m, t + (x >> 31)) >> e);
        r1 = evo_s32_ssat8(evo_s32_smmlar(y, m, t + (y >> 31)) >> e);
        if (mode == EVO_DWP_MODE_FAST_CLAMP) {
            r0 = EVO_CLAMP(r0, p->act_min, p->act_max);
            r1 = EVO_CLAMP(r1, p->act_min, p->act_max);
        }
    }
    o0[c] = (int8_t)r0;
    o1[c] = (int8_t)r1;
}

/* One output row of one quad. NG: tap pairs per kernel row (a constant where inlined). */
static EVO_ALWAYS_INLINE void dwp_out_row(const evo_depthwise_conv2d_s8_params_t *p, const dwp_geom_t *g,
                                          const uint32_t *const *rows, int32_t nrows, const int32_t *wq,
                                          const int32_t *q, int8_t *out, int32_t nc, int32_t NG, int mode)
{
    const int32_t ow = p->out.w, sw = p->stride_w;
    const size_t ostep = (size_t)p->out.c;
    const size_t lstep = (size_t)p->kh * NG * 4; /* words between the two weight layouts */
    int32_t x, r, j;
    for (x = 0; x < ow; ++x) {
        const int32_t x0 = x * sw;
        const uint32_t *w = (const uint32_t *)wq + ((x0 & 1) ? lstep : 0);
        const size_t base = (size_t)(x0 >> 1) * 4;
        int32_t a0 = q[0], a1 = q[1], a2 = q[2], a3 = q[3];
        for (r = 0; r < nrows; ++r) {
            const uint32_t *v = rows[r] + base;
            for (j = 0; j < NG; ++j) {
                a0 = evo_s32_smlad(v[0], w[0], a0);
                a1 = evo_s32_smlad(v[1], w[1], a1);
                a2 = evo_s32_smlad(v[2], w[2], a2);
                a3 = evo_s32_smlad(v[3], w[3], a3);
                v += 4;
                w += 4;
            }
        }
        if (nc == 4) {
            out[0] = dwp_requant(a0, q, 0, mode, p);
            out[1] = dwp_requant(a1, q, 1, mode, p);
            out[2] = dwp_requant(a2, q, 2, mode, p);
            out[3] = dwp_requant(a3, q, 3, mode, p);
        } else {
            const int32_t acc[4] = {a0, a1, a2, a3};
            int32_t c;
            for (c = 0; c < nc; ++c) {
                out[c] = dwp_requant(acc[c], q, c, mode, p);
            }
        }
        out += ostep;
    }
    (void)g;
}

/* Two adjacent words (channels c, c + 1 of a slot, or their weights): one LDRD. */
static inline void dwp_ld2(const uint32_t *p, uint32_t *lo, uint32_t *hi)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    *lo = (uint32_t)v;
    *hi = (uint32_t)(v >> 32);
}

/* Two outputs whose windows start one pair slot apart with the same weight layout (x and x + 2 at
 * stride 1, x and x + 1 at stride 2), kw <= 3 (two tap pairs), channels c and c + 1 of the quad
 * (v, w already offset by c): the middle slot and every weight word serve both outputs. Two
 * channels at a time keep the 4 accumulators, 4 window and 2 weight words in registers. */
static EVO_ALWAYS_INLINE void dwp_twin2(const uint32_t *const *rows, int32_t nrows, size_t base, const uint32_t *w,
                                        const int32_t *q, int32_t c, int8_t *o0, int8_t *o1, int mode,
                                        const evo_depthwise_conv2d_s8_params_t *p)
{
    int32_t a0 = q[c], a1 = q[c + 1];
    int32_t b0 = a0, b1 = a1;
    int32_t r;
    w += c;
#if defined(__ARM_FEATURE_DSP)
    if (nrows == 3) { /* the interior case, unrolled: 39 instructions for 36 MACs */
        const uint32_t *v0 = rows[0] + base + c, *v1 = rows[1] + base + c, *v2 = rows[2] + base + c;
        uint32_t s0, s1, w0, w1;
#define DWP_TWIN_ROW(V, WOFF)                                                                                  \
    "ldrd %[s0], %[s1], [%[" V "]]\n\t"                                                                         \
    "ldrd %[w0], %[w1], [%[w], #" WOFF "]\n\t"                                                                  \
    "smlad %[a0], %[s0], %[w0], %[a0]\n\t"                                                                     \
    "smlad %[a1], %[s1], %[w1], %[a1]\n\t"                                                                     \
    "ldrd %[s0], %[s1], [%[" V "], #16]\n\t"                                                                    \
    "smlad %[b0], %[s0], %[w0], %[b0]\n\t"                                                                     \
    "smlad %[b1], %[s1], %[w1], %[b1]\n\t"                                                                     \
    "ldrd %[w0], %[w1], [%[w], #" WOFF "+16]\n\t"                                                               \
    "smlad %[a0], %[s0], %[w0], %[a0]\n\t"                                                                     \
    "smlad %[a1], %[s1], %[w1], %[a1]\n\t"                                                                     \
    "ldrd %[s0], %[s1], [%[" V "], #32]\n\t"                                                                    \
    "smlad %[b0], %[s0], %[w0], %[b0]\n\t"                                                                     \
    "smlad %[b1], %[s1], %[w1], %[b1]\n\t"
        __asm__(DWP_TWIN_ROW("v0", "0") DWP_TWIN_ROW("v1", "32") DWP_TWIN_ROW("v2", "64")
                : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [s0] "=&r"(s0), [s1] "=&r"(s1),
                  [w0] "=&r"(w0), [w1] "=&r"(w1)
                : [v0] "r"(v0), [v1] "r"(v1), [v2] "r"(v2), [w] "r"(w)
                : "memory");
#undef DWP_TWIN_ROW
        nrows = 0;
    }
#endif
    for (r = 0; r < nrows; ++r) {
        const uint32_t *v = rows[r] + base + c;
#if defined(__ARM_FEATURE_DSP)
        /* GCC neither pairs these loads into LDRD nor keeps the accumulators out of the way. */
        uint32_t s0, s1, w0, w1;
        __asm__("ldrd %[s0], %[s1], [%[v]]\n\t"
                "ldrd %[w0], %[w1], [%[w]]\n\t"
                "smlad %[a0], %[s0], %[w0], %[a0]\n\t"
                "smlad %[a1], %[s1], %[w1], %[a1]\n\t"
                "ldrd %[s0], %[s1], [%[v], #16]\n\t"
                "smlad %[b0], %[s0], %[w0], %[b0]\n\t"
                "smlad %[b1], %[s1], %[w1], %[b1]\n\t"
                "ldrd %[w0], %[w1], [%[w], #16]\n\t"
                "smlad %[a0], %[s0], %[w0], %[a0]\n\t"
                "smlad %[a1], %[s1], %[w1], %[a1]\n\t"
                "ldrd %[s0], %[s1], [%[v], #32]\n\t"
                "smlad %[b0], %[s0], %[w0], %[b0]\n\t"
                "smlad %[b1], %[s1], %[w1], %[b1]"
                : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [s0] "=&r"(s0), [s1] "=&r"(s1),
                  [w0] "=&r"(w0), [w1] "=&r"(w1)
                : [v] "r"(v), [w] "r"(w)
                : "memory");
#else
        uint32_t s0, s1, t0, t1, w0, w1;
        dwp_ld2(v, &s0, &s1);
        dwp_ld2(w, &w0, &w1);
        a0 = evo_s32_smlad(s0, w0, a0);
        a1 = evo_s32_smlad(s1, w1, a1);
        dwp_ld2(v + 4, &t0, &t1);
        b0 = evo_s32_smlad(t0, w0, b0);
        b1 = evo_s32_smlad(t1, w1, b1);
        dwp_ld2(w + 4, &w0, &w1);
        a0 = evo_s32_smlad(t0, w0, a0);
        a1 = evo_s32_smlad(t1, w1, a1);
        dwp_ld2(v + 8, &s0, &s1);
        b0 = evo_s32_smlad(s0, w0, b0);
        b1 = evo_s32_smlad(s1, w1, b1);
#endif
        w += 8;
    }
    dwp_requant2(a0, b0, q, c, mode, p, o0, o1);
    dwp_requant2(a1, b1, q, c + 1, mode, p, o0, o1);
}

static EVO_ALWAYS_INLINE void dwp_twin(const evo_depthwise_conv2d_s8_params_t *p, const uint32_t *const *rows,
                                       int32_t nrows, size_t base, const uint32_t *w, const int32_t *q, int8_t *o0,
                                       int8_t *o1, int mode)
{
    dwp_twin2(rows, nrows, base, w, q, 0, o0, o1, mode, p);
    dwp_twin2(rows, nrows, base, w, q, 2, o0, o1, mode, p);
}

/* One output, kw <= 3, channels c and c + 1. */
static EVO_ALWAYS_INLINE void dwp_single2(const uint32_t *const *rows, int32_t nrows, size_t base, const uint32_t *w,
                                          const int32_t *q, int32_t c, int8_t *o, int mode,
                                          const evo_depthwise_conv2d_s8_params_t *p)
{
    int32_t a0 = q[c], a1 = q[c + 1];
    int32_t r;
    w += c;
#if defined(__ARM_FEATURE_DSP)
    if (nrows == 3) {
        const uint32_t *v0 = rows[0] + base + c, *v1 = rows[1] + base + c, *v2 = rows[2] + base + c;
        uint32_t s0, s1, w0, w1;
#define DWP_SINGLE_ROW(V, WOFF)                                                                                \
    "ldrd %[s0], %[s1], [%[" V "]]\n\t"                                                                         \
    "ldrd %[w0], %[w1], [%[w], #" WOFF "]\n\t"                                                                  \
    "smlad %[a0], %[s0], %[w0], %[a0]\n\t"                                                                     \
    "smlad %[a1], %[s1], %[w1], %[a1]\n\t"                                                                     \
    "ldrd %[s0], %[s1], [%[" V "], #16]\n\t"                                                                    \
    "ldrd %[w0], %[w1], [%[w], #" WOFF "+16]\n\t"                                                               \
    "smlad %[a0], %[s0], %[w0], %[a0]\n\t"                                                                     \
    "smlad %[a1], %[s1], %[w1], %[a1]\n\t"
        __asm__(DWP_SINGLE_ROW("v0", "0") DWP_SINGLE_ROW("v1", "32") DWP_SINGLE_ROW("v2", "64")
                : [a0] "+r"(a0), [a1] "+r"(a1), [s0] "=&r"(s0), [s1] "=&r"(s1), [w0] "=&r"(w0), [w1] "=&r"(w1)
                : [v0] "r"(v0), [v1] "r"(v1), [v2] "r"(v2), [w] "r"(w)
                : "memory");
#undef DWP_SINGLE_ROW
        nrows = 0;
    }
#endif
    for (r = 0; r < nrows; ++r) {
        const uint32_t *v = rows[r] + base + c;
        uint32_t s0, s1, w0, w1;
        dwp_ld2(v, &s0, &s1);
        dwp_ld2(w, &w0, &w1);
        a0 = evo_s32_smlad(s0, w0, a0);
        a1 = evo_s32_smlad(s1, w1, a1);
        dwp_ld2(v + 4, &s0, &s1);
        dwp_ld2(w + 4, &w0, &w1);
        a0 = evo_s32_smlad(s0, w0, a0);
        a1 = evo_s32_smlad(s1, w1, a1);
        w += 8;
    }
    o[c] = dwp_requant(a0, q, c, mode, p);
    o[c + 1] = dwp_requant(a1, q, c + 1, mode, p);
}

/* One output row of one full quad, kw <= 3, stride 1 or 2: twins, then the leftovers singly. */
static EVO_ALWAYS_INLINE void dwp_out_row_twins(const evo_depthwise_conv2d_s8_params_t *p, const dwp_geom_t *g,
                                                const uint32_t *const *rows0, int32_t nrows, const int32_t *wq0,
                                                const int32_t *q, int8_t *out, int32_t quads, int mode)
{
    const int32_t ow = p->out.w;
    const size_t os = (size_t)p->out.c;
    const size_t quad_w = (size_t)g->layouts * p->kh * 2 * 4, quad_v = g->rquads == 1 ? 0 : (size_t)g->slots * 4;
    const uint32_t *rows[DWP_MAX_KH];
    int32_t qi, r;
    for (r = 0; r < nrows; ++r) {
        rows[r] = rows0[r];
    }
    for (qi = 0; qi < quads; ++qi, q += 16, out += 4) {
        const uint32_t *w_even = (const uint32_t *)wq0 + (size_t)qi * quad_w;
        int32_t x = 0;
        if (p->stride_w == 1) {
            const uint32_t *w_odd = w_even + (size_t)p->kh * 2 * 4;
            for (; x + 4 <= ow; x += 4) {
                dwp_twin(p, rows, nrows, (size_t)(x >> 1) * 4, w_even, q, out + x * os, out + (x + 2) * os, mode);
                dwp_twin(p, rows, nrows, (size_t)(x >> 1) * 4, w_odd, q, out + (x + 1) * os, out + (x + 3) * os, mode);
            }
        } else {
            for (; x + 2 <= ow; x += 2) {
                dwp_twin(p, rows, nrows, (size_t)x * 4, w_even, q, out + x * os, out + (x + 1) * os, mode);
            }
        }
        for (; x < ow; ++x) { /* leftovers (an odd start column exists only at stride 1) */
            const int32_t x0 = x * p->stride_w;
            const size_t base = (size_t)(x0 >> 1) * 4;
            const uint32_t *w = (x0 & 1) ? w_even + (size_t)p->kh * 2 * 4 : w_even;
            dwp_single2(rows, nrows, base, w, q, 0, out + x * os, mode, p);
            dwp_single2(rows, nrows, base, w, q, 2, out + x * os, mode, p);
        }
        for (r = 0; r < nrows; ++r) {
            rows[r] += quad_v;
        }
    }
}

#if defined(__GNUC__)
#define DWP_NOINLINE __attribute__((noinline))
#else
#define DWP_NOINLINE
#endif

/* One instance per requantisation mode (the mode is a constant inside). */
static DWP_NOINLINE void dwp_twins_fast(const evo_depthwise_conv2d_s8_params_t *p, const dwp_geom_t *g,
                                        const uint32_t *const *rows, int32_t nrows, const int32_t *wq,
                                        const int32_t *q, int8_t *out, int32_t quads)
{
    dwp_out_row_twins(p, g, rows, nrows, wq, q, out, quads, EVO_DWP_MODE_FAST);
}

static DWP_NOINLINE void dwp_twins_clamp(const evo_depthwise_conv2d_s8_params_t *p, const dwp_geom_t *g,
                                         const uint32_t *const *rows, int32_t nrows, const int32_t *wq,
                                         const int32_t *q, int8_t *out, int32_t quads)
{
    dwp_out_row_twins(p, g, rows, nrows, wq, q, out, quads, EVO_DWP_MODE_FAST_CLAMP);
}

evo_status_t evo_depthwise_conv2d_s8_pairs(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                           const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch)
{
    const dwp_geom_t g = dwp_geometry(p);
    const int32_t kh = p->kh, ih = p->in.h, ich = p->in.c, ch = p->out.c, mode = qpack[0];
    const uint32_t off2 = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    const uint32_t zp4 = (uint32_t)(uint8_t)(int8_t)(-p->input_offset) * 0x01010101u;
    const size_t ring_row = (size_t)g.rquads * g.slots * 4; /* words */
    const size_t ring_quad = g.rquads == 1 ? 0 : (size_t)g.slots * 4;
    const size_t quad_w = (size_t)g.layouts * kh * g.ng * 4;
    uint32_t *const ring = (uint32_t *)scratch;
    const uint32_t *rows[DWP_MAX_KH];
    int32_t b, q, oy, r;

    if (p->in.n != p->out.n || p->in.c * p->depth_multiplier != p->out.c || (p->depth_multiplier != 1 && p->in.c != 1) ||
        p->dil_h != 1 || p->dil_w != 1 ||
        kh < 1 || kh > DWP_MAX_KH || p->kw < 1 || p->stride_h < 1 || p->stride_w < 1 || scratch == NULL) {
        return EVO_ERR_ARG;
    }
    memset(ring, 0, (size_t)kh * ring_row * sizeof(uint32_t)); /* all-padding slots stay 0 */
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * ih * p->in.w * ich;
        int8_t *out_b = output + (size_t)b * p->out.h * p->out.w * ch;
        int32_t next = 0; /* first input row not yet widened */
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int32_t r_lo = iy0 < 0 ? -iy0 : 0;
            const int32_t r_hi = (ih - iy0) < kh ? (ih - iy0) : kh;
            const int32_t nrows = r_hi - r_lo;
            int8_t *out = out_b + (size_t)oy * p->out.w * ch;
            if (next < iy0 + r_lo) {
                next = iy0 + r_lo;
            }
            for (; next < iy0 + r_hi; ++next) {
                dwp_widen_row(ring + (size_t)(next % kh) * ring_row, in_b + (size_t)next * p->in.w * ich, p, &g, off2, zp4);
            }
            q = 0;
            if (g.ng == 2 && p->stride_w <= 2 && mode != EVO_DWP_MODE_EXACT && ch >= 4) {
                /* every full quad of the row in one call */
                for (r = 0; r < nrows; ++r) {
                    rows[r] = ring + (size_t)((iy0 + r_lo + r) % kh) * ring_row;
                }
                if (mode == EVO_DWP_MODE_FAST) {
                    dwp_twins_fast(p, &g, rows, nrows, wpack + (size_t)r_lo * 2 * 4, qpack + 4, out, ch / 4);
                } else {
                    dwp_twins_clamp(p, &g, rows, nrows, wpack + (size_t)r_lo * 2 * 4, qpack + 4, out, ch / 4);
                }
                q = ch / 4;
            }
            for (; q < g.quads; ++q) {
                const int32_t nc = (ch - 4 * q) < 4 ? (ch - 4 * q) : 4;
                const int32_t *wq = wpack + (size_t)q * quad_w + (size_t)r_lo * g.ng * 4;
                const int32_t *qq = qpack + 4 + 16 * q;
                for (r = 0; r < nrows; ++r) {
                    rows[r] = ring + (size_t)((iy0 + r_lo + r) % kh) * ring_row + (size_t)q * ring_quad;
                }
                /* channel tails, wide filters, odd strides > 1, exact requantisation */
                if (mode == EVO_DWP_MODE_FAST) {
                    dwp_out_row(p, &g, rows, nrows, wq, qq, out + 4 * q, nc, g.ng, EVO_DWP_MODE_FAST);
                } else if (mode == EVO_DWP_MODE_FAST_CLAMP) {
                    dwp_out_row(p, &g, rows, nrows, wq, qq, out + 4 * q, nc, g.ng, EVO_DWP_MODE_FAST_CLAMP);
                } else {
                    dwp_out_row(p, &g, rows, nrows, wq, qq, out + 4 * q, nc, g.ng, EVO_DWP_MODE_EXACT);
                }
            }
        }
    }
    return EVO_OK;
}
