/* RELU / RELU6 / RELU_N1_TO_1 int8: optional requantisation to the output scale, then clamp. */
#include "evo/activation.h"
#include "evo/fixedpoint.h"

evo_status_t evo_relu_s8(const evo_relu_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        int32_t v = input[i];
        if (p->requantize) {
            v = p->output_offset + evo_requantize(v - p->input_offset, p->multiplier, p->shift);
        }
        output[i] = (int8_t)EVO_CLAMP(v, p->act_min, p->act_max);
    }
    return EVO_OK;
}
