/* AVERAGE_POOL_2D, int16 (16x8 mode), the int8 kernel's arithmetic (evo/pool_int.h). */
#include "evo/pool_int.h"

evo_status_t evo_avg_pool2d_s16(const evo_avg_pool2d_params_t *p, const int16_t *input, int16_t *output)
{
    return evo_avg_pool2d_int(p, input, output, 1);
}
