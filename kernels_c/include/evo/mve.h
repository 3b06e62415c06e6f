/* CONV_2D and FULLY_CONNECTED (int8) for cores with the M-profile Vector Extension (Helium,
 * Cortex-M55): an int8 matrix product, 16 multiply-accumulates per VMLADAVA, four output
 * channels per pass, with a generation-time weight layout (evo/ops/conv_mve.py).
 *
 * Output channels whose weights are all zero (pruned channels) are not computed: their output
 * is the constant requantised bias, stored per pixel. The others are taken four at a time in
 * groups; a last partial group repeats its first channel (same weights, same store address).
 *
 * Weights: per group, per chunk of 16 depths (the depth padded with zeros to whole chunks), the
 * four channels' 16 bytes: [group][chunk][4][16] int8. The input is loaded with a zeroing tail
 * predicate, so the padding never meets real input bytes.
 *
 * `quant` (int32): groups, constant groups, then per group (EVO_MVE_QUANT_WORDS): bias[4],
 * multiplier[4], left shift[4], -right shift[4], fix mask[4] (-1 where the right shift is >= 1),
 * channel[4]; then per constant group: value[4], channel[4]. The bias has the input offset folded
 * in (bias + input_offset * sum of the channel's weights, modulo 2^32), so the kernel multiplies
 * raw input bytes; int32 sums wrap, so the final sum is TFLM's exactly.
 * The vector form is TFLM's MultiplyByQuantizedMultiplier bit for bit:
 *  - VSHL by the left shift wraps like (uint32_t)x << left;
 *  - VQRDMULH is SaturatingRoundingDoublingHighMul: both are floor((x*m + 2^30) / 2^31),
 *    saturated (TFLM's truncating division of x*m + 1 - 2^30 for negative products is that
 *    same floor);
 *  - RoundingDivideByPOT(x, e) (half away from zero) is VRSHL by -e (half up) applied to x - 1
 *    when x < 0 and e >= 1: for negative x both round floor((x + 2^(e-1) - 1) / 2^e). The
 *    saturating subtract leaves INT32_MIN, where (a multiple of 2^e) both forms agree.
 *    tests/qemu/test_mve_qemu.py checks this on the boundaries under QEMU. */
#ifndef EVO_MVE_H
#define EVO_MVE_H

#include <string.h>

#include "evo/common.h"
#include "evo/fixedpoint.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#define EVO_MVE 1
#else
#define EVO_MVE 0
#endif

#define EVO_MVE_QUANT_WORDS 24

typedef struct {
    int32_t batches; /* input flattened to [batches, depth] */
    int32_t units;
    int32_t depth;
    int32_t output_offset;
    int32_t act_min, act_max;
} evo_fully_connected_s8_mve_params_t;

typedef struct {
    evo_dims4_t in;  /* input  N, H, W, C */
    evo_dims4_t out; /* output N, OH, OW, OC */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;    /* leading (top/left) padding */
    int32_t pad_value;       /* the input zero point: (pad + input_offset) * w = 0, as TFLM's zero padding */
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t scratch_bytes;   /* the im2col row: kh * kw * C bytes; 0 for 1x1 without padding */
} evo_conv2d_s8_mve_params_t;

/* DEPTHWISE_CONV_2D (depth multiplier 1): four channels per int32 vector, per tap a widening load
 * of input and weights, VMUL and VADD (MVE has no lane-wise multiply-accumulate of two vectors).
 * Weights: [group of four channels][tap][4] int8 (zero padded to whole groups). `quant`: per group of four channels the first 20 words
 * of the record above (no channel field: the stores are contiguous, the last one predicated).
 * Border pixels gather their window into the scratch with the zero point in the taps outside the
 * image, which the folded input offset turns into 0 (TFLM skips them). */
typedef struct {
    evo_dims4_t in;  /* input  N, H, W, C */
    evo_dims4_t out; /* output N, OH, OW, C */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t pad_value; /* the input zero point */
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t scratch_bytes; /* a border pixel's window: kh * kw * C bytes (rounded up to 4), or 0:
                            * border pixels test each tap instead (slower, no scratch) */
} evo_depthwise_conv2d_s8_mve_params_t;

#define EVO_MVE_DW_QUANT_WORDS 20

evo_status_t evo_depthwise_conv2d_s8_mve(const evo_depthwise_conv2d_s8_mve_params_t *p, const int8_t *input,
                                         const int8_t *weights, const int32_t *quant, int8_t *output, void *scratch);
evo_status_t evo_depthwise_conv2d_s8_mve_rows(const evo_depthwise_conv2d_s8_mve_params_t *p, const int8_t *input,
                                              const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch);

static inline int32_t evo_depthwise_conv2d_s8_mve_get_buffer_size(const evo_depthwise_conv2d_s8_mve_params_t *p)
{
    return p->scratch_bytes;
}

/* `weights` and `quant` as above; the model's bias is folded into `quant`. */
evo_status_t evo_fully_connected_s8_mve(const evo_fully_connected_s8_mve_params_t *p, const int8_t *input,
                                        const int8_t *weights, const int32_t *quant, int8_t *output);
evo_status_t evo_conv2d_s8_mve(const evo_conv2d_s8_mve_params_t *p, const int8_t *input, const int8_t *weights,
                               const int32_t *quant, int8_t *output, void *scratch);

