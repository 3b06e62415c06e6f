/* RELU / RELU6 / RELU_N1_TO_1 float32: clamp to [lo, hi] (NaN passes through). */
#include "evo/activation.h"

evo_status_t evo_relu_f32(const evo_relu_f32_params_t *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        float v = input[i];
        if (v < p->lo) {
            v = p->lo;
        } else if (p->has_hi && v > p->hi) {
            v = p->hi;
        }
        output[i] = v;
    }
    return EVO_OK;
}
