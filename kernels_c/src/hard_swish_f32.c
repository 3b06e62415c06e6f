/* HARD_SWISH float32: x * min(6, max(0, x + 3)) / 6. */
#include "evo/activation.h"

evo_status_t evo_hard_swish_f32(const evo_act_f32_params_t *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const float x = input[i];
        float r = x + 3.0f;
        r = r < 0.0f ? 0.0f : r;
        r = r > 6.0f ? 6.0f : r;
        output[i] = x * r / 6.0f;
    }
    return EVO_OK;
}
