/* TANH float32. */
#include <math.h>

#include "evo/activation.h"

evo_status_t evo_tanh_f32(const evo_act_f32_params_t *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        output[i] = tanhf(input[i]);
    }
    return EVO_OK;
}
