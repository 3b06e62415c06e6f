/* LceBconv2d (BBConv2D), float output: clamp(K_eff - 2 accum) * multiplier + bias. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_f32(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, float *output, int32_t *scratch)
{
    const int32_t fsize = p->kh * p->kw * p->words;
    const int32_t k_full = p->kh * p->kw * p->in.c;
    int32_t b, oy, ox, co;
    for (b = 0; b < p->in.n; ++b) {
        const int32_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->words;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const size_t pix = ((size_t)b * p->out.h + oy) * p->out.w + ox;
                const int32_t npad = evo_bconv2d_gather(p, in_b, y0, x0, scratch);
                const int32_t zero_pad = npad > 0 && !p->pad_value;
                float *out = output + pix * p->out.c;
                for (co = 0; co < p->out.c; ++co) {
                    const int32_t *filt_c = filter + (size_t)co * fsize;
                    int32_t k_eff = k_full;
                    int32_t accum = evo_xor_popcount(scratch, filt_c, fsize);
                    if (zero_pad) { /* padded taps drop out: remove their +1 contribution */
                        accum -= evo_bconv2d_pad_popcount(p, filt_c, y0, x0);
                        k_eff -= npad * p->in.c;
                    }
                    const int32_t v = EVO_CLAMP(k_eff - 2 * accum, p->clamp_min, p->clamp_max);
                    out[co] = (float)v * p->multiplier[co] + p->bias[co];
                }
            }
        }
    }
    return EVO_OK;
}
