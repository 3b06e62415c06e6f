/* BBQFC: binary input and weights, int8 output: round(clamp(K - 2 accum) * multiplier + bias). */
#include "evo/bnn.h"

evo_status_t evo_bbqfc_s8(const evo_bfc_params_t *p, const int32_t *input, const int32_t *weights, int8_t *output)
{
    int32_t b, u;
    for (b = 0; b < p->batches; ++b) {
        const int32_t *x = input + (size_t)b * p->words;
        int8_t *out = output + (size_t)b * p->units;
        for (u = 0; u < p->units; ++u) {
            const int32_t accum = evo_xor_popcount(x, weights + (size_t)u * p->words, p->words);
            const int32_t v = EVO_CLAMP(p->channels - 2 * accum, p->clamp_min, p->clamp_max);
            out[u] = evo_bnn_round_s8((float)v * p->multiplier[u] + p->bias[u]);
        }
    }
    return EVO_OK;
}
