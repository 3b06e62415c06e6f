/* TANH int8 (output scale 1/128, zero point 0): input rescaled to Q4.27, gemmlowp tanh,
 * result Q0.31 -> Q0.7; inputs beyond the radius saturate. */
#include "evo/activation.h"
#include "evo/gemmlowp_fixedpoint.h"

evo_status_t evo_tanh_s8(const evo_tanh_params_t *p, const int8_t *input, int8_t *output)
{
    return evo_gl_activation_s8(p, input, output, evo_gl_tanh, 24, 0);
}
