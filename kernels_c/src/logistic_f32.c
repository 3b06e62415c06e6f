/* LOGISTIC float32 with TFLM's cut-offs (1 above ~16.62, exp(x) below -9). */
#include <math.h>

#include "evo/activation.h"

evo_status_t evo_logistic_f32(const evo_act_f32_params_t *p, const float *input, float *output)
{
    const float upper = 16.619047164916992188f;
    const float lower = -9.0f;
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const float x = input[i];
        if (x > upper) {
            output[i] = 1.0f;
        } else if (x < lower) {
            output[i] = expf(x);
        } else {
            output[i] = 1.0f / (1.0f + expf(-x));
        }
    }
    return EVO_OK;
}
