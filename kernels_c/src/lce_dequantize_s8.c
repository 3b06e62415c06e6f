/* LceDequantize, bit-packed int32 -> int8 quantized +-1 (set bit: q_minus). */
#include "evo/bnn.h"

evo_status_t evo_lce_dequantize_s8(const evo_lce_dequantize_params_t *p, const int32_t *input, int8_t *output)
{
    int32_t o, c;
    for (o = 0; o < p->outer; ++o) {
        const int32_t *x = input + (size_t)o * p->words;
        int8_t *y = output + (size_t)o * p->channels;
        for (c = 0; c < p->channels; ++c) {
            y[c] = (int8_t)((((uint32_t)x[c >> 5] >> (c & 31)) & 1u) ? p->q_minus : p->q_plus);
        }
    }
    return EVO_OK;
}
