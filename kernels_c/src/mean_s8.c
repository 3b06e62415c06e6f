/* MEAN, int8 (TFLM QuantizedMeanOrSum): int32 sum over the reduced dimensions, minus
 * in_zp * count, requantised with 1/count folded into the multiplier, plus out_zp, clamped. */
#include "evo/pool_int.h"

evo_status_t evo_mean_s8(const evo_mean_params_t *p, const int8_t *input, int8_t *output)
{
    return evo_mean_int(p, input, output, 0);
}
