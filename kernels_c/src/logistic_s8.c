/* LOGISTIC int8 (output scale 1/256, zero point -128): input rescaled to Q4.27, gemmlowp
 * logistic, result Q0.31 -> Q0.8; inputs beyond the radius saturate. */
#include "evo/activation.h"
#include "evo/gemmlowp_fixedpoint.h"

evo_status_t evo_logistic_s8(const evo_logistic_params_t *p, const int8_t *input, int8_t *output)
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
            const int32_t y = evo_rounding_divide_by_pot(evo_gl_logistic(x_q4, 4), 23) - 128;
            output[i] = (int8_t)EVO_CLAMP(y, -128, 127);
        }
    }
    return EVO_OK;
}
