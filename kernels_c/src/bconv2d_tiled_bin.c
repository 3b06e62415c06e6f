/* LceBconv2d (BBConv2D), bit-packed output, channel tiles of four (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int32_t *output, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
    evo_bconv2d_pixel_t px;
    int32_t co, l, more;
    int32_t accum[EVO_BNN_LANES];
    for (more = evo_bconv2d_pixel_first(p, input, &px); more; more = evo_bconv2d_pixel_next(p, input, &px)) {
        int32_t *out = output + px.pix * p->out_words;
        const int32_t *tile = filter;
        uint32_t word = 0;
        (void)evo_bconv2d_gather(p, px.in_b, px.y0, px.x0, scratch); /* one-padding (or VALID) only */
        for (co = 0; co < p->out.c; co += EVO_BNN_LANES) {
            const int32_t lanes = evo_bnn_next_tile(p, scratch, &tile, fsize, co, accum);
            for (l = 0; l < lanes; ++l) { /* tiles never straddle output words (32 % 4 == 0) */
                word |= (uint32_t)(accum[l] > p->threshold[co + l]) << ((co + l) & 31);
            }
            if (((co + lanes) & 31) == 0 || co + lanes == p->out.c) {
                out[co >> 5] = (int32_t)word;
                word = 0;
            }
        }
    }
    return EVO_OK;
}
