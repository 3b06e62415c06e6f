/* MEAN, int16 (16x8 mode; TFLM QuantizedMeanOrSum, as mean_s8.c; evo/pool_int.h). */
#include "evo/pool_int.h"

evo_status_t evo_mean_s16(const evo_mean_params_t *p, const int16_t *input, int16_t *output)
{
    return evo_mean_int(p, input, output, 1);
}
