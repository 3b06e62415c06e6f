/* QBConv2D: int8 input, binary (+-w[c]) weights stored as sign bits, add/sub accumulation,
 * bit-exact with the int8 CONV_2D it replaces. */
#include "evo/bnn.h"

/* Gather one output pixel's receptive field as x - zero_point in HWI order (padded taps 0, which
 * is what TFLM's zero-point padding contributes); returns the sum of the field. */
static int32_t qbconv_gather(const evo_qbconv2d_params_t *p, const int8_t *in_b, int32_t y0, int32_t x0, int32_t *buf)
{
    const int32_t c = p->in.c;
    int32_t fy, fx, i, total = 0;
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = y0 + fy * p->dil_h;
        const int32_t row_ok = iy >= 0 && iy < p->in.h;
        for (fx = 0; fx < p->kw; ++fx) {
            const int32_t ix = x0 + fx * p->dil_w;
            if (row_ok && ix >= 0 && ix < p->in.w) {
                const int8_t *src = in_b + ((size_t)iy * p->in.w + ix) * c;
                for (i = 0; i < c; ++i) {
                    const int32_t v = (int32_t)src[i] + p->input_offset;
                    buf[i] = v;
                    total += v;
                }
            } else {
                for (i = 0; i < c; ++i) {
                    buf[i] = 0;
                }
            }
            buf += c;
        }
    }
    return total;
}

/* Sum of the field values whose weight sign bit is set (weight -w[c]); the filter is one bit
 * string over the flattened field, 32 values per word. */
static int32_t qbconv_negative_sum(const int32_t *field, const int32_t *filt_c, int32_t words)
{
    int32_t wi, i, neg = 0;
    for (wi = 0; wi < words; ++wi) {
        uint32_t bits = (uint32_t)filt_c[wi];
        /* unused high bits of the last word are 0, so the loop stops inside the field */
        for (i = 0; bits != 0u; ++i) {
            neg += field[i] & -(int32_t)(bits & 1u);
            bits >>= 1;
        }
        field += 32;
    }
    return neg;
}

evo_status_t evo_qbconv2d_s8(const evo_qbconv2d_params_t *p, const int8_t *input, const int32_t *filter, int8_t *output, int32_t *scratch)
{
    int32_t b, oy, ox, co;
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->in.c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const size_t pix = ((size_t)b * p->out.h + oy) * p->out.w + ox;
                const int32_t total = qbconv_gather(p, in_b, y0, x0, scratch);
                int8_t *out = output + pix * p->out.c;
                for (co = 0; co < p->out.c; ++co) {
                    const int32_t t = total - 2 * qbconv_negative_sum(scratch, filter + (size_t)co * p->words, p->words);
                    out[co] = evo_bnn_requant_s8(&p->rq, co, p->rq.offset[co] + p->rq.factor[co] * t);
                }
            }
        }
    }
    return EVO_OK;
}
