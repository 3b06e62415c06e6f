/* Element-wise kernels: ADD, SUB, MUL, MAXIMUM, MINIMUM (broadcasting), QUANTIZE, DEQUANTIZE.
 *
 * Broadcasting: the Python side reduces the operand shapes to at most EVO_EW_MAX_DIMS output
 * extents (outermost first, padded with leading 1s) plus the element stride of each input along
 * every extent (0 where that input is broadcast). Kernels walk the output in order and keep a
 * running offset into each input. */
#ifndef EVO_ELEMENTWISE_H
#define EVO_ELEMENTWISE_H

#include "evo/common.h"
#include "evo/fixedpoint.h"

#define EVO_EW_MAX_DIMS 6

typedef struct {
    int32_t shape[EVO_EW_MAX_DIMS];   /* output extents, outermost first */
    int32_t stride1[EVO_EW_MAX_DIMS]; /* input 1 element strides (0 = broadcast) */
    int32_t stride2[EVO_EW_MAX_DIMS]; /* input 2 element strides (0 = broadcast) */
} evo_bcast_t;

/* Number of rows: product of every extent but the innermost one. */
static inline int32_t evo_bcast_rows(const evo_bcast_t *b)
{
    int32_t n = 1;
    int d;
    for (d = 0; d < EVO_EW_MAX_DIMS - 1; ++d) {
        n *= b->shape[d];
    }
    return n;
}

/* Move the row counter `idx` (dimensions 0 .. MAX-2) one step and update both input offsets. */
static inline void evo_bcast_next_row(const evo_bcast_t *b, int32_t idx[EVO_EW_MAX_DIMS], int32_t *off1, int32_t *off2)
{
    int d;
    for (d = EVO_EW_MAX_DIMS - 2; d >= 0; --d) {
        idx[d]++;
        *off1 += b->stride1[d];
        *off2 += b->stride2[d];
        if (idx[d] < b->shape[d]) {
            return;
        }
        *off1 -= b->stride1[d] * b->shape[d];
        *off2 -= b->stride2[d] * b->shape[d];
        idx[d] = 0;
    }
}

/* The walk every broadcasting kernel does: for each output element in order,
 * `*out++ = FN(ctx, x, y)` with x, y the matching elements of the two inputs (of type T). */
#define EVO_BCAST_APPLY(b, T, in1, in2, out, FN, ctx)                                   \
    do {                                                                                \
        const int32_t ew_rows_ = evo_bcast_rows(b);                                     \
        const int32_t ew_inner_ = (b)->shape[EVO_EW_MAX_DIMS - 1];                      \
        const int32_t ew_s1_ = (b)->stride1[EVO_EW_MAX_DIMS - 1];                       \
        const int32_t ew_s2_ = (b)->stride2[EVO_EW_MAX_DIMS - 1];                       \
        int32_t ew_idx_[EVO_EW_MAX_DIMS] = {0, 0, 0, 0, 0, 0};                          \
        int32_t ew_off1_ = 0, ew_off2_ = 0, ew_r_, ew_i_;                               \
        for (ew_r_ = 0; ew_r_ < ew_rows_; ++ew_r_) {                                    \
            const T *ew_a_ = (in1) + ew_off1_;                                          \
            const T *ew_b_ = (in2) + ew_off2_;                                          \
            for (ew_i_ = 0; ew_i_ < ew_inner_; ++ew_i_) {                               \
                *(out)++ = FN((ctx), ew_a_[ew_i_ * ew_s1_], ew_b_[ew_i_ * ew_s2_]);      \
            }                                                                           \
            evo_bcast_next_row((b), ew_idx_, &ew_off1_, &ew_off2_);                     \
        }                                                                               \
    } while (0)

/* ADD / SUB on int8: TFLM's left_shift scheme (three SmallerThanOneExp multipliers). */
typedef struct {
    evo_bcast_t bcast;
    int32_t input1_offset; /* -zero_point of input 1 */
    int32_t input2_offset;
    int32_t output_offset; /* zero_point of the output */
    int32_t left_shift;    /* 20 for int8, 15 for int16 */
    int32_t input1_multiplier;
    int32_t input1_shift; /* <= 0 */
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min;
    int32_t act_max;
} evo_addsub_s8_params_t;

/* MUL on int8: one multiplier for in1_scale * in2_scale / out_scale. */
typedef struct {
    evo_bcast_t bcast;
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t act_min;
    int32_t act_max;
} evo_mul_s8_params_t;

/* One ADD (sign 1) or SUB (sign -1) element, shared by the int8 and int16 kernels: both inputs
 * offset, scaled up by 2^left_shift, rescaled to a common scale, combined, requantised to the
 * output (every step MultiplyByQuantizedMultiplierSmallerThanOneExp) and clamped. */
