/* FULLY_CONNECTED, int8 activations and weights (per-tensor with optional weights offset, or
 * per-channel), int32 bias. Bit-exact with TFLite Micro's reference FullyConnected /
 * FullyConnectedPerChannel:
 *   sum_d (w + woff)(x + xoff) = sum_d w*x + woff * sum_d x + w_offset_sum[u]
 * where w_offset_sum[u] = xoff * sum_d w + depth * xoff * woff is precomputed. */
#include "evo/conv.h"
#include "evo/fixedpoint.h"

evo_status_t evo_fully_connected_s8(const evo_fully_connected_s8_params_t *p, const int8_t *input,
                                    const int8_t *weights, const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->depth;
    int32_t b, u, d;

    if (p->batches < 0 || p->units < 0 || depth < 0) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        int32_t x_term = 0;
        if (p->weights_offset != 0) {
            int32_t sum_x = 0;
            for (d = 0; d < depth; ++d) {
                sum_x += x[d];
            }
            x_term = sum_x * p->weights_offset;
        }
        for (u = 0; u < p->units; ++u) {
            const int8_t *w = weights + (size_t)u * depth;
            int32_t acc = 0;
            int32_t out;
            for (d = 0; d < depth; ++d) {
                acc += (int32_t)x[d] * (int32_t)w[d];
            }
            acc += x_term + p->w_offset_sum[u];
            if (bias != NULL) {
                acc += bias[u];
            }
            out = evo_requantize(acc, p->multiplier[u], p->shift[u]) + p->output_offset;
            out = EVO_CLAMP(out, p->act_min, p->act_max);
            *output++ = (int8_t)out;
        }
    }
    return EVO_OK;
}
