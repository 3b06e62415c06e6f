/* AVERAGE_POOL_2D, int8: window sum divided by the number of in-bounds elements, rounded
 * half away from zero, clamped to the activation range (TFLM reference_integer_ops). */
#include "evo/pool_int.h"

evo_status_t evo_avg_pool2d_s8(const evo_avg_pool2d_params_t *p, const int8_t *input, int8_t *output)
{
    return evo_avg_pool2d_int(p, input, output, 0);
}
