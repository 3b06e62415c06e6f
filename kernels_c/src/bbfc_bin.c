/* BBFC: binary input and weights, bit-packed output (bit set <=> accum > threshold). */
#include "evo/bnn.h"

evo_status_t evo_bbfc_bin(const evo_bfc_params_t *p, const int32_t *input, const int32_t *weights, int32_t *output)
{
    int32_t b, u;
    for (b = 0; b < p->batches; ++b) {
        const int32_t *x = input + (size_t)b * p->words;
        int32_t *out = output + (size_t)b * p->out_words;
        uint32_t word = 0;
        for (u = 0; u < p->units; ++u) {
            const int32_t accum = evo_xor_popcount(x, weights + (size_t)u * p->words, p->words);
            word |= (uint32_t)(accum > p->threshold[u]) << (u & 31);
            if ((u & 31) == 31 || u == p->units - 1) {
                out[u >> 5] = (int32_t)word;
                word = 0;
            }
        }
    }
    return EVO_OK;
}
