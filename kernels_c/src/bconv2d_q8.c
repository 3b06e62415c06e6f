/* LceBconv2d made from an int8 CONV_2D (binary input codes and weights): the int8 convolution's
 * exact int32 accumulator from the XOR-popcount, then TFLM's requantisation. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_q8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int8_t *output, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
    const evo_bnn_requant_t *rq = &p->rq;
    evo_bconv2d_pixel_t px;
    int32_t co, more;
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        const int32_t npad = evo_bconv2d_gather(p, px.in_b, px.y0, px.x0, scratch);
        int8_t *out = output + px.pix * p->out.c;
        for (co = 0; co < p->out.c; ++co) {
            const int32_t *filt_c = filter + (size_t)co * fsize;
            int32_t acc = rq->offset[co] + rq->factor[co] * evo_xor_popcount(scratch, filt_c, fsize);
            if (npad > 0 && !p->pad_value) { /* TFLM pads with the zero point: those taps add 0 */
                acc -= rq->pad_term[co] * (npad * p->in.c - 2 * evo_bconv2d_pad_popcount(p, filt_c, px.y0, px.x0));
            }
            out[co] = evo_bnn_requant_s8(rq, co, acc);
        }
    }
    return EVO_OK;
}
