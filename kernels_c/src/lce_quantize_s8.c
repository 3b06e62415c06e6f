/* LceQuantize, int8 -> bit-packed int32: bit set <=> x < zero_point. */
#include "evo/bnn.h"

evo_status_t evo_lce_quantize_s8(const evo_lce_quantize_params_t *p, const int8_t *input, int32_t *output)
{
    int32_t o, w, b;
    for (o = 0; o < p->outer; ++o) {
        const int8_t *x = input + (size_t)o * p->channels;
        int32_t *y = output + (size_t)o * p->words;
        for (w = 0; w < p->words; ++w) {
            const int32_t base = w * 32;
            const int32_t n = EVO_MIN(32, p->channels - base);
            uint32_t word = 0;
            for (b = 0; b < n; ++b) {
                word |= (uint32_t)((int32_t)x[base + b] < p->zero_point) << b;
            }
            y[w] = (int32_t)word;
        }
    }
    return EVO_OK;
}
