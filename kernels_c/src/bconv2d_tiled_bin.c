/* LceBconv2d (BBConv2D), bit-packed output, channel tiles of four (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int32_t *output, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
    int32_t b, oy, ox, co, l;
    int32_t accum[EVO_BNN_LANES];
    for (b = 0; b < p->in.n; ++b) {
        const int32_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->words;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * p->out_words;
                const int32_t *tile = filter;
                uint32_t word = 0;
                (void)evo_bconv2d_gather(p, in_b, y0, x0, scratch); /* one-padding (or VALID) only */
                for (co = 0; co < p->out.c; co += EVO_BNN_LANES) {
                    const int32_t lanes = p->out.c - co < EVO_BNN_LANES ? p->out.c - co : EVO_BNN_LANES;
                    evo_bnn_xor_popcount4(scratch, tile, fsize, accum);
                    tile += (size_t)fsize * EVO_BNN_LANES;
                    for (l = 0; l < lanes; ++l) { /* tiles never straddle output words (32 % 4 == 0) */
                        word |= (uint32_t)(accum[l] > p->threshold[co + l]) << ((co + l) & 31);
                    }
                    if (((co + lanes) & 31) == 0 || co + lanes == p->out.c) {
                        out[co >> 5] = (int32_t)word;
                        word = 0;
                    }
                }
            }
        }
    }
    return EVO_OK;
}
