/* LceBconv2d (BBConv2D), int8 output: round(clamp(K_eff - 2 accum) * multiplier + bias), saturated. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_s8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int8_t *output, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
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
                    const int32_t v = evo_bconv2d_value(p, scratch, filter + (size_t)co * fsize, y0, x0, npad);
                    out[co] = evo_bnn_round_s8((float)v * p->multiplier[co] + p->bias[co]);
                }
            }
        }
    }
    return EVO_OK;
}