static inline int32_t evo_addsub_one(const evo_addsub_s8_params_t *p, int32_t a, int32_t b, int32_t sign)
{
    const int32_t x1 = (int32_t)((uint32_t)(a + p->input1_offset) << p->left_shift);
    const int32_t x2 = (int32_t)((uint32_t)(b + p->input2_offset) << p->left_shift);
    const int32_t y1 = evo_requantize_lt1(x1, p->input1_multiplier, p->input1_shift);
    const int32_t y2 = evo_requantize_lt1(x2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = (int32_t)(sign > 0 ? (uint32_t)y1 + (uint32_t)y2 : (uint32_t)y1 - (uint32_t)y2);
    const int32_t out = evo_requantize_lt1(raw, p->output_multiplier, p->output_shift) + p->output_offset;
    return EVO_CLAMP(out, p->act_min, p->act_max);
}

/* One MUL element, shared by the int8 and int16 kernels: the product of the offset inputs
 * (fits int32 for both) requantised with one multiplier, offset and clamped. */
static inline int32_t evo_mul_one(const evo_mul_s8_params_t *p, int32_t a, int32_t b)
{
    const int32_t prod = (int32_t)((uint32_t)(a + p->input1_offset) * (uint32_t)(b + p->input2_offset));
    const int32_t out = (int32_t)((uint32_t)evo_requantize(prod, p->output_multiplier, p->output_shift) + (uint32_t)p->output_offset);
    return EVO_CLAMP(out, p->act_min, p->act_max);
}

/* ADD / SUB / MUL on float32. */
typedef struct {
    evo_bcast_t bcast;
    float act_min;
    float act_max;
} evo_binary_f32_params_t;

/* MAXIMUM / MINIMUM (any dtype: the stored values are compared). */
typedef struct {
    evo_bcast_t bcast;
} evo_maxmin_params_t;

/* QUANTIZE float32 -> int8/int16: zero_point + round(x / scale), saturated. */
typedef struct {
    int32_t size;
    float scale;
    int32_t output_zero_point;
} evo_quantize_params_t;

/* One QUANTIZE value before saturation: zero_point + round(x / scale) with the division in float
 * and rounding half away from zero (TFLM's AffineQuantize: TfLiteRound(val / (float)scale)). NaN
 * maps to the zero point and huge quotients saturate, as the float-to-int conversion does on Arm
 * cores. */
static inline int32_t evo_quantize_value(const evo_quantize_params_t *p, float x)
{
    const float limit = 1048576.0f; /* |quotient| beyond 2^20 saturates for any zero point */
    float v = x / p->scale;
    int32_t q;
    float frac;
    if (v != v) {
        v = 0.0f;
    }
    v = v > limit ? limit : v;
    v = v < -limit ? -limit : v;
    q = (int32_t)v; /* truncation toward zero; |v| <= 2^20 here */
    frac = v - (float)q; /* exact */
    if (frac >= 0.5f) {
        q += 1;
    } else if (frac <= -0.5f) {
        q -= 1;
    }
    return q + p->output_zero_point;
}

/* QUANTIZE between integer types: TFLM's Requantize. */
typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t multiplier;
    int32_t shift;
} evo_requantize_params_t;

/* DEQUANTIZE int8/int16 -> float32: scale * (q - zero_point). */
typedef struct {
    int32_t size;
    float scale;
    int32_t zero_point;
} evo_dequantize_params_t;

evo_status_t evo_add_s8(const evo_addsub_s8_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
evo_status_t evo_sub_s8(const evo_addsub_s8_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
/* int16 (16x8 mode): the same parameters with left_shift 15 and zero offsets. */
evo_status_t evo_add_s16(const evo_addsub_s8_params_t *p, const int16_t *in1, const int16_t *in2, int16_t *out);
evo_status_t evo_sub_s16(const evo_addsub_s8_params_t *p, const int16_t *in1, const int16_t *in2, int16_t *out);
evo_status_t evo_mul_s8(const evo_mul_s8_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
evo_status_t evo_mul_s16(const evo_mul_s8_params_t *p, const int16_t *in1, const int16_t *in2, int16_t *out); /* 16x8 */
evo_status_t evo_add_f32(const evo_binary_f32_params_t *p, const float *in1, const float *in2, float *out);
evo_status_t evo_sub_f32(const evo_binary_f32_params_t *p, const float *in1, const float *in2, float *out);
evo_status_t evo_mul_f32(const evo_binary_f32_params_t *p, const float *in1, const float *in2, float *out);
evo_status_t evo_maximum_s8(const evo_maxmin_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
evo_status_t evo_minimum_s8(const evo_maxmin_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *out);
evo_status_t evo_maximum_f32(const evo_maxmin_params_t *p, const float *in1, const float *in2, float *out);
evo_status_t evo_minimum_f32(const evo_maxmin_params_t *p, const float *in1, const float *in2, float *out);
evo_status_t evo_quantize_s8(const evo_quantize_params_t *p, const float *in, int8_t *out);
evo_status_t evo_quantize_s16(const evo_quantize_params_t *p, const float *in, int16_t *out);
evo_status_t evo_requantize_s8_s8(const evo_requantize_params_t *p, const int8_t *in, int8_t *out);
evo_status_t evo_requantize_s8_s16(const evo_requantize_params_t *p, const int8_t *in, int16_t *out);
evo_status_t evo_requantize_s16_s8(const evo_requantize_params_t *p, const int16_t *in, int8_t *out);
evo_status_t evo_requantize_s16_s16(const evo_requantize_params_t *p, const int16_t *in, int16_t *out);
evo_status_t evo_dequantize_s8(const evo_dequantize_params_t *p, const int8_t *in, float *out);
evo_status_t evo_dequantize_s16(const evo_dequantize_params_t *p, const int16_t *in, float *out);

#endif
