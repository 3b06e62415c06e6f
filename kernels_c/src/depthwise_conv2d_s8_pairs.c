/* DEPTHWISE_CONV_2D, int8, depth multiplier 1, dilation 1: the tap-pair kernel (evo/depthwise_fast.h).
 *
 * Why pairs: SMLAD multiplies two int16 lanes and adds both products to one accumulator, so both
 * lanes must belong to the same channel and output, i.e. two taps. Input words hold four channels
 * of one pixel; two adjacent pixels' words A, B become the pairs (a_c, b_c) with two PKH and four
 * SXTAB16 (which also add the input offset). Doing that once per input row and group of four
 * channels, into a window of kh rows, amortises it over every output that reads the row; the
 * inner loop is then word loads and SMLADs only (ceil(kw / 2) SMLAD per channel and kernel row).
 * Padding pixels become 0 pairs, so borders need no special case.
 *
 * Loop order: quad of channels, output row, output pixel. The window rows of a quad slide down
 * with the output rows (a ring of kh rows); each input row is widened once per quad. */
#include "evo/depthwise_fast.h"
#include "evo/fixedpoint.h"
#include "evo/simd32.h"

#define DWP_MAX_KH 16

typedef struct {
    int32_t colstep; /* window pairs start every colstep columns: 2 for even strides, else 1 */
    int32_t slots;   /* pairs per window row */
    int32_t ng;      /* tap pairs per kernel row: ceil(kw / 2) */
    int32_t quads;   /* ceil(C / 4) */
} dwp_geom_t;

static dwp_geom_t dwp_geometry(const evo_depthwise_conv2d_s8_params_t *p)
{
    dwp_geom_t g;
    g.colstep = (p->stride_w % 2 == 0) ? 2 : 1;
    g.ng = (p->kw + 1) / 2;
    g.slots = (p->stride_w * (p->out.w - 1) + 2 * (g.ng - 1)) / g.colstep + 1;
    g.quads = (p->in.c + 3) / 4;
    return g;
}

int32_t evo_depthwise_conv2d_s8_pairs_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p)
{
    const dwp_geom_t g = dwp_geometry(p);
    return (p->kh * g.slots * 16 + 15) & ~15;
}

/* The four int8 channels [4q, 4q + 4) of input column x of one row, or the zero point for
 * columns in the padding (and channels past C), as one little-endian word. */
static inline uint32_t dwp_column(const int8_t *row, int32_t x, int32_t w, int32_t ch, int32_t nc, uint32_t zp4)
{
    if (x < 0 || x >= w) {
        return zp4;
    }
    if (nc == 4) {
        return evo_s32_ld(row + (size_t)x * ch);
    } else {
        uint32_t v = zp4;
        int32_t c;
        for (c = 0; c < nc; ++c) {
            v = (v & ~(0xFFu << (8 * c))) | ((uint32_t)(uint8_t)row[(size_t)x * ch + c] << (8 * c));
        }
        return v;
    }
}

/* Widen input row `row` (channels of quad q start at row[0]) into window row `dst`. */
static void dwp_widen_row(uint32_t *dst, const int8_t *row, const evo_depthwise_conv2d_s8_params_t *p,
                          const dwp_geom_t *g, int32_t nc, uint32_t off2, uint32_t zp4)
{
    const int32_t w = p->in.w, ch = p->in.c, pw = p->pad_w, step = g->colstep;
    int32_t k, x = -pw;
    uint32_t a = dwp_column(row, x, w, ch, nc, zp4);
    for (k = 0; k < g->slots; ++k, x += step) {
        const uint32_t b = dwp_column(row, x + 1, w, ch, nc, zp4);
        const uint32_t lo = evo_s32_pkhbt(a, b), hi = evo_s32_pkhtb(a, b);
        dst[0] = evo_s32_sxtab16(off2, lo);
        dst[1] = evo_s32_sxtab16_r8(off2, lo);
        dst[2] = evo_s32_sxtab16(off2, hi);
        dst[3] = evo_s32_sxtab16_r8(off2, hi);
        dst += 4;
        a = step == 1 ? b : dwp_column(row, x + 2, w, ch, nc, zp4);
    }
}

/* Requantise the four accumulators of one pixel (mode fixed per call site) and store nc bytes. */
static EVO_ALWAYS_INLINE void dwp_store(const int32_t *acc, const int32_t *q, int8_t *out, int32_t nc, int mode,
                                        const evo_depthwise_conv2d_s8_params_t *p)
{
    int32_t c;
    for (c = 0; c < nc; ++c) {
        const int32_t a2 = acc[c], m = q[4 + 3 * c], t = q[5 + 3 * c], e = q[6 + 3 * c];
        int32_t r;
        if (mode == EVO_DWP_MODE_EXACT) {
            r = evo_requantize(a2 / 2, m, e) + p->output_offset;
            r = EVO_CLAMP(r, p->act_min, p->act_max);
        } else {
            r = evo_s32_ssat8(evo_s32_smmlar(a2, m, t + (a2 >> 31)) >> e);
            if (mode == EVO_DWP_MODE_FAST_CLAMP) {
                r = EVO_CLAMP(r, p->act_min, p->act_max);
            }
        }
        out[c] = (int8_t)r;
    }
}

