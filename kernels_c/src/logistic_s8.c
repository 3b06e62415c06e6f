/* LOGISTIC int8 (output scale 1/256, zero point -128): input rescaled to Q4.27, gemmlowp
 * logistic, result Q0.31 -> Q0.8; inputs beyond the radius saturate. */
#include "evo/activation.h"
#include "evo/gemmlowp_fixedpoint.h"

evo_status_t evo_logistic_s8(const evo_logistic_params_t *p, const int8_t *input, int8_t *output)
{
    return evo_gl_activation_s8(p, input, output, evo_gl_logistic, 23, -128);
}
