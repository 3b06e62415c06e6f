/* LceDequantize, bit-packed int32 -> float32 +-1 (set bit: -1). */
#include "evo/bnn.h"

evo_status_t evo_lce_dequantize_f32(const evo_lce_dequantize_params_t *p, const int32_t *input, float *output)
{
    int32_t o, c;
    for (o = 0; o < p->outer; ++o) {
        const int32_t *x = input + (size_t)o * p->words;
        float *y = output + (size_t)o * p->channels;
        for (c = 0; c < p->channels; ++c) {
            y[c] = (((uint32_t)x[c >> 5] >> (c & 31)) & 1u) ? -1.0f : 1.0f;
        }
    }
    return EVO_OK;
}
