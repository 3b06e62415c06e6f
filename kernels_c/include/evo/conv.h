/* Convolution family: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int8 and float32).
 *
 * Layouts follow TFLite: activations NHWC, conv filters [OC, KH, KW, IC], depthwise filters
 * [1, KH, KW, IC * M] (output channel = in_channel * M + m), fully-connected weights
 * [units, depth]. Biases are optional (NULL).
 *
 * int8 kernels compute, per output, sum(filter * (input + input_offset)) + bias in int32 (taps
 * outside the image are skipped), requantise with the per-output-channel multiplier/shift
 * (evo_requantize), add output_offset and clamp to [act_min, act_max]. `w_offset_sum[c]` is
 * input_offset * sum of channel c's weights (for fully connected, plus the weights-offset
 * constant term), so windows that lie entirely inside the image need a single multiply-add per
 * tap. */
#ifndef EVO_CONV_H
#define EVO_CONV_H

#include "evo/common.h"

typedef struct {
    evo_dims4_t in;  /* input  N, H, W, C */
    evo_dims4_t out; /* output N, OH, OW, OC */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* leading (top/left) padding */
    int32_t input_offset; /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min, act_max;
    const int32_t *multiplier; /* [OC] */
    const int32_t *shift;      /* [OC], TFLite convention (positive = left) */
    const int32_t *w_offset_sum; /* [OC] */
    int32_t patch_bytes; /* scratch used for the im2col patch (0: direct loop, no scratch) */
} evo_conv2d_s8_params_t;

typedef struct {
    evo_dims4_t in;
    evo_dims4_t out;
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    float act_min, act_max;
} evo_conv2d_f32_params_t;

typedef struct {
    evo_dims4_t in;
    evo_dims4_t out; /* out.c == in.c * depth_multiplier */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t depth_multiplier;
    int32_t input_offset;
    int32_t output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier;
    const int32_t *shift;
    const int32_t *w_offset_sum;
} evo_depthwise_conv2d_s8_params_t;

typedef struct {
    evo_dims4_t in;
    evo_dims4_t out;
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t depth_multiplier;
    float act_min, act_max;
} evo_depthwise_conv2d_f32_params_t;

typedef struct {
    int32_t batches; /* input flattened to [batches, depth] */
    int32_t units;   /* output features */
    int32_t depth;   /* input features */
    int32_t input_offset;
    int32_t weights_offset; /* -filter zero point (per-tensor weights only, else 0) */
    int32_t output_offset;
    int32_t act_min, act_max;
    const int32_t *multiplier; /* [units] */
    const int32_t *shift;      /* [units] */
    const int32_t *w_offset_sum; /* [units] */
} evo_fully_connected_s8_params_t;

typedef struct {
    int32_t batches;
    int32_t units;
    int32_t depth;
    float act_min, act_max;
} evo_fully_connected_f32_params_t;

/* Convolutions take a trailing `scratch` buffer of evo_<kernel>_get_buffer_size(p) bytes,
 * planned in the arena by EVO's memory planner (CMSIS-NN style: no large stack buffers, which
 * matter on a 2 KiB Cortex-M0 stack). NULL is accepted where the size is 0; evo_conv2d_s8 then
 * falls back to its direct loop. */
evo_status_t evo_conv2d_s8(const evo_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_conv2d_f32(const evo_conv2d_f32_params_t *p, const float *input, const float *filter,
                            const float *bias, float *output, void *scratch);
evo_status_t evo_depthwise_conv2d_s8(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                     const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_depthwise_conv2d_f32(const evo_depthwise_conv2d_f32_params_t *p, const float *input,
                                      const float *filter, const float *bias, float *output, void *scratch);

evo_status_t evo_fully_connected_s8(const evo_fully_connected_s8_params_t *p, const int8_t *input,
                                    const int8_t *weights, const int32_t *bias, int8_t *output);
evo_status_t evo_fully_connected_f32(const evo_fully_connected_f32_params_t *p, const float *input,
                                     const float *weights, const float *bias, float *output);

/* Range [*lo, *hi) of filter taps k (0 <= k < ksize) with 0 <= origin + k * dil < size. */
static inline void evo_conv_tap_range(int32_t origin, int32_t dil, int32_t size, int32_t ksize, int32_t *lo, int32_t *hi)
{
    int32_t a = 0;
    int32_t b = ksize;
    if (origin < 0) {
        a = (-origin + dil - 1) / dil;
    }
    if (origin >= size) {
        b = 0;
    } else {
        const int32_t lim = (size - origin + dil - 1) / dil; /* first k with origin + k*dil >= size */
        if (lim < b) {
            b = lim;
        }
    }
    if (a > b) {
        a = b;
    }
    *lo = a;
    *hi = b;
}

/* Scratch bytes a kernel call uses. For evo_conv2d_s8 the generator decides: the int16 im2col
 * patch of one output pixel (kh * kw * in_c entries rounded up to 8, bytes rounded up to 16),
 * or 0 where the memory planner keeps the arena smaller without it. */
static inline int32_t evo_conv2d_s8_get_buffer_size(const evo_conv2d_s8_params_t *p)
{
    return p->patch_bytes;
}
static inline int32_t evo_conv2d_f32_get_buffer_size(const evo_conv2d_f32_params_t *p) { (void)p; return 0; }
static inline int32_t evo_depthwise_conv2d_s8_get_buffer_size(const evo_depthwise_conv2d_s8_params_t *p) { (void)p; return 0; }
static inline int32_t evo_depthwise_conv2d_f32_get_buffer_size(const evo_depthwise_conv2d_f32_params_t *p) { (void)p; return 0; }

#endif