/* One output row of one quad. NG: tap pairs per kernel row; JSTEP: window slots between them. */
static EVO_ALWAYS_INLINE void dwp_out_row(const evo_depthwise_conv2d_s8_params_t *p, const uint32_t *const *rows,
                                          int32_t nrows, const int32_t *wq, const int32_t *q, int8_t *out,
                                          int32_t nc, int32_t NG, int32_t JSTEP, int32_t slot_step, int mode)
{
    const int32_t ow = p->out.w;
    const size_t ostep = (size_t)p->out.c;
    int32_t x, r, j;
    for (x = 0; x < ow; ++x) {
        int32_t acc[4];
        const int32_t *w = wq;
        acc[0] = q[0];
        acc[1] = q[1];
        acc[2] = q[2];
        acc[3] = q[3];
        for (r = 0; r < nrows; ++r) {
            const uint32_t *v = rows[r] + (size_t)x * slot_step * 4;
            for (j = 0; j < NG; ++j) {
                const uint32_t *vj = v + j * JSTEP * 4;
                acc[0] = evo_s32_smlad(vj[0], (uint32_t)w[0], acc[0]);
                acc[1] = evo_s32_smlad(vj[1], (uint32_t)w[1], acc[1]);
                acc[2] = evo_s32_smlad(vj[2], (uint32_t)w[2], acc[2]);
                acc[3] = evo_s32_smlad(vj[3], (uint32_t)w[3], acc[3]);
                w += 4;
            }
        }
        dwp_store(acc, q, out, nc, mode, p);
        out += ostep;
    }
}

evo_status_t evo_depthwise_conv2d_s8_pairs(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                           const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch)
{
    const dwp_geom_t g = dwp_geometry(p);
    const int32_t kh = p->kh, ih = p->in.h, ch = p->in.c, mode = qpack[0];
    const uint32_t off2 = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    const uint32_t zp4 = (uint32_t)(uint8_t)(int8_t)(-p->input_offset) * 0x01010101u;
    const int32_t jstep = 2 / g.colstep, slot_step = p->stride_w / g.colstep;
    uint32_t *const window = (uint32_t *)scratch;
    const uint32_t *rows[DWP_MAX_KH];
    int32_t b, q, oy, r;

    if (p->in.n != p->out.n || p->in.c != p->out.c || p->depth_multiplier != 1 || p->dil_h != 1 || p->dil_w != 1 ||
        kh < 1 || kh > DWP_MAX_KH || p->kw < 1 || p->stride_h < 1 || p->stride_w < 1 || scratch == NULL) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * ih * p->in.w * ch;
        int8_t *out_b = output + (size_t)b * p->out.h * p->out.w * ch;
        for (q = 0; q < g.quads; ++q) {
            const int32_t nc = (ch - 4 * q) < 4 ? (ch - 4 * q) : 4;
            const int32_t *qq = qpack + 4 + 16 * q;
            int32_t next = 0; /* first input row not yet in the window */
            for (oy = 0; oy < p->out.h; ++oy) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int32_t r_lo = iy0 < 0 ? -iy0 : 0;
                const int32_t r_hi = (ih - iy0) < kh ? (ih - iy0) : kh;
                const int32_t *wq = wpack + ((size_t)q * kh + r_lo) * g.ng * 4;
                int8_t *out = out_b + (size_t)oy * p->out.w * ch + 4 * q;
                if (next < iy0 + r_lo) {
                    next = iy0 + r_lo;
                }
                for (; next < iy0 + r_hi; ++next) {
                    dwp_widen_row(window + (size_t)(next % kh) * g.slots * 4,
                                  in_b + (size_t)next * p->in.w * ch + 4 * q, p, &g, nc, off2, zp4);
                }
                for (r = r_lo; r < r_hi; ++r) {
                    rows[r - r_lo] = window + (size_t)((iy0 + r) % kh) * g.slots * 4;
                }
                if (mode == EVO_DWP_MODE_FAST && g.ng == 2) {
                    dwp_out_row(p, rows, r_hi - r_lo, wq, qq, out, nc, 2, jstep, slot_step, EVO_DWP_MODE_FAST);
                } else if (mode == EVO_DWP_MODE_FAST) {
                    dwp_out_row(p, rows, r_hi - r_lo, wq, qq, out, nc, g.ng, jstep, slot_step, EVO_DWP_MODE_FAST);
                } else if (mode == EVO_DWP_MODE_FAST_CLAMP && g.ng == 2) {
                    dwp_out_row(p, rows, r_hi - r_lo, wq, qq, out, nc, 2, jstep, slot_step, EVO_DWP_MODE_FAST_CLAMP);
                } else if (mode == EVO_DWP_MODE_FAST_CLAMP) {
                    dwp_out_row(p, rows, r_hi - r_lo, wq, qq, out, nc, g.ng, jstep, slot_step, EVO_DWP_MODE_FAST_CLAMP);
                } else {
                    dwp_out_row(p, rows, r_hi - r_lo, wq, qq, out, nc, g.ng, jstep, slot_step, EVO_DWP_MODE_EXACT);
                }
            }
        }
    }
    return EVO_OK;
}
