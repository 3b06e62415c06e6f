/* LceBconv2d made from an int8 CONV_2D (binary input codes and weights): the int8 convolution's
 * exact int32 accumulator from the XOR-popcount, then TFLM's requantisation. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_q8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int8_t *output, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
    const evo_bnn_requant_t *rq = &p->rq;
    int32_t b, oy, ox, co;
    for (b = 0; b < p->in.n; ++b) {
        const int32_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->words;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const size_t pix = ((size_t)b * p->out.h + oy) * p->out.w + ox;
                const int32_t npad = evo_bconv2d_gather(p, in_b, y0, x0, scratch);
                int8_t *out = output + pix * p->out.c;
                for (co = 0; co < p->out.c; ++co) {
                    const int32_t *filt_c = filter + (size_t)co * fsize;
                    int32_t acc = rq->offset[co] + rq->factor[co] * evo_xor_popcount(scratch, filt_c, fsize);
                    if (npad > 0 && !p->pad_value) { /* TFLM pads with the zero point: those taps add 0 */
                        acc -= rq->pad_term[co] * (npad * p->in.c - 2 * evo_bconv2d_pad_popcount(p, filt_c, y0, x0));
                    }
                    out[co] = evo_bnn_requant_s8(rq, co, acc);
                }
            }
        }
    }
    return EVO_OK;
}
