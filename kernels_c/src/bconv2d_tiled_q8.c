/* LceBconv2d (BBConv2D), made from an int8 CONV_2D: the exact int32 accumulator, then TFLM's requantisation; channel tiles of four (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_q8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *tap_pop,
                                  int8_t *output, int32_t *scratch)
{
    const int32_t taps = p->kh * p->kw;
    const int32_t fsize = taps * p->words;
    const evo_bnn_requant_t *rq = &p->rq;
    evo_bconv2d_pixel_t px;
    int32_t co, l, more;
    int32_t accum[EVO_BNN_LANES];
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        int8_t *out = output + px.pix * p->out.c;
        const int32_t npad = evo_bconv2d_gather(p, px.in_b, px.y0, px.x0, scratch);
        const int32_t *tile = filter;
        for (co = 0; co < p->out.c; co += EVO_BNN_LANES) {
            const int32_t lanes = evo_bnn_next_tile(p, scratch, &tile, fsize, co, accum);
            for (l = 0; l < lanes; ++l) {
                const int32_t c = co + l;
                int32_t acc = rq->offset[c] + rq->factor[c] * accum[l];
                if (npad > 0 && !p->pad_value) { /* TFLM pads with the zero point: those taps add 0 */
                    acc -= rq->pad_term[c] * (npad * p->in.c - 2 * evo_bnn_pad_pop(p, tap_pop + (size_t)c * taps, px.y0, px.x0));
                }
                out[c] = evo_bnn_requant_s8(rq, c, acc);
            }
        }
    }
    return EVO_OK;
}
