/* MEAN, float32: sequential float sum over the reduced dimensions (row-major order, as TFLM
 * accumulates) divided by the element count. */
#include "evo/pool.h"

evo_status_t evo_mean_f32(const evo_mean_params_t *p, const float *input, float *output)
{
    int32_t ob[4], ib[4], stride[4];
    int32_t o0, o1, o2, o3, i0, i1, i2, i3;
    size_t out_index = 0;
    const float count = (float)p->count;
    evo_mean_extents(p, stride, ob, ib);
    for (o0 = 0; o0 < ob[0]; ++o0) {
        for (o1 = 0; o1 < ob[1]; ++o1) {
            for (o2 = 0; o2 < ob[2]; ++o2) {
                for (o3 = 0; o3 < ob[3]; ++o3) {
                    float sum = 0.0f;
                    for (i0 = 0; i0 < ib[0]; ++i0) {
                        for (i1 = 0; i1 < ib[1]; ++i1) {
                            for (i2 = 0; i2 < ib[2]; ++i2) {
                                const float *row = input + (size_t)(o0 + i0) * stride[0] + (size_t)(o1 + i1) * stride[1] +
                                                   (size_t)(o2 + i2) * stride[2] + (size_t)o3;
                                for (i3 = 0; i3 < ib[3]; ++i3) {
                                    sum += row[i3];
                                }
                            }
                        }
                    }
                    output[out_index++] = sum / count;
                }
            }
        }
    }
    return EVO_OK;
}
