/* LceBconv2d (BBConv2D), float output: clamp(K_eff - 2 accum) * multiplier + bias. */
#include "evo/bnn.h"

evo_status_t evo_bconv2d_f32(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, float *output, int32_t *scratch)
{
    return evo_bconv2d_affine(p, input, filter, output, 0, scratch);
}
