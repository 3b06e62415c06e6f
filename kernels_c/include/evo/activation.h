/* Activation kernels: SOFTMAX, LOGISTIC, TANH, RELU / RELU6 / RELU_N1_TO_1, LEAKY_RELU,
 * HARD_SWISH for int8 and float32. int8 arithmetic matches TFLite Micro's reference kernels;
 * every derived constant is computed in Python (evo/ops/activation.py). */
#ifndef EVO_ACTIVATION_H
#define EVO_ACTIVATION_H

#include "evo/common.h"
#include "evo/fixedpoint.h"
#include "evo/gemmlowp_fixedpoint.h" /* used by the int8 kernels; listed here so codegen ships it */

/* Element count only (float LOGISTIC / TANH / HARD_SWISH). */
typedef struct {
    int32_t size;
} evo_act_f32_params_t;

/* SOFTMAX over the innermost dimension: `outer` rows of `depth` values. */
typedef struct {
    int32_t outer;
    int32_t depth;
    int32_t input_multiplier; /* beta * input_scale * 2^26 as QuantizeMultiplierGreaterThanOne */
    int32_t input_left_shift;
    int32_t diff_min; /* differences below this contribute exp() = 0 */
} evo_softmax_params_t;

typedef struct {
    int32_t outer;
    int32_t depth;
    float beta;
} evo_softmax_f32_params_t;

evo_status_t evo_softmax_s8(const evo_softmax_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_softmax_f32(const evo_softmax_f32_params_t *p, const float *input, float *output);

/* SOFTMAX int16 -> int16 (16x8 mode; output scale 1/32768, zero point 0): exp and 1/(1+x) by
 * 513-entry interpolated tables that the generator computes as TFLM's Prepare does. */
typedef struct {
    int32_t outer, depth;
    int32_t input_multiplier, input_left_shift; /* input_scale * beta / (10 / 65535) */
    const int16_t *exp_lut;   /* exp(x), x in [-10, 0] */
    const int16_t *recip_lut; /* 1 / (1 + x), x in [0, 1] */
} evo_softmax_s16_params_t;

evo_status_t evo_softmax_s16(const evo_softmax_s16_params_t *p, const int16_t *input, int16_t *output);

/* LOGISTIC (output 1/256, zp -128) and TANH (output 1/128, zp 0) on int8. */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} evo_logistic_params_t;

typedef evo_logistic_params_t evo_tanh_params_t;

/* The shared int8 LOGISTIC / TANH loop: x = input - zero point, rescaled to Q4.27 and passed to
 * `f` (evo_gl_logistic or evo_gl_tanh, Q0.31 result), then rounded down by `out_shift` bits,
 * offset by `out_offset` and saturated; inputs beyond the radius saturate to -128 / 127. */
static inline evo_status_t evo_gl_activation_s8(const evo_logistic_params_t *p, const int8_t *input, int8_t *output,
                                                int32_t (*f)(int32_t, int), int out_shift, int32_t out_offset)
{
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t x = (int32_t)input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = -128;
        } else if (x >= p->input_range_radius) {
            output[i] = 127;
        } else {
            const int32_t x_q4 = evo_requantize(x, p->input_multiplier, p->input_left_shift);
            const int32_t y = evo_rounding_divide_by_pot(f(x_q4, 4), out_shift) + out_offset;
            output[i] = (int8_t)EVO_CLAMP(y, -128, 127);
        }
    }
    return EVO_OK;
}

evo_status_t evo_logistic_s8(const evo_logistic_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_logistic_f32(const evo_act_f32_params_t *p, const float *input, float *output);
evo_status_t evo_tanh_s8(const evo_tanh_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_tanh_f32(const evo_act_f32_params_t *p, const float *input, float *output);

/* RELU / RELU6 / RELU_N1_TO_1 on int8: out = clamp(requant(in), act_min, act_max), where
 * requant(x) = output_offset + evo_requantize(x - input_offset, multiplier, shift) when
 * `requantize` is set, else x itself (TFLM's RELU6 clamps in the input's quantization). */
typedef struct {
    int32_t size;
    int32_t input_offset;
    int32_t output_offset;
    int32_t multiplier;
    int32_t shift;
    int32_t act_min;
    int32_t act_max;
    int32_t requantize;
} evo_relu_params_t;

/* Float clamp to [lo, hi] (no upper bound when has_hi is 0). */
typedef struct {
    int32_t size;
    float lo;
    float hi;
    int32_t has_hi;
} evo_relu_f32_params_t;

evo_status_t evo_relu_s8(const evo_relu_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_relu_f32(const evo_relu_f32_params_t *p, const float *input, float *output);

/* LEAKY_RELU on int8: identity multiplier for x >= 0, alpha multiplier (sign kept apart, as
 * TFLM does for negative alpha) for x < 0. */
typedef struct {
    int32_t size;
    int32_t input_offset;
    int32_t output_offset;
    int32_t multiplier_alpha; /* magnitude of the alpha multiplier */
    int32_t shift_alpha;
    int32_t alpha_negative;
    int32_t multiplier_identity;
    int32_t shift_identity;
} evo_leaky_relu_params_t;

typedef struct {
    int32_t size;
    float alpha;
} evo_leaky_relu_f32_params_t;

evo_status_t evo_leaky_relu_s8(const evo_leaky_relu_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_leaky_relu_f32(const evo_leaky_relu_f32_params_t *p, const float *input, float *output);

/* HARD_SWISH on int8 (TFLM's 16-bit fixed-point HardSwish with HardSwishParams). */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t reluish_multiplier_fixedpoint_int16;
    int32_t reluish_multiplier_exponent;
    int32_t output_multiplier_fixedpoint_int16;
    int32_t output_multiplier_exponent;
} evo_hard_swish_params_t;

evo_status_t evo_hard_swish_s8(const evo_hard_swish_params_t *p, const int8_t *input, int8_t *output);
evo_status_t evo_hard_swish_f32(const evo_act_f32_params_t *p, const float *input, float *output);

#endif
