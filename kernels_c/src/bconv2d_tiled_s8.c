/* LceBconv2d (BBConv2D), int8 output: round(clamp(K_eff - 2 accum) * multiplier + bias), saturated; channel tiles of four (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_s8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *tap_pop,
                                  int8_t *output, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
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
                const int32_t v = evo_bnn_tiled_value(p, tap_pop, c, accum[l], &px, npad);
                out[c] = evo_bnn_round_s8((float)v * p->multiplier[c] + p->bias[c]);
            }
        }
    }
    return EVO_OK;
}
