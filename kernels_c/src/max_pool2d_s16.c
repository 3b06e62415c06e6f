/* MAX_POOL_2D, int16 (16x8 mode): maximum of the in-bounds window, clamped to the activation range. */
#include "evo/pool_int.h"

evo_status_t evo_max_pool2d_s16(const evo_max_pool2d_params_t *p, const int16_t *input, int16_t *output)
{
    return evo_max_pool2d_int(p, input, output, 1);
}
