/* MAX_POOL_2D, int8: maximum of the in-bounds window, clamped to the activation range. */
#include "evo/pool_int.h"

evo_status_t evo_max_pool2d_s8(const evo_max_pool2d_params_t *p, const int8_t *input, int8_t *output)
{
    return evo_max_pool2d_int(p, input, output, 0);
}
