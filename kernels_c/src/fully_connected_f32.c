/* FULLY_CONNECTED, float32: input flattened to [batches, depth], weights [units, depth]. */
#include "evo/conv.h"

evo_status_t evo_fully_connected_f32(const evo_fully_connected_f32_params_t *p, const float *input,
                                     const float *weights, const float *bias, float *output)
{
    const int32_t depth = p->depth;
    int32_t b, u, d;

    if (p->batches < 0 || p->units < 0 || depth < 0) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const float *x = input + (size_t)b * depth;
        for (u = 0; u < p->units; ++u) {
            const float *w = weights + (size_t)u * depth;
            float acc = 0.0f;
            for (d = 0; d < depth; ++d) {
                acc += x[d] * w[d];
            }
            if (bias != NULL) {
                acc += bias[u];
            }
            *output++ = EVO_MIN(EVO_MAX(acc, p->act_min), p->act_max);
        }
    }
    return EVO_OK;
}
