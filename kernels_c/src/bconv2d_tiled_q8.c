/* LceBconv2d (BBConv2D), made from an int8 CONV_2D: the exact int32 accumulator, then TFLM's requantisation; channel pairs sharing each field load (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_q8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *row_pop,
                                  const int32_t *tap_pop, int8_t *output, int32_t *scratch)
{
    const int32_t taps = p->kh * p->kw;
    const int32_t *accum = scratch + p->field_words;
    const evo_bnn_requant_t *rq = &p->rq;
    evo_bconv2d_pixel_t px;
    int32_t c, more;
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        int8_t *out = output + px.pix * p->out.c;
        const int32_t npad = evo_bnn_count_pixel(p, filter, row_pop, &px, scratch);
        for (c = 0; c < p->out.c; ++c) {
            int32_t acc = rq->offset[c] + rq->factor[c] * accum[c];
            if (npad > 0 && !p->pad_value) { /* TFLM pads with the zero point: those taps add 0 */
                acc -= rq->pad_term[c] * (npad * p->in.c - 2 * evo_bnn_pad_pop(p, tap_pop + (size_t)c * taps, px.y0, px.x0));
            }
            out[c] = evo_bnn_requant_s8(rq, c, acc);
        }
    }
    return EVO_OK;
}
