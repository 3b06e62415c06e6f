/* LceBconv2d 1x1 fast path (BBPointwiseConv2D), float output. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_pw_f32(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, float *output)
{
    const int32_t words = p->words, k = p->in.c;
    const size_t pixels = (size_t)p->out.n * p->out.h * p->out.w;
    size_t px;
    int32_t co;
    for (px = 0; px < pixels; ++px) {
        const int32_t *x = input + px * words;
        float *out = output + px * p->out.c;
        for (co = 0; co < p->out.c; ++co) {
            const int32_t accum = evo_xor_popcount(x, filter + (size_t)co * words, words);
            const int32_t v = EVO_CLAMP(k - 2 * accum, p->clamp_min, p->clamp_max);
            out[co] = (float)v * p->multiplier[co] + p->bias[co];
        }
    }
    return EVO_OK;
}
