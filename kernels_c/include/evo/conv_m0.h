/* int8 CONV_2D, FULLY_CONNECTED and DEPTHWISE_CONV_2D for cores without the DSP extension
 * (Cortex-M0/M0+, ARMv6-M), on the engines of kernels_c/src/mm_s8_m0.c with a weight stream laid
 * out at generation time by evo/ops/conv_m0.py.
 *
 * What costs on an M0 is not the multiply (MULS is one instruction) but everything around it:
 * sign extension, address arithmetic, and the requantisation's 64-bit multiply (a libgcc call of
 * ~50 instructions). So the engines compute four (or five) output channels of one pixel at a
 * time: per tap, one load of the input (LDRSB of the raw int8 byte, or LDM from a copy widened to
 * int32), one LDM of the channels' weights stored as int32 (no extension, no address
 * arithmetic), one MULS and one ADD per channel into accumulators held in r8-r12. The input
 * offset is folded into the accumulators' starts (bias + input_offset * sum of the channel's
 * weights), so padded taps read the input zero point and every tap is the same multiply-add.
 *
 * Stream (int32 words), per block of four output channels (a last partial block is padded with
 * zero-weight channels that are computed but not stored):
 *   start[4]      s * (bias + input_offset * sum(w)) per channel
 *   w[K][4]       s * w, K = kh * kw * in_c in TFLite filter order (fy, fx, c)
 *   quant[4][Q]   per channel: the requantisation's constants (below), Q words
 * s = 2 in modes EVO_M0_RQ16 and EVO_M0_EXACT (the doubled accumulator x = 2a), 1 in EVO_M0_RQ11.
 * With 5 lanes (the 5-channel engine), blocks of five channels: start[5], w[K][5], then the
 * quant records of channels 4, 0, 1, 2, 3; the channels left over (at most four) end the stream
 * as one block of four. The 5-channel engine reads the field from a copy widened to int32 on the
 * stack, one LDM per tap, which frees the registers for a fifth accumulator.
 *
 * Requantisation. For a right shift e >= 1 TFLM's MultiplyByQuantizedMultiplier(a, M, -e) + zp
 * equals (evo/ops/depthwise_fast.py has the proof)
 *     out = (T0 - [a < 0] + hm) >> e,  T0 = 2^(e-1) + zp * 2^e,  hm = floor((a * M + 2^30) / 2^31),
 * and, nesting the floors, out = floor((a * M + 2^30 + (T0 - [a < 0]) * 2^31) / 2^(31 + e)).
 * Both fast modes subtract act_min in T0, so the shifted result is out - act_min and the clamp is
 * one unsigned compare against act_max - act_min (against 255 by a shift where the act range is
 * the whole int8 range), and act_min is added back before the byte store.
 *
 * EVO_M0_RQ16 (|a| < 2^29), Q = 6: {mh, ml, mh, ml, T, e}. hm = floor((x * M + 2^31) / 2^32),
 * x = 2a, from 16-bit pieces: x = xh * 2^16 + xl (xl = x & 0xFFFF, xh = x >> 16, so xh < 0
 * exactly when x < 0) and M = mh * 2^16 + ml (ml = the sign-extended low half):
 *     hm = xh * mh + floor((xh * ml + xl * mh + 2^15 + floor(xl * ml / 2^16)) / 2^16).
 * For |x| < 2^30 every product fits int32 (|xl * ml| < 2^31, 0 <= xl * mh < 2^31,
 * |xh * ml| < 2^29) and the inner sum lies in [-2^29, 2^31 + 2^30): plus 2^29 it is a 32-bit
 * unsigned value, so a logical shift gives its floor plus 2^13, which T takes back:
 *     T = 2^(e-1) + (zp - act_min) * 2^e - 2^13,  out - act_min = (T - [x < 0] + hm) >> e.
 * mh and ml are stored twice so that one LDM gives the four multiplications their operands
 * (MULS overwrites one).
 *
 * EVO_M0_RQ11 (|a| < 2^20), Q = 5: {m0, m1, m2, T', e + 9}. M = m2 * 2^22 + m1 * 2^11 + m0
 * (m0, m1 < 2^11, m2 <= 2^9), so each product a * m fits int32 and
 *     V = a * m2 + ((a * m1 + ((a * m0) >> 11)) >> 11) = floor(a * M / 2^22)
 * (nested floors). 2^30 + (T0 - [a < 0]) * 2^31 is a multiple of 2^22, so
 *     out - act_min = (V + T' - 512 [a < 0]) >> (9 + e),  T' = 2^8 + 2^9 (2^(e-1) + (zp - act_min) 2^e).
 * Five instructions fewer per output than RQ16.
 *
 * The generator checks the accumulator bound from the weights, the bias and the input offset,
 * and that the sums with T cannot overflow; left shifts, larger accumulators or constants use
 * EVO_M0_EXACT (TFLM's arithmetic in C), Q = 6: {multiplier, shift, output_offset, 0, 0, 0};
 * where even |2a| < 2^31 does not hold the layer keeps the portable kernel. */
#ifndef EVO_CONV_M0_H
#define EVO_CONV_M0_H

#include "evo/common.h"

#define EVO_M0_RQ16 0  /* fast requantisation from 16-bit pieces */
#define EVO_M0_EXACT 2 /* TFLM's requantisation (libgcc 64-bit multiply) */
#define EVO_M0_RQ11 3  /* fast requantisation from 11-bit pieces */

