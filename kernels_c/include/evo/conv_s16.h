/* The 16x8 convolution family: int16 activations (symmetric, zero point 0), int8 weights,
 * int64 bias, as TFLite Micro's reference kernels for int16 inputs compute them.
 *
 * Every kernel accumulates sum(filter * input) + bias in int64 (taps outside the image are
 * skipped), rescales with evo_requantize_s64 (TFLite's int64 MultiplyByQuantizedMultiplier:
 * the multiplier rounded to 16 bits, one rounding right shift) and clamps to
 * [act_min, act_max]. Layouts as in evo/conv.h. */
#ifndef EVO_CONV_S16_H
#define EVO_CONV_S16_H

#include "evo/common.h"
#include "evo/conv.h"

typedef struct {
    evo_dims4_t in;  /* input  N, H, W, C */
    evo_dims4_t out; /* output N, OH, OW, OC */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* leading (top/left) padding */
    int32_t act_min, act_max;
    const int32_t *multiplier; /* [OC] */
    const int32_t *shift;      /* [OC], TFLite convention (positive = left) */
} evo_conv2d_s16_params_t;

typedef struct {
    evo_dims4_t in;
    evo_dims4_t out; /* out.c == in.c * depth_multiplier */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t depth_multiplier;
    int32_t act_min, act_max;
    const int32_t *multiplier;
    const int32_t *shift;
} evo_depthwise_conv2d_s16_params_t;

typedef struct {
    int32_t batches; /* input flattened to [batches, depth] */
    int32_t units;
    int32_t depth;
    int32_t weights_offset; /* -filter zero point (per-tensor weights; 0 otherwise) */
    int32_t act_min, act_max;
    const int32_t *multiplier; /* [units] */
    const int32_t *shift;      /* [units] */
} evo_fully_connected_s16_params_t;

/* The output-pixel walk shared by the 16x8 conv and depthwise kernels, over the geometry their
 * params have in common (EVO_CONV_S16_GEOM takes it from either). Pixels go in row-major
 * (b, oy, ox) order: `pix` is the output pixel index, `batch` the element index of batch b's
 * input, (y0, x0) the input position of tap (0, 0), and taps [ky_lo, ky_hi) x [kx_lo, kx_hi)
 * fall inside the image. */
typedef struct {
    evo_dims4_t in, out;
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
} evo_conv_s16_geom_t;

#define EVO_CONV_S16_GEOM(p)                                                                                  \
    { (p)->in, (p)->out, (p)->kh, (p)->kw, (p)->stride_h, (p)->stride_w, (p)->dil_h, (p)->dil_w, (p)->pad_h, (p)->pad_w }

typedef struct {
    size_t pix, batch;
    int32_t b, oy, ox;
    int32_t y0, x0;
    int32_t ky_lo, ky_hi, kx_lo, kx_hi;
} evo_conv_s16_window_t;

static inline void evo_conv_s16_window_place(const evo_conv_s16_geom_t *g, evo_conv_s16_window_t *w)
{
    w->batch = (size_t)w->b * g->in.h * g->in.w * g->in.c;
    w->y0 = w->oy * g->stride_h - g->pad_h;
    w->x0 = w->ox * g->stride_w - g->pad_w;
    evo_conv_tap_range(w->y0, g->dil_h, g->in.h, g->kh, &w->ky_lo, &w->ky_hi);
    evo_conv_tap_range(w->x0, g->dil_w, g->in.w, g->kw, &w->kx_lo, &w->kx_hi);
}

/* The first output pixel; 0 when the output is empty. */
static inline int evo_conv_s16_window_first(const evo_conv_s16_geom_t *g, evo_conv_s16_window_t *w)
{
    w->pix = 0;
    w->b = w->oy = w->ox = 0;
    evo_conv_s16_window_place(g, w);
    return g->in.n > 0 && g->out.h > 0 && g->out.w > 0;
}

/* Step to the next output pixel; 0 after the last. */
static inline int evo_conv_s16_window_next(const evo_conv_s16_geom_t *g, evo_conv_s16_window_t *w)
{
    ++w->pix;
    if (!evo_next_bhw(&w->b, &w->oy, &w->ox, g->in.n, g->out.h, g->out.w)) {
        return 0;
    }
    evo_conv_s16_window_place(g, w);
    return 1;
}

evo_status_t evo_conv2d_s16(const evo_conv2d_s16_params_t *p, const int16_t *input, const int8_t *filter,
                            const int64_t *bias, int16_t *output);
evo_status_t evo_depthwise_conv2d_s16(const evo_depthwise_conv2d_s16_params_t *p, const int16_t *input,
                                      const int8_t *filter, const int64_t *bias, int16_t *output);
evo_status_t evo_fully_connected_s16(const evo_fully_connected_s16_params_t *p, const int16_t *input,
                                     const int8_t *weights, const int64_t *bias, int16_t *output);

/* TFLite's MultiplyByQuantizedMultiplier(int64_t, int32_t, int): round the Q31 multiplier to
 * Q15, multiply, one rounding right shift by 15 - shift; the result is truncated to int32 (the
 * reference's static_cast, reached only when the scales are inconsistent). */
static inline int32_t evo_requantize_s64(int64_t acc, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (int64_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int32_t total = 15 - shift;
    const int64_t r = (acc * reduced + ((int64_t)1 << (total - 1))) >> total;
    return (int32_t)(uint32_t)(uint64_t)r;
}

/* Clamp an int16 kernel's rescaled value to the activation range. */
static inline int16_t evo_clamp_s16(int32_t v, int32_t lo, int32_t hi)
{
    return (int16_t)EVO_CLAMP(v, lo, hi);
}

#endif
