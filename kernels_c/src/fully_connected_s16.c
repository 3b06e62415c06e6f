/* FULLY_CONNECTED, 16x8: int16 input, int8 weights [units, depth] (per-tensor with optional
 * weights offset, or per-channel), int64 bias, int16 output. Bit-exact with TFLite Micro's
 * reference FullyConnected / FullyConnectedPerChannel for int16 inputs (evo/conv_s16.h). */
#include "evo/conv_s16.h"

evo_status_t evo_fully_connected_s16(const evo_fully_connected_s16_params_t *p, const int16_t *input,
                                     const int8_t *weights, const int64_t *bias, int16_t *output)
{
    const int32_t depth = p->depth;
    int32_t b, u, d;
    if (p->batches < 0 || p->units < 0 || depth < 0) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const int16_t *x = input + (size_t)b * depth;
        for (u = 0; u < p->units; ++u) {
            const int8_t *w = weights + (size_t)u * depth;
            int64_t acc = 0;
            for (d = 0; d < depth; ++d) {
                acc += (int32_t)x[d] * ((int32_t)w[d] + p->weights_offset);
            }
            if (bias != NULL) {
                acc += bias[u];
            }
            output[(size_t)b * p->units + u] = evo_clamp_s16(evo_requantize_s64(acc, p->multiplier[u], p->shift[u]), p->act_min, p->act_max);
        }
    }
    return EVO_OK;
}