#define EVO_M0_QUANT_WORDS 6   /* per channel, RQ16 and EXACT */
#define EVO_M0_QUANT11_WORDS 5 /* per channel, RQ11 */
#define EVO_M0_BIAS_2P29 (1 << 29)

/* What the engine needs besides the field and the stream. lanes: 4, or 5 for the 5-channel
 * engine of CONV_2D / FULLY_CONNECTED (fields of at most EVO_M0_LANES5_MAX_K taps, widened to
 * int32 on the stack: 4 * k bytes). */
typedef struct {
    int32_t mode;
    int32_t act_min, act_max;
    int32_t lanes;
} evo_m0_rq_t;

#define EVO_M0_LANES5_MAX_K 128

/* out[c] for the `channels` channels of `stream` from the k int8 inputs at x (raw bytes: the
 * input offset is in the stream's starts). kernels_c/src/mm_s8_m0.c. */
void evo_mm_s8_m0(const int8_t *x, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq, int8_t *out);

/* Depthwise (depth multiplier 1): out[c] for `channels` channels, channel c reading byte c of
 * the k tap pixels tab[0..k) (padded taps point at a pixel of zero points). words: every tap
 * pixel is 4-byte aligned and channels % 4 == 0, so four channels come in one word load. */
void evo_dw_s8_m0(const int8_t *const *tab, int32_t k, const int32_t *stream, int32_t channels, const evo_m0_rq_t *rq,
                  int words, int8_t *out);

typedef struct {
    evo_dims4_t in;  /* input  N, H, W, C */
    evo_dims4_t out; /* output N, OH, OW, OC */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* leading (top/left) padding */
    int32_t input_offset; /* -input zero point: padded taps read the zero point */
    evo_m0_rq_t rq;
    int32_t scratch_bytes; /* a gathered field (fields that are not one contiguous run) */
} evo_conv2d_s8_m0_params_t;

typedef struct {
    int32_t batches; /* input flattened to [batches, depth] */
    int32_t units;
    int32_t depth;
    evo_m0_rq_t rq;
} evo_fully_connected_s8_m0_params_t;

/* DEPTHWISE_CONV_2D with depth multiplier 1 (evo_depthwise_conv2d_s8_m0t): no scratch; padded taps
 * read `zp`, one pixel of input zero points (in.c bytes, 4-byte aligned). At most
 * EVO_M0T_MAX_TAPS filter taps (the table of tap addresses is on the stack). */
#define EVO_M0T_MAX_TAPS 32

typedef struct {
    evo_dims4_t in;  /* input  N, H, W, C */
    evo_dims4_t out; /* output N, OH, OW, C */
    int32_t kh, kw;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    evo_m0_rq_t rq;
} evo_depthwise_conv2d_s8_m0t_params_t;

static inline int32_t evo_depthwise_conv2d_s8_m0t_get_buffer_size(const evo_depthwise_conv2d_s8_m0t_params_t *p)
{
    (void)p;
    return 0;
}

evo_status_t evo_depthwise_conv2d_s8_m0t(const evo_depthwise_conv2d_s8_m0t_params_t *p, const int8_t *input,
                                         const int32_t *stream, const int32_t *zp, int8_t *output, void *scratch);
evo_status_t evo_depthwise_conv2d_s8_m0t_rows(const evo_depthwise_conv2d_s8_m0t_params_t *p, const int8_t *input,
                                              const int32_t *filter, const int32_t *bias, int8_t *output, void *scratch);

/* Bytes of scratch: one gathered receptive field (kh * kw * in_c bytes, rounded up to 4) where
 * some field is not one contiguous run of the input, else 0 (evo/ops/conv_m0.py computes it).
 * Fields of at most EVO_M0_STACK_PATCH bytes may also be gathered on the stack (scratch 0). */
#define EVO_M0_STACK_PATCH 128
static inline int32_t evo_conv2d_s8_m0_get_buffer_size(const evo_conv2d_s8_m0_params_t *p)
{
    return p->scratch_bytes;
}

/* zp: one filter row of input zero points (kw * in_c bytes; NULL where every field is one
 * contiguous run of the input), in the slot of the convolutions' bias (the row-streaming
 * wrapper's signature, evo/inplace.h). */
evo_status_t evo_conv2d_s8_m0(const evo_conv2d_s8_m0_params_t *p, const int8_t *input, const int32_t *stream,
                              const int32_t *zp, int8_t *output, void *scratch);
evo_status_t evo_conv2d_s8_m0_rows(const evo_conv2d_s8_m0_params_t *p, const int8_t *input, const int32_t *stream,
                                   const int32_t *bias, int8_t *output, void *scratch);
evo_status_t evo_fully_connected_s8_m0(const evo_fully_connected_s8_m0_params_t *p, const int8_t *input,
                                       const int32_t *stream, int8_t *output);

/* Stages of fused row-streamed groups (evo/stream.h, evo/memory/stream.py): one output row of
 * the kernel on a one-row problem. */
typedef struct {
    const evo_conv2d_s8_m0_params_t *p;
    const int32_t *stream;
    const int32_t *zp;
} evo_conv2d_s8_m0_stage_t;

typedef struct {
    const evo_depthwise_conv2d_s8_m0t_params_t *p;
    const int32_t *stream;
    const int32_t *zp;
} evo_depthwise_conv2d_s8_m0t_stage_t;

evo_status_t evo_conv2d_s8_m0_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top, void *out,
                                  void *scratch);
evo_status_t evo_depthwise_conv2d_s8_m0t_row(const void *stage, const void *const *in, int32_t in_rows, int32_t pad_top,
                                             void *out, void *scratch);

#endif
