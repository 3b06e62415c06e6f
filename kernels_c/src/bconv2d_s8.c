/* LceBconv2d (BBConv2D), int8 output: round(clamp(K_eff - 2 accum) * multiplier + bias), saturated. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_s8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int8_t *output, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
    evo_bconv2d_pixel_t px;
    int32_t co, more;
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        const int32_t npad = evo_bconv2d_gather(p, px.in_b, px.y0, px.x0, scratch);
        int8_t *out = output + px.pix * p->out.c;
        for (co = 0; co < p->out.c; ++co) {
            const int32_t v = evo_bconv2d_value(p, scratch, filter + (size_t)co * fsize, px.y0, px.x0, npad);
            out[co] = evo_bnn_round_s8((float)v * p->multiplier[co] + p->bias[co]);
        }
    }
    return EVO_OK;
}
