/* LceBconv2d (BBConv2D), bit-packed output: bit set <=> accum > threshold. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int32_t *output, int32_t *scratch)
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
                (void)evo_bconv2d_gather(p, in_b, y0, x0, scratch); /* one-padding (or VALID) only */
                int32_t *out = output + pix * p->out_words;
                uint32_t word = 0;
                for (co = 0; co < p->out.c; ++co) {
                    const int32_t accum = evo_xor_popcount(scratch, filter + (size_t)co * fsize, fsize);
                    word |= (uint32_t)(accum > p->threshold[co]) << (co & 31);
                    if ((co & 31) == 31 || co == p->out.c - 1) {
                        out[co >> 5] = (int32_t)word;
                        word = 0;
                    }
                }
            }
        }
    }
    return EVO_OK;
}
