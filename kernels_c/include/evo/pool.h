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

/* Walk over a pooling's output pixels in row-major (b, oy, ox) order (the float pools' loop nest
 * and window-bounds rule): the window's in-bounds taps are
 * [fy0, fy1) x [fx0, fx1), tap (fy, fx) reads input row y_origin + fy, column x_origin + fx of
 * batch b, whose first element is at `batch` (an element index); `pix` is the output pixel index. */
typedef struct {
    size_t pix, batch;
    int32_t b, oy, ox;
    int32_t y_origin, x_origin;
    int32_t fy0, fy1, fx0, fx1;
} evo_pool_window_t;

static inline void evo_pool_window_place(const evo_pool2d_params_t *p, evo_pool_window_t *w)
{
    w->batch = (size_t)w->b * p->in.h * p->in.w * p->in.c;
    w->y_origin = w->oy * p->stride_h - p->pad_h;
    w->x_origin = w->ox * p->stride_w - p->pad_w;
    w->fy0 = EVO_MAX(0, -w->y_origin);
    w->fy1 = EVO_MIN(p->filter_h, p->in.h - w->y_origin);
    w->fx0 = EVO_MAX(0, -w->x_origin);
    w->fx1 = EVO_MIN(p->filter_w, p->in.w - w->x_origin);
}

/* The first output pixel; 0 when the output is empty. */
static inline int evo_pool_window_first(const evo_pool2d_params_t *p, evo_pool_window_t *w)
{
    w->pix = 0;
    w->b = w->oy = w->ox = 0;
    evo_pool_window_place(p, w);
    return p->in.n > 0 && p->out.h > 0 && p->out.w > 0;
}

/* Step to the next output pixel; 0 after the last. */
static inline int evo_pool_window_next(const evo_pool2d_params_t *p, evo_pool_window_t *w)
{
    ++w->pix;
    if (!evo_next_bhw(&w->b, &w->oy, &w->ox, p->in.n, p->out.h, p->out.w)) {
        return 0;
    }
    evo_pool_window_place(p, w);
    return 1;
}

/* Element index of channel 0 of the in-bounds tap (fy, fx). */
static inline size_t evo_pool_tap(const evo_pool2d_params_t *p, const evo_pool_window_t *w, int32_t fy, int32_t fx)
{
    return w->batch + ((size_t)(w->y_origin + fy) * p->in.w + (size_t)(w->x_origin + fx)) * p->in.c;
}

/* A row-streamed pooling stage's problem (evo/stream.h): the stage's params narrowed to one
 * output row over in_rows input rows whose window starts pad_top rows into the filter. */
static inline evo_pool2d_params_t evo_pool2d_row_params(const void *stage, int32_t in_rows, int32_t pad_top)
{
    evo_pool2d_params_t q = *(const evo_pool2d_params_t *)stage;
    q.in.h = in_rows;
    q.out.h = 1;
    q.pad_h = pad_top;
    return q;
}

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
