/* DEQUANTIZE int16_t -> float32: scale * (q - zero_point). TFLM multiplies in double and rounds to
 * float once; q - zero_point is exact in float and the exact product needs at most 41 bits, so
 * one float multiplication (also a single rounding of the exact product) gives the same bits. */
#include "evo/elementwise.h"

evo_status_t evo_dequantize_s16(const evo_dequantize_params_t *p, const int16_t *in, float *out)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = p->scale * (float)((int32_t)in[i] - p->zero_point);
    }
    return EVO_OK;
}
