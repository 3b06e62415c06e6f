/* FULLY_CONNECTED, int8 activations and weights (per-tensor with optional weights offset, or
 * per-channel), int32 bias. Bit-exact with TFLite Micro's reference FullyConnected /
 * FullyConnectedPerChannel:
 *   sum_d (w + woff)(x + xoff) = sum_d w*x + woff * sum_d x + w_offset_sum[u]
 * where w_offset_sum[u] = xoff * sum_d w + depth * xoff * woff is precomputed. */
#include "evo/conv.h"
#include "evo/dot_s16.h"
#include "evo/fixedpoint.h"
#include "evo/requant_block.h"
#if defined(__ARM_FEATURE_DSP)
#include "evo/arm_dsp.h"
#define EVO_REQUANTIZE evo_requantize_dsp /* same results, fewer instructions (evo/arm_dsp.h) */
#else
#define EVO_REQUANTIZE evo_requantize
#endif

/* weights_offset * sum(x): the part of sum((x + in_off)(w + w_off)) that the weights' offset adds. */
static int32_t input_term(const int8_t *x, int32_t depth, int32_t weights_offset)
{
    int32_t sum_x = 0, d;
    if (weights_offset == 0) {
        return 0;
    }
    for (d = 0; d < depth; ++d) {
        sum_x += x[d];
    }
    return sum_x * weights_offset;
}

#if !defined(__ARM_FEATURE_DSP) && EVO_VECTOR_LOOPS
#define EVO_FC_CHUNK 128 /* int16 entries of the on-stack input buffer */

/* Vector-unit hosts: units in blocks of EVO_RQ_LANES (requantised together,
 * evo/requant_block.h); the input is widened to int16 a chunk at a time and dotted with four
 * weight rows per pass (evo/dot_s16.h). */
static void fc_blocks(const evo_fully_connected_s8_params_t *p, const int8_t *input, const int8_t *weights,
                      const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->depth, units = p->units;
    int16_t xs[EVO_FC_CHUNK];
    int32_t acc[EVO_RQ_LANES];
    evo_rq_block_t rq;
    int32_t b, u0, d0, d, j;

    for (u0 = 0; u0 < units; u0 += EVO_RQ_LANES) {
        const int32_t n = (units - u0) < EVO_RQ_LANES ? (units - u0) : EVO_RQ_LANES;
        const int rq_ok = evo_rq_block_init(&rq, p->multiplier + u0, p->shift + u0, n);
        for (b = 0; b < p->batches; ++b) {
            const int8_t *x = input + (size_t)b * depth;
            const int32_t x_term = input_term(x, depth, p->weights_offset);
            for (j = 0; j < n; ++j) {
                acc[j] = x_term + p->w_offset_sum[u0 + j] + (bias != NULL ? bias[u0 + j] : 0);
            }
            for (d0 = 0; d0 < depth; d0 += EVO_FC_CHUNK) {
                const int32_t m = (depth - d0) < EVO_FC_CHUNK ? (depth - d0) : EVO_FC_CHUNK;
                for (d = 0; d < m; ++d) {
                    xs[d] = x[d0 + d];
                }
                evo_dot_s16_s8_rows(xs, m, weights + (size_t)u0 * depth + d0, (size_t)depth, n, acc);
            }
            if (rq_ok) {
                evo_rq_block_s8(&rq, acc, n, p->output_offset, p->act_min, p->act_max, output + (size_t)b * units + u0);
            } else {
                for (j = 0; j < n; ++j) {
                    const int32_t out = EVO_REQUANTIZE(acc[j], p->multiplier[u0 + j], p->shift[u0 + j]) + p->output_offset;
                    output[(size_t)b * units + u0 + j] = (int8_t)EVO_CLAMP(out, p->act_min, p->act_max);
                }
            }
        }
    }
}
#endif

evo_status_t evo_fully_connected_s8(const evo_fully_connected_s8_params_t *p, const int8_t *input,
                                    const int8_t *weights, const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->depth;
    int32_t b, u, d;

    if (p->batches < 0 || p->units < 0 || depth < 0) {
        return EVO_ERR_ARG;
    }
#if !defined(__ARM_FEATURE_DSP) && EVO_VECTOR_LOOPS
    fc_blocks(p, input, weights, bias, output);
    return EVO_OK;
#endif
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + (size_t)b * depth;
        const int32_t x_term = input_term(x, depth, p->weights_offset);
        for (u = 0; u < p->units; ++u) {
            const int8_t *w = weights + (size_t)u * depth;
            int32_t acc = 0;
            int32_t out;
#if defined(__ARM_FEATURE_DSP)
            if (u + 1 < p->units) {
                /* two units per pass: per four inputs, one load + two SXTB16 shared, then per
                 * unit one load + two SXTB16 + two SMLAD (reordered pairs, evo/arm_dsp.h) */
                const int8_t *w1 = w + depth;
                int32_t acc1 = 0;
                for (d = 0; d + 4 <= depth; d += 4) {
                    const uint32_t xv = evo_ld32(x + d), wa = evo_ld32(w + d), wb = evo_ld32(w1 + d);
                    const uint32_t xl = evo_sxtb16(xv), xh = evo_sxtb16_ror8(xv);
                    acc = evo_smlad(xl, evo_sxtb16(wa), acc);
                    acc = evo_smlad(xh, evo_sxtb16_ror8(wa), acc);
                    acc1 = evo_smlad(xl, evo_sxtb16(wb), acc1);
                    acc1 = evo_smlad(xh, evo_sxtb16_ror8(wb), acc1);
                }
                for (; d < depth; ++d) {
                    acc += (int32_t)x[d] * (int32_t)w[d];
                    acc1 += (int32_t)x[d] * (int32_t)w1[d];
                }
                acc1 += x_term + p->w_offset_sum[u + 1];
                if (bias != NULL) {
                    acc1 += bias[u + 1];
                }
                out = EVO_REQUANTIZE(acc1, p->multiplier[u + 1], p->shift[u + 1]) + p->output_offset;
                output[1] = (int8_t)EVO_CLAMP(out, p->act_min, p->act_max);
            } else {
                for (d = 0; d < depth; ++d) {
                    acc += (int32_t)x[d] * (int32_t)w[d];
                }
            }
#else
            for (d = 0; d < depth; ++d) {
                acc += (int32_t)x[d] * (int32_t)w[d];
            }
#endif
            acc += x_term + p->w_offset_sum[u];
            if (bias != NULL) {
                acc += bias[u];
            }
            out = EVO_REQUANTIZE(acc, p->multiplier[u], p->shift[u]) + p->output_offset;
            out = EVO_CLAMP(out, p->act_min, p->act_max);
            *output++ = (int8_t)out;
#if defined(__ARM_FEATURE_DSP)
            if (u + 1 < p->units) {
                ++u;
                ++output;
            }
#endif
        }
    }
    return EVO_OK;
}
