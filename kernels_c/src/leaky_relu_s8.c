/* LEAKY_RELU int8: identity rescale for x >= 0, alpha rescale for x < 0, clamp to int8. */
#include "evo/activation.h"
#include "evo/fixedpoint.h"

evo_status_t evo_leaky_relu_s8(const evo_leaky_relu_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_offset;
        int32_t v = p->output_offset;
        if (x >= 0) {
            v += evo_requantize(x, p->multiplier_identity, p->shift_identity);
        } else {
            const int32_t scaled = evo_requantize(x, p->multiplier_alpha, p->shift_alpha);
            v += p->alpha_negative ? -scaled : scaled;
        }
        output[i] = (int8_t)EVO_CLAMP(v, -128, 127);
    }
    return EVO_OK;
}
