/* The int8 and int16 (16x8 mode) MEAN kernels share their arithmetic and differ only in the
 * element type: the body below takes `wide` (0: int8, 1: int16) and is called with a constant
 * from one kernel file, so the compiler folds the type choice away (same inner loop as the typed
 * code). The pools keep typed bodies: the shared one cost 5-15% instructions on Cortex-M4. */
#ifndef EVO_POOL_INT_H
#define EVO_POOL_INT_H

#include "evo/fixedpoint.h"
#include "evo/pool.h"

static inline int32_t evo_pool_int_load(const void *a, size_t i, int32_t wide)
{
    return wide ? ((const int16_t *)a)[i] : ((const int8_t *)a)[i];
}

/* v already lies in the element type's range. */
static inline void evo_pool_int_store(void *a, size_t i, int32_t v, int32_t wide)
{
    if (wide) {
        ((int16_t *)a)[i] = (int16_t)v;
    } else {
        ((int8_t *)a)[i] = (int8_t)v;
    }
}

/* MEAN (TFLM QuantizedMeanOrSum): int32 sum over the reduced dimensions, minus in_zp * count,
 * requantised with 1/count folded into the multiplier, plus out_zp, clamped to the type. */
static inline evo_status_t evo_mean_int(const evo_mean_params_t *p, const void *input, void *output, int32_t wide)
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
                                const size_t row = (size_t)(o0 + i0) * stride[0] + (size_t)(o1 + i1) * stride[1] +
                                                   (size_t)(o2 + i2) * stride[2] + (size_t)o3;
                                for (i3 = 0; i3 < ib[3]; ++i3) {
                                    sum += (uint32_t)evo_pool_int_load(input, row + (size_t)i3, wide);
                                }
                            }
                        }
                    }
                    sum -= (uint32_t)p->in_zp * (uint32_t)p->count;
                    acc = evo_requantize((int32_t)sum, p->multiplier, p->shift) + p->out_zp;
                    evo_pool_int_store(output, out_index++, wide ? EVO_CLAMP(acc, -32768, 32767) : EVO_CLAMP(acc, -128, 127), wide);
                }
            }
        }
    }
    return EVO_OK;
}

#endif
