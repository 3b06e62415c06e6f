/* LceBconv2d 1x1 fast path (BBPointwiseConv2D), bit-packed output. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_pw_bin(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int32_t *output)
{
    const int32_t words = p->words;
    const size_t pixels = (size_t)p->out.n * p->out.h * p->out.w;
    size_t px;
    int32_t co;
    for (px = 0; px < pixels; ++px) {
        const int32_t *x = input + px * words;
        int32_t *out = output + px * p->out_words;
        uint32_t word = 0;
        for (co = 0; co < p->out.c; ++co) {
            const int32_t accum = evo_xor_popcount(x, filter + (size_t)co * words, words);
            word |= (uint32_t)(accum > p->threshold[co]) << (co & 31);
            if ((co & 31) == 31 || co == p->out.c - 1) {
                out[co >> 5] = (int32_t)word;
                word = 0;
            }
        }
    }
    return EVO_OK;
}
