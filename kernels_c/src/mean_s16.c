/* MEAN, int16 (16x8 mode; TFLM QuantizedMeanOrSum, as mean_s8.c): int32 sum over the reduced dimensions, minus
 * in_zp * count, requantised with 1/count folded into the multiplier, plus out_zp, clamped. */
#include "evo/fixedpoint.h"
#include "evo/pool.h"

evo_status_t evo_mean_s16(const evo_mean_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t ob[4], ib[4], stride[4];
    int32_t o0, o1, o2, o3, i0, i1, i2, i3;
    size_t out_index = 0;
    evo_mean_extents(p, stride, ob, ib);
    for (o0 = 0; o0 < ob[0]; ++o0) {
        for (o1 = 0; o1 < ob[1]; ++o1) {
            for (o2 = 0; o2 < ob[2]; ++o2) {
                for (o3 = 0; o3 < ob[3]; ++o3) {
                    /* Accumulate in uint32 so that overflow wraps as TFLM's int32 sum does. */
                    uint32_t sum = 0;
                    int32_t acc;
                    for (i0 = 0; i0 < ib[0]; ++i0) {
                        for (i1 = 0; i1 < ib[1]; ++i1) {
                            for (i2 = 0; i2 < ib[2]; ++i2) {
                                const int16_t *row = input + (size_t)(o0 + i0) * stride[0] + (size_t)(o1 + i1) * stride[1] +
                                                    (size_t)(o2 + i2) * stride[2] + (size_t)o3;
                                for (i3 = 0; i3 < ib[3]; ++i3) {
                                    sum += (uint32_t)(int32_t)row[i3];
                                }
                            }
                        }
                    }
                    sum -= (uint32_t)p->in_zp * (uint32_t)p->count;
                    acc = evo_requantize((int32_t)sum, p->multiplier, p->shift) + p->out_zp;
                    output[out_index++] = (int16_t)EVO_CLAMP(acc, -32768, 32767);
                }
            }
        }
    }
    return EVO_OK;
}