/* The same, output row by output row, so that the output may overlap the input (evo/inplace.h):
 * `filter` and `bias` are the kernel's `weights` and `quant`. */
evo_status_t evo_conv2d_s8_mve_rows(const evo_conv2d_s8_mve_params_t *p, const int8_t *input, const int8_t *filter,
                                    const int32_t *bias, int8_t *output, void *scratch);

static inline int32_t evo_conv2d_s8_mve_get_buffer_size(const evo_conv2d_s8_mve_params_t *p) { return p->scratch_bytes; }

/* memcpy / memset for the im2col gathers, 16 bytes per vector instruction (newlib-nano's copy
 * bytes one at a time). */
static inline void evo_mve_copy(int8_t *dst, const int8_t *src, int32_t n)
{
#if EVO_MVE
    for (; n > 0; n -= 16, src += 16, dst += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vst1q_p_s8(dst, vld1q_z_s8(src, p), p);
    }
#else
    memcpy(dst, src, (size_t)n);
#endif
}

static inline void evo_mve_fill(int8_t *dst, int8_t value, int32_t n)
{
#if EVO_MVE
    const int8x16_t v = vdupq_n_s8(value);
    for (; n > 0; n -= 16, dst += 16) {
        vst1q_p_s8(dst, v, vctp8q((uint32_t)n));
    }
#else
    memset(dst, value, (size_t)n);
#endif
}

/* acc[0..3] = the group's four channels . x over `depth` (weights of one group, chunked). */
static inline void evo_mve_dot4(const int8_t *x, const int8_t *w, int32_t depth, int32_t acc[4])
{
#if EVO_MVE
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t n = depth;
    for (; n >= 16; n -= 16, x += 16, w += 64) {
        const int8x16_t xv = vld1q_s8(x);
        a0 = vmladavaq_s8(a0, xv, vld1q_s8(w));
        a1 = vmladavaq_s8(a1, xv, vld1q_s8(w + 16));
        a2 = vmladavaq_s8(a2, xv, vld1q_s8(w + 32));
        a3 = vmladavaq_s8(a3, xv, vld1q_s8(w + 48));
    }
    if (n > 0) {
        const mve_pred16_t tail = vctp8q((uint32_t)n);
        const int8x16_t xv = vld1q_z_s8(x, tail); /* lanes past the depth read nothing */
        a0 = vmladavaq_p_s8(a0, xv, vld1q_s8(w), tail);
        a1 = vmladavaq_p_s8(a1, xv, vld1q_s8(w + 16), tail);
        a2 = vmladavaq_p_s8(a2, xv, vld1q_s8(w + 32), tail);
        a3 = vmladavaq_p_s8(a3, xv, vld1q_s8(w + 48), tail);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
#else
    int32_t c, k;
    for (c = 0; c < 4; ++c) {
        uint32_t a = 0; /* wraps like the 32-bit vector sums */
        for (k = 0; k < depth; ++k) {
            a += (uint32_t)((int32_t)x[k] * w[(k / 16) * 64 + c * 16 + k % 16]);
        }
        acc[c] = (int32_t)a;
    }
#endif
}

#if EVO_MVE
/* TFLM's MultiplyByQuantizedMultiplier on four lanes: `q` holds multiplier[4], left shift[4],
 * -right shift[4], fix mask[4] (the record's words 4..19). */
static inline int32x4_t evo_mve_requantize(int32x4_t v, const int32_t *q)
{
    v = vshlq_s32(v, vld1q_s32(q + 4));
    v = vqrdmulhq_s32(v, vld1q_s32(q));
    v = vqaddq_s32(v, vandq_s32(vshrq_n_s32(v, 31), vld1q_s32(q + 12)));
    return vrshlq_s32(v, vld1q_s32(q + 8));
}
#endif

/* Requantises the group's four sums with its record `q` and stores them at dst[q channel]. */
static inline void evo_mve_requant4(const int32_t acc[4], const int32_t *q, int32_t output_offset, int32_t act_min,
                                    int32_t act_max, int8_t *dst)
{
#if EVO_MVE
    int32x4_t v = evo_mve_requantize(vaddq_s32(vld1q_s32(acc), vld1q_s32(q)), q + 4);
    v = vaddq_n_s32(v, output_offset);
    v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
    vstrbq_scatter_offset_s32(dst, vreinterpretq_u32_s32(vld1q_s32(q + 20)), v);
#else
    int32_t c;
    for (c = 0; c < 4; ++c) {
        const int32_t x = (int32_t)((uint32_t)acc[c] + (uint32_t)q[c]);
        int32_t y = evo_requantize(x, q[4 + c], q[8 + c] + q[12 + c]) + output_offset;
        y = y < act_min ? act_min : y;
        dst[q[20 + c]] = (int8_t)(y > act_max ? act_max : y);
    }
#endif
}

/* Stores the `n` constant groups `k` (value[4], channel[4] each) of one pixel at `dst`. */
static inline void evo_mve_constants(const int32_t *k, int32_t n, int8_t *dst)
{
    int32_t i;
    for (i = 0; i < n; ++i, k += 8) {
#if EVO_MVE
        vstrbq_scatter_offset_s32(dst, vreinterpretq_u32_s32(vld1q_s32(k + 4)), vld1q_s32(k));
#else
        int32_t c;
        for (c = 0; c < 4; ++c) {
            dst[k[4 + c]] = (int8_t)k[c];
        }
#endif
    }
}

#endif
