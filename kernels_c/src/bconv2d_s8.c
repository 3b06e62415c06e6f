/* LceBconv2d (BBConv2D), int8 output: round(clamp(K_eff - 2 accum) * multiplier + bias), saturated. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_s8(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, int8_t *output, int32_t *scratch)
{
    return evo_bconv2d_affine(p, input, filter, output, 1, scratch);
}
