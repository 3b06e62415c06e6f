/* DEPTHWISE_CONV_2D, int8, depth multiplier 1, dilation 1, for cores without the DSP extension
 * (Cortex-M0/M0+): evo/depthwise_fast.h.
 *
 * What costs on an M0 is sign extension, address arithmetic and the requantisation's 64-bit
 * multiply (a library call). So: weights are int32 (plain LDR with an immediate offset, no
 * extension); input rows are copied once into a ring of kh rows padded with the input zero point
 * (rows outside the image point at one zero-point row), and the input offset is folded into the
 * accumulator start (bias + input_offset * sum of the channel's weights), so every output is the
 * same branch-free sum of kh * kw products; the requantisation's high product is formed exactly
 * from four 16 x 16 -> 32 MULS (see m0_mulhi_round). Like the tap-pair kernel, each input row is
 * read only when first copied, before the output row that needs it is written (runs in place). */
#include <string.h>

#include "evo/depthwise_fast.h"
#include "evo/fixedpoint.h"

#define M0_MAX_KH 16

typedef struct {
    int32_t wp;   /* padded row width in pixels */
    int32_t row;  /* bytes per ring row */
} m0_geom_t;

static m0_geom_t m0_geometry(const evo_depthwise_conv2d_s8_params_t *p)
{
    m0_geom_t g;
    const int32_t need = p->stride_w * (p->out.w - 1) + p->kw; /* columns the windows cover */
    g.wp = need > p->pad_w + p->in.w ? need : p->pad_w + p->in.w;
    g.row = g.wp * p->in.c;
    return g;
}

int32_t evo_depthwise_conv2d_s8_m0_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p)
{
    const m0_geom_t g = m0_geometry(p);
    return ((p->kh + 1) * g.row + 15) & ~15;
}

/* floor((a * m + 2^31) / 2^32) for m in [0, 2^31) given as m = mh * 2^16 + ml: what SMMULR gives,
 * from four products that each fit 32 bits (|ah| <= 2^15, mh < 2^15, al, ml < 2^16). The low
 * halves are summed separately (< 2^18) so nothing is lost. */
static inline int32_t m0_mulhi_round(int32_t a, int32_t mh, int32_t ml)
{
    const int32_t ah = a >> 16;
    const uint32_t al = (uint32_t)a & 0xFFFFu;
    const int32_t hh = ah * mh;
    const int32_t hl = ah * ml;
    const uint32_t lh = al * (uint32_t)mh;
    const uint32_t ll = al * (uint32_t)ml;
    const uint32_t t = ((uint32_t)hl & 0xFFFFu) + (lh & 0xFFFFu) + (ll >> 16) + 0x8000u;
    return hh + (hl >> 16) + (int32_t)(lh >> 16) + (int32_t)(t >> 16);
}

/* The fast requantisation (modes 0/1) before the clamp; q: the channel's 5 constants. */
static inline int32_t m0_requant(int32_t acc, const int32_t *q)
{
    const int32_t a2 = (int32_t)((uint32_t)acc << 1);
    return (q[3] + (a2 >> 31) + m0_mulhi_round(a2, q[1], q[2])) >> q[4];
}

/* One output row of a 3x3 filter, channel by channel: the channel's nine weights sit at fixed
 * offsets from one pointer and the three input rows advance by the stride. */
static void m0_row_3x3(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *const *rows, const int32_t *w,
                       const int32_t *q, int8_t *out)
{
    const int32_t ch = p->in.c, och = p->out.c, ow = p->out.w, lo = p->act_min, hi = p->act_max;
    const size_t xstep = (size_t)p->stride_w * ch, ch2 = 2 * (size_t)ch;
    const int32_t cin_step = ch == 1 ? 0 : 1; /* one input channel: every output channel reads it */
    int32_t c, x;
    for (c = 0; c < och; ++c, w += 9, q += 5) {
        const int8_t *v0 = rows[0] + c * cin_step, *v1 = rows[1] + c * cin_step, *v2 = rows[2] + c * cin_step;
        int8_t *o = out + c;
        for (x = 0; x < ow; ++x) {
            int32_t acc = q[0], res;
            acc += v0[0] * w[0] + v0[ch] * w[1] + v0[ch2] * w[2];
            acc += v1[0] * w[3] + v1[ch] * w[4] + v1[ch2] * w[5];
            acc += v2[0] * w[6] + v2[ch] * w[7] + v2[ch2] * w[8];
            res = m0_requant(acc, q);
            *o = (int8_t)EVO_CLAMP(res, lo, hi);
            o += och;
            v0 += xstep;
            v1 += xstep;
            v2 += xstep;
        }
    }
}

