/* Pooling and spatial reductions: AVERAGE_POOL_2D, MAX_POOL_2D, MEAN (int8 and float32).
 * Arithmetic matches TFLite Micro's reference kernels; see evo/ops/pool.py. */
#ifndef EVO_POOL_H
#define EVO_POOL_H

#include "evo/common.h"

/* 2-D pooling over NHWC tensors. The int8 kernels use act_min/act_max, the float kernels
 * act_min_f/act_max_f (the fused activation's clamp range). */
typedef struct {
    evo_dims4_t in;
    evo_dims4_t out;
    int32_t stride_h, stride_w;
    int32_t filter_h, filter_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
    float act_min_f, act_max_f;
} evo_pool2d_params_t;

typedef evo_pool2d_params_t evo_avg_pool2d_params_t;
typedef evo_pool2d_params_t evo_max_pool2d_params_t;

evo_status_t evo_avg_pool2d_s8(const evo_avg_pool2d_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_avg_pool2d_f32(const evo_avg_pool2d_params_t *p, const float *input, float *output);
evo_status_t evo_max_pool2d_s8(const evo_max_pool2d_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_max_pool2d_f32(const evo_max_pool2d_params_t *p, const float *input, float *output);
/* int16 (16x8 mode): the int8 arithmetic on int16 data. */
evo_status_t evo_avg_pool2d_s16(const evo_avg_pool2d_params_t *p, const int16_t *input, int16_t *output);
evo_status_t evo_max_pool2d_s16(const evo_max_pool2d_params_t *p, const int16_t *input, int16_t *output);

/* MEAN over the dimensions flagged in `reduce` of an input viewed as 4-D (`dims`, leading 1s
 * for lower ranks). Output elements are the kept dimensions in row-major order (the same
 * with and without keep_dims). int8: out = clamp(requant(sum - in_zp * count, multiplier,
 * shift) + out_zp) with 1/count already folded into multiplier/shift. */
typedef struct {
    int32_t dims[4];
    int32_t reduce[4];
    int32_t count;
    int32_t mode;
    int32_t in_zp, out_zp;
    int32_t multiplier, shift;
} evo_mean_params_t;

/* MEAN's walk: the row-major element stride of each of the 4 dims, and the extents of the kept
 * (ob: 1 where reduced) and the reduced (ib: 1 where kept) index along each. */
static inline void evo_mean_extents(const evo_mean_params_t *p, int32_t stride[4], int32_t ob[4], int32_t ib[4])
{
    int32_t k;
    stride[3] = 1;
    for (k = 2; k >= 0; --k) {
        stride[k] = stride[k + 1] * p->dims[k + 1];
    }
    for (k = 0; k < 4; ++k) {
        ob[k] = p->reduce[k] ? 1 : p->dims[k];
        ib[k] = p->reduce[k] ? p->dims[k] : 1;
    }
}

evo_status_t evo_mean_s8(const evo_mean_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_mean_s16(const evo_mean_params_t *p, const int16_t *input, int16_t *output); /* 16x8 */
evo_status_t evo_mean_f32(const evo_mean_params_t *p, const float *input, float *output);

#endif
