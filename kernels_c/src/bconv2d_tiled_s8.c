/* LceBconv2d (BBConv2D), int8 output: round(clamp(K_eff - 2 accum) * multiplier + bias), saturated; channel tiles of four (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_s8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *tap_pop,
                                  int8_t *output, int32_t *scratch)
{
    const int32_t taps = p->kh * p->kw;
    const int32_t fsize = taps * p->words;
    const int32_t k_full = p->kh * p->kw * p->in.c;
    int32_t b, oy, ox, co, l;
    int32_t accum[EVO_BNN_LANES];
    for (b = 0; b < p->in.n; ++b) {
        const int32_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->words;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int8_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * p->out.c;
                const int32_t npad = evo_bconv2d_gather(p, in_b, y0, x0, scratch);
                const int32_t *tile = filter;
                for (co = 0; co < p->out.c; co += EVO_BNN_LANES) {
                    const int32_t lanes = p->out.c - co < EVO_BNN_LANES ? p->out.c - co : EVO_BNN_LANES;
                    evo_bnn_xor_popcount4(scratch, tile, fsize, accum);
                    tile += (size_t)fsize * EVO_BNN_LANES;
                    for (l = 0; l < lanes; ++l) {
                        const int32_t c = co + l;
                        int32_t a = accum[l], k_eff = k_full;
                        int32_t v;
                        if (npad > 0 && !p->pad_value) { /* padded taps drop out: remove their +1 contribution */
                            a -= evo_bnn_pad_pop(p, tap_pop + (size_t)c * taps, y0, x0);
                            k_eff -= npad * p->in.c;
                        }
                        v = EVO_CLAMP(k_eff - 2 * a, p->clamp_min, p->clamp_max);
                        out[c] = evo_bnn_round_s8((float)v * p->multiplier[c] + p->bias[c]);
                    }
                }
            }
        }
    }
    return EVO_OK;
}