evo_status_t evo_depthwise_conv2d_s8_m0(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                        const int32_t *wpack, const int32_t *qpack, int8_t *output, void *scratch)
{
    const m0_geom_t g = m0_geometry(p);
    const int32_t kh = p->kh, kw = p->kw, ih = p->in.h, iw = p->in.w, ch = p->in.c, och = p->out.c, taps = kh * kw;
    const int32_t cin_step = ch == 1 ? 0 : 1;
    const int32_t mode = qpack[0];
    const int8_t zp = (int8_t)(-p->input_offset);
    const size_t xstep = (size_t)p->stride_w * ch;
    int8_t *const ring = (int8_t *)scratch;
    int8_t *const zrow = ring + (size_t)kh * g.row;
    const int8_t *rows[M0_MAX_KH];
    int32_t b, oy, ox, c, r, k;

    if (p->in.n != p->out.n || ch * p->depth_multiplier != och || (p->depth_multiplier != 1 && ch != 1) ||
        p->dil_h != 1 || p->dil_w != 1 ||
        kh < 1 || kh > M0_MAX_KH || kw < 1 || p->stride_h < 1 || p->stride_w < 1 || scratch == NULL) {
        return EVO_ERR_ARG;
    }
    memset(zrow, zp, (size_t)g.row);
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * ih * iw * ch;
        int8_t *out = output + (size_t)b * p->out.h * p->out.w * och;
        int32_t next = 0; /* first input row not yet in the ring */
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (r = 0; r < kh; ++r) {
                const int32_t iy = iy0 + r;
                if (iy < 0 || iy >= ih) {
                    rows[r] = zrow;
                    continue;
                }
                if (iy >= next) { /* copy rows up to iy (rows skipped by a large stride are not needed) */
                    int8_t *dst = ring + (size_t)(iy % kh) * g.row;
                    const size_t lead = (size_t)p->pad_w * ch, body = (size_t)iw * ch;
                    memset(dst, zp, lead);
                    memcpy(dst + lead, in_b + (size_t)iy * body, body);
                    memset(dst + lead + body, zp, (size_t)g.row - lead - body);
                    next = iy + 1;
                }
                rows[r] = ring + (size_t)(iy % kh) * g.row;
            }
            if (kh == 3 && kw == 3 && mode != EVO_DWP_MODE_EXACT) {
                m0_row_3x3(p, rows, wpack, qpack + 4, out);
                out += (size_t)p->out.w * och;
                continue;
            }
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t *w = wpack;
                const int32_t *q = qpack + 4;
                const size_t at = (size_t)ox * xstep;
                for (c = 0; c < och; ++c, w += taps, q += 5) {
                    int32_t acc = q[0], res;
                    const int32_t *wr = w;
                    for (r = 0; r < kh; ++r) {
                        const int8_t *v = rows[r] + at + c * cin_step;
                        for (k = 0; k < kw; ++k) {
                            acc += v[(size_t)k * ch] * wr[k];
                        }
                        wr += kw;
                    }
                    if (mode == EVO_DWP_MODE_EXACT) {
                        res = evo_requantize(acc, q[1], q[4]) + p->output_offset;
                    } else {
                        res = m0_requant(acc, q);
                    }
                    out[c] = (int8_t)EVO_CLAMP(res, p->act_min, p->act_max);
                }
                out += och;
            }
        }
    }
    return EVO_OK;
}
