/* LceBconv2d (BBConv2D), float output: clamp(K_eff - 2 accum) * multiplier + bias; channel pairs (evo/bnn_tiled.h). */
#include "evo/bnn_tiled.h"

evo_status_t evo_bconv2d_tiled_f32(const evo_bconv2d_params_t *p, const int32_t *input, const int32_t *filter, const int32_t *row_pop,
                                  const int32_t *tap_pop, float *output, int32_t *scratch)
{
    return evo_bconv2d_tiled_affine(p, input, filter, row_pop, tap_pop, output, 0, scratch);
}
