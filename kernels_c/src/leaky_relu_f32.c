/* LEAKY_RELU float32: x > 0 ? x : alpha * x. */
#include "evo/activation.h"

evo_status_t evo_leaky_relu_f32(const evo_leaky_relu_f32_params_t *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : x * p->alpha;
    }
    return EVO_OK;
}
