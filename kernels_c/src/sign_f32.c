/* SIGN float32: +1 for x > 0, -1 for x < 0, 0 otherwise (0, -0 and NaN), like TFLite. */
#include "evo/bnn.h"

evo_status_t evo_sign_f32(const evo_sign_params_t *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const float v = input[i];
        output[i] = (float)((v > 0.0f) - (v < 0.0f));
    }
    return EVO_OK;
}
