/* TANH int8 (output scale 1/128, zero point 0): input rescaled to Q4.27, gemmlowp tanh,
 * result Q0.31 -> Q0.7; inputs beyond the radius saturate. */
#include "evo/activation.h"
#include "evo/gemmlowp_fixedpoint.h"

evo_status_t evo_tanh_s8(const evo_tanh_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = -128;
        } else if (x >= p->input_range_radius) {
            output[i] = 127;
        } else {
            const int32_t x_q4 = evo_requantize(x, p->input_multiplier, p->input_left_shift);
            const int32_t y = evo_rounding_divide_by_pot(evo_gl_tanh(x_q4, 4), 24);
            output[i] = (int8_t)EVO_CLAMP(y, -128, 127);
        }
    }
    return EVO_OK;
}
