/* CONV_2D, int8 activations and weights (per-channel or broadcast per-tensor), int32 bias.
 * Bit-exact with TFLite Micro's reference ConvPerChannel.
 *
 * Fast path (im2col per output pixel): the receptive field of one output pixel is gathered into
 * the int16 scratch buffer (planned in the arena) as (input + input_offset), with 0 for taps
 * outside the image, and padded with zeros to a multiple of 8 entries. Every output channel is then one contiguous dot
 * product of that buffer with the channel's [KH*KW*IC] weight row, computed four channels at a
 * time so each loaded input is reused; gcc -O3 turns these loops into SIMD multiply-adds.
 * Integer sums are exact, so the result is identical to the reference loop order. Without a
 * scratch buffer the straightforward reference loop runs. */
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


static int8_t conv_finish(const evo_conv2d_s8_params_t *p, const int32_t *bias, int32_t oc, int32_t acc)
{
    int32_t out;
    if (bias != NULL) {
        acc += bias[oc];
    }
    out = EVO_REQUANTIZE(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
    out = EVO_CLAMP(out, p->act_min, p->act_max);
    return (int8_t)out;
}

/* All output channels of one pixel: out[oc] = requant(dot(patch, filter[oc]) + bias[oc]).
 * patch has kp >= k entries, entries [k, kp) are zero. */
static void conv_pixel(const evo_conv2d_s8_params_t *p, const int16_t *patch, int32_t k, int32_t kp,
                       const int8_t *filter, const int32_t *bias, int8_t *out)
{
    const int32_t out_c = p->out.c;
    const size_t total = (size_t)out_c * (size_t)k;
    int32_t oc, i;

    if (k == 8) {
        /* e.g. a 1x1 conv on 8 channels: a fixed-length dot product unrolls completely */
        for (oc = 0; oc < out_c; ++oc) {
            const int8_t *w0 = filter + (size_t)oc * 8;
            int32_t a0 = 0;
            for (i = 0; i < 8; ++i) {
                a0 += (int32_t)patch[i] * w0[i];
            }
            out[oc] = conv_finish(p, bias, oc, a0);
        }
        return;
    }
    for (oc = 0; oc + 4 <= out_c; oc += 4) {
        const int8_t *w0 = filter + (size_t)oc * k;
        const int8_t *w1 = w0 + k;
        const int8_t *w2 = w1 + k;
        const int8_t *w3 = w2 + k;
        /* Reading past row end (into the next rows) is harmless: the patch is zero there. Only
         * the last rows of the filter must stop at k. */
        const int32_t n = ((size_t)(oc + 3) * k + (size_t)kp <= total) ? kp : k;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (i = 0; i < n; ++i) {
            const int32_t x = patch[i];
            a0 += x * w0[i];
            a1 += x * w1[i];
            a2 += x * w2[i];
            a3 += x * w3[i];
        }
        out[oc] = conv_finish(p, bias, oc, a0);
        out[oc + 1] = conv_finish(p, bias, oc + 1, a1);
        out[oc + 2] = conv_finish(p, bias, oc + 2, a2);
        out[oc + 3] = conv_finish(p, bias, oc + 3, a3);
    }
    for (; oc < out_c; ++oc) {
        const int8_t *w0 = filter + (size_t)oc * k;
        int32_t a0 = 0;
        for (i = 0; i < k; ++i) {
            a0 += (int32_t)patch[i] * w0[i];
        }
        out[oc] = conv_finish(p, bias, oc, a0);
    }
}

/* Output pixel (oy, ox), all channels: the reference loop (taps outside the image skipped). */
static void ref_pixel(const evo_conv2d_s8_params_t *p, const int8_t *in_b, int32_t oy, int32_t ox, const int8_t *filter,
                      const int32_t *bias, int8_t *out)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t kh = p->kh, kw = p->kw;
    const int32_t in_off = p->input_offset;
    const int32_t filter_oc_stride = kh * kw * in_c;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    int32_t fy_lo, fy_hi, fx_lo, fx_hi, oc, fy, fx, c;
    evo_conv_tap_range(iy0, p->dil_h, in_h, kh, &fy_lo, &fy_hi);
    evo_conv_tap_range(ix0, p->dil_w, in_w, kw, &fx_lo, &fx_hi);
    for (oc = 0; oc < p->out.c; ++oc) {
        const int8_t *w_oc = filter + (size_t)oc * filter_oc_stride;
        int32_t acc = 0;
        for (fy = fy_lo; fy < fy_hi; ++fy) {
            const int32_t iy = iy0 + fy * p->dil_h;
            const int8_t *in_row = in_b + (size_t)iy * in_w * in_c;
            const int8_t *w_row = w_oc + (size_t)fy * kw * in_c;
            for (fx = fx_lo; fx < fx_hi; ++fx) {
                const int8_t *xp = in_row + (size_t)(ix0 + fx * p->dil_w) * in_c;
                const int8_t *wp = w_row + (size_t)fx * in_c;
                for (c = 0; c < in_c; ++c) {
                    acc += ((int32_t)xp[c] + in_off) * (int32_t)wp[c];
                }
            }
        }
        out[oc] = conv_finish(p, bias, oc, acc);
    }
}

/* Output pixel whose window lies inside the image, dilation 1 along W, without scratch: each
 * filter row is one contiguous run of kw * in_c input bytes, and the input offset folds into
 * w_offset_sum, so every output channel is kh plain int8 dot products (four channels per pass
 * to reuse each loaded input; gcc vectorises the runs on the host). */
static void direct_pixel(const evo_conv2d_s8_params_t *p, const int8_t *in_b, int32_t iy0, int32_t ix0,
                         const int8_t *filter, const int32_t *bias, int8_t *out)
{
    const int32_t in_w = p->in.w, in_c = p->in.c, kh = p->kh, run = p->kw * in_c;
    const int32_t k = kh * run;
    int32_t oc = 0, fy, i;
    for (; oc + 4 <= p->out.c; oc += 4) {
        const int8_t *w0 = filter + (size_t)oc * k;
        const int8_t *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (fy = 0; fy < kh; ++fy) {
            const int8_t *x = in_b + ((size_t)(iy0 + fy * p->dil_h) * in_w + ix0) * in_c;
            const int32_t o = fy * run;
            for (i = 0; i < run; ++i) {
                const int32_t xv = x[i];
                a0 += xv * w0[o + i];
                a1 += xv * w1[o + i];
                a2 += xv * w2[o + i];
                a3 += xv * w3[o + i];
            }
        }
        out[oc] = conv_finish(p, bias, oc, a0 + p->w_offset_sum[oc]);
        out[oc + 1] = conv_finish(p, bias, oc + 1, a1 + p->w_offset_sum[oc + 1]);
        out[oc + 2] = conv_finish(p, bias, oc + 2, a2 + p->w_offset_sum[oc + 2]);
        out[oc + 3] = conv_finish(p, bias, oc + 3, a3 + p->w_offset_sum[oc + 3]);
    }
    for (; oc < p->out.c; ++oc) {
        const int8_t *w0 = filter + (size_t)oc * k;
        int32_t a0 = 0;
        for (fy = 0; fy < kh; ++fy) {
            const int8_t *x = in_b + ((size_t)(iy0 + fy * p->dil_h) * in_w + ix0) * in_c;
            for (i = 0; i < run; ++i) {
                a0 += (int32_t)x[i] * w0[fy * run + i];
            }
        }
        out[oc] = conv_finish(p, bias, oc, a0 + p->w_offset_sum[oc]);
    }
}

/* Without scratch: interior pixels take the direct path, border pixels the reference loop. */
static void conv_reference(const evo_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output)
{
    const int32_t kh_span = (p->kh - 1) * p->dil_h + 1;
    int32_t b, oy, ox;
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->in.c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            const int rows_inside = iy0 >= 0 && iy0 + kh_span <= p->in.h;
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                if (rows_inside && p->dil_w == 1 && ix0 >= 0 && ix0 + p->kw <= p->in.w && p->w_offset_sum != NULL) {
                    direct_pixel(p, in_b, iy0, ix0, filter, bias, output);
                } else {
                    ref_pixel(p, in_b, oy, ox, filter, bias, output);
                }
                output += p->out.c;
            }
        }
    }
}

#if EVO_VECTOR_LOOPS
/* ---------------------------------------------------------------- vector-unit path (hosts, NEON)
 * Loop shapes a compiler vectorises well; Cortex-M builds keep the loops above. */

/* acc[j] += dot(x, filter row oc0 + j from tap kofs on) for j < n, over m entries of x. */
static void chunk_dot(const int16_t *x, int32_t m, const int8_t *filter, int32_t k, int32_t kofs, int32_t oc0, int32_t n,
                      int32_t *acc)
{
    evo_dot_s16_s8_rows(x, m, filter + (size_t)oc0 * k + kofs, (size_t)k, n, acc);
}

/* acc[j] += sum over the receptive field of output pixel (oy, ox) of (input + input_offset) *
 * filter[oc0 + j], taps outside the image counting 0 (the reference skips them). The field is
 * widened to int16 in filter order ([KH][KW][IC]) one buffer of `cap` entries at a time, and
 * each full buffer is dotted with the matching run of every filter row (evo/dot_s16.h). */
static void field_acc(const evo_conv2d_s8_params_t *p, const int8_t *in_b, int32_t oy, int32_t ox, const int8_t *filter,
                      int32_t oc0, int32_t n, int16_t *buf, int32_t cap, int32_t *acc)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t kh = p->kh, kw = p->kw;
    const int32_t k = kh * kw * in_c;
    const int16_t in_off = (int16_t)p->input_offset;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int32_t run_len = kw * in_c;
    const int row_runs = p->dil_w == 1 && ix0 >= 0 && ix0 + kw <= in_w; /* a filter row = one input run */
    int32_t kofs = 0, used = 0, fy, fx, c, i;
    for (fy = 0; fy < kh; ++fy) {
        const int32_t iy = iy0 + fy * p->dil_h;
        const int row_in = iy >= 0 && iy < in_h;
        /* pieces: the whole row when it is one run, else one tap at a time */
        const int32_t pieces = row_runs ? 1 : kw, piece_len = row_runs ? run_len : in_c;
        for (fx = 0; fx < pieces; ++fx) {
            const int32_t ix = ix0 + fx * p->dil_w;
            const int inside = row_in && ix >= 0 && ix < in_w;
            const int8_t *src = in_b + ((size_t)iy * in_w + ix) * in_c;
            for (c = 0; c < piece_len;) {
                const int32_t take = (piece_len - c) < (cap - used) ? (piece_len - c) : (cap - used);
                int16_t *dst = buf + used;
                if (inside) {
                    for (i = 0; i < take; ++i) {
                        dst[i] = (int16_t)(src[c + i] + in_off);
                    }
                } else {
                    for (i = 0; i < take; ++i) {
                        dst[i] = 0;
                    }
                }
                used += take;
                c += take;
                if (used == cap) {
                    chunk_dot(buf, used, filter, k, kofs, oc0, n, acc);
                    kofs += used;
                    used = 0;
                }
            }
        }
    }
    if (used > 0) {
        chunk_dot(buf, used, filter, k, kofs, oc0, n, acc);
    }
}

#define EVO_CONV_CHUNK 128 /* int16 entries of the on-stack field buffer when there is no scratch */

/* Small receptive fields (e.g. a 3x3 convolution of an RGB image, or a 1x1 convolution of a few
 * channels): the whole field fits the stack buffer, so the block's filter rows are widened to
 * int16 once per call (rows padded with zeros to a multiple of 8 entries) and every output is a
 * short int16 x int16 dot product, which needs no widening in the loop and whose length the
 * compiler's vector loop covers without a scalar tail. Costs EVO_CONV_WIDE * 2 bytes of stack. */
#define EVO_CONV_WIDE (EVO_RQ_LANES * EVO_CONV_CHUNK)

/* The field of output pixel (oy, ox): (input + input_offset) as int16 in filter order, 0 for
 * taps outside the image. */
static void gather_field(const evo_conv2d_s8_params_t *p, const int8_t *in_b, int32_t oy, int32_t ox, int16_t *dst)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t kw = p->kw;
    const int16_t in_off = (int16_t)p->input_offset;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int row_runs = p->dil_w == 1 && ix0 >= 0 && ix0 + kw <= in_w; /* a filter row = one input run */
    int32_t fy, fx, c;
    for (fy = 0; fy < p->kh; ++fy) {
        const int32_t iy = iy0 + fy * p->dil_h;
        if (row_runs && iy >= 0 && iy < in_h) {
            const int8_t *src = in_b + ((size_t)iy * in_w + ix0) * in_c;
            for (c = 0; c < kw * in_c; ++c) {
                dst[c] = (int16_t)(src[c] + in_off);
            }
            dst += kw * in_c;
            continue;
        }
        for (fx = 0; fx < kw; ++fx) {
            const int32_t ix = ix0 + fx * p->dil_w;
            if (iy >= 0 && iy < in_h && ix >= 0 && ix < in_w) {
                const int8_t *src = in_b + ((size_t)iy * in_w + ix) * in_c;
                for (c = 0; c < in_c; ++c) {
                    dst[c] = (int16_t)(src[c] + in_off);
                }
            } else {
                for (c = 0; c < in_c; ++c) {
                    dst[c] = 0;
                }
            }
            dst += in_c;
        }
    }
}

/* acc[j] += dot(x, w + j * kp) over kp entries, for j < n. */
static void wide_dot(const int16_t *x, const int16_t *w, int32_t kp, int32_t n, int32_t *acc)
{
    int32_t j = 0, i;
    for (; j + 4 <= n; j += 4) {
        const int16_t *w0 = w + (size_t)j * kp;
        const int16_t *w1 = w0 + kp, *w2 = w1 + kp, *w3 = w2 + kp;
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        for (i = 0; i < kp; ++i) {
            const int32_t xv = x[i];
            a0 += xv * w0[i];
            a1 += xv * w1[i];
            a2 += xv * w2[i];
            a3 += xv * w3[i];
        }
        acc[j] += a0;
        acc[j + 1] += a1;
        acc[j + 2] += a2;
        acc[j + 3] += a3;
    }
    for (; j < n; ++j) {
        const int16_t *w0 = w + (size_t)j * kp;
        int32_t a0 = 0;
        for (i = 0; i < kp; ++i) {
            a0 += (int32_t)x[i] * w0[i];
        }
        acc[j] += a0;
    }
}

/* Output channels go in blocks of EVO_RQ_LANES, outermost, so that each
 * block's requantisation constants are set up once (evo/requant_block.h) and the block's
 * accumulators are requantised together. The field buffer is the scratch patch when the
 * planner gave one (the whole field at once), else a small stack buffer. */
static void conv_portable(const evo_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, int8_t *output, int16_t *patch, int32_t patch_entries)
{
    const int32_t out_c = p->out.c;
    int16_t stack_buf[EVO_CONV_CHUNK];
    int16_t *const buf = patch != NULL ? patch : stack_buf;
    const int32_t cap = patch != NULL ? patch_entries : EVO_CONV_CHUNK;
    const int32_t k = p->kh * p->kw * p->in.c;
    const int32_t kp = (k + 7) & ~7;
    int16_t wide[EVO_CONV_WIDE];
    evo_rq_block_t rq;
    int32_t acc[EVO_RQ_LANES];
    int32_t oc0, b, oy, ox, j;

    for (oc0 = 0; oc0 < out_c; oc0 += EVO_RQ_LANES) {
        const int32_t n = (out_c - oc0) < EVO_RQ_LANES ? (out_c - oc0) : EVO_RQ_LANES;
        const int rq_ok = evo_rq_block_init(&rq, p->multiplier + oc0, p->shift + oc0, n);
        const int small = kp <= EVO_CONV_CHUNK;
        if (small) {
            int32_t i;
            for (j = 0; j < n; ++j) {
                for (i = 0; i < kp; ++i) {
                    wide[j * kp + i] = i < k ? filter[(size_t)(oc0 + j) * k + i] : 0;
                }
            }
            for (i = k; i < kp; ++i) {
                stack_buf[i] = 0;
            }
        }
        for (b = 0; b < p->in.n; ++b) {
            const int8_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->in.c;
            for (oy = 0; oy < p->out.h; ++oy) {
                for (ox = 0; ox < p->out.w; ++ox) {
                    int8_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * out_c + oc0;
                    for (j = 0; j < n; ++j) {
                        acc[j] = bias != NULL ? bias[oc0 + j] : 0;
                    }
                    if (small) {
                        gather_field(p, in_b, oy, ox, stack_buf);
                        wide_dot(stack_buf, wide, kp, n, acc);
                    } else {
                        field_acc(p, in_b, oy, ox, filter, oc0, n, buf, cap, acc);
                    }
                    if (rq_ok) {
                        evo_rq_block_s8(&rq, acc, n, p->output_offset, p->act_min, p->act_max, out);
                    } else {
                        for (j = 0; j < n; ++j) {
                            out[j] = conv_finish(p, NULL, oc0 + j, acc[j]);
                        }
                    }
                }
            }
        }
    }
}
#endif

#if defined(__ARM_FEATURE_DSP)
/* ---------------------------------------------------------------- Cortex-M DSP path (M4/M7/M33)
 * Two output pixels x two output channels per register tile. A pixel's receptive field
 * (kh * kw * in_c int8) is read straight from the input when it is one contiguous run (1x1
 * convolutions, or a single filter row inside the image), else gathered into the byte staging
 * area of the scratch buffer with the input zero point as padding (so input + input_offset is 0
 * there, exactly like a skipped tap). Per group of four taps: one load + two SXTAB16 per pixel
 * (widening and adding input_offset), one load + two SXTB16 per channel, eight SMLAD. Pixels
 * whose field is not contiguous run the reference loop when there is no scratch. */

/* Scratch the DSP path uses: byte staging for two receptive fields. Twin of
 * conv_scratch_bytes in evo/ops/conv.py. */
static int32_t dsp_stage_need(int32_t k)
{
    return 2 * ((k + 3) & ~3);
}

/* The receptive field of output pixel (oy, ox) as k contiguous bytes, or NULL when it would
 * need staging and there is none. */
static const int8_t *dsp_field(const evo_conv2d_s8_params_t *p, const int8_t *in_b, int32_t oy, int32_t ox, int8_t *stg)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t kh = p->kh, kw = p->kw;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    const int zp = -p->input_offset;
    const size_t run = (size_t)kw * (size_t)in_c;
    const int inside_x = (p->dil_w == 1 || kw == 1) && ix0 >= 0 && ix0 + kw <= in_w;
    int8_t *dst = stg;
    int32_t fy, fx;

    if (kh == 1 && inside_x && iy0 >= 0 && iy0 < in_h) {
        return in_b + ((size_t)iy0 * in_w + ix0) * in_c;
    }
    if (stg == NULL) {
        return NULL;
    }
    for (fy = 0; fy < kh; ++fy) {
        const int32_t iy = iy0 + fy * p->dil_h;
        if (iy < 0 || iy >= in_h) {
            memset(dst, zp, run);
        } else if (inside_x) {
            memcpy(dst, in_b + ((size_t)iy * in_w + ix0) * in_c, run);
        } else {
            for (fx = 0; fx < kw; ++fx) {
                const int32_t ix = ix0 + fx * p->dil_w;
                if (ix < 0 || ix >= in_w) {
                    memset(dst + (size_t)fx * in_c, zp, (size_t)in_c);
                } else {
                    memcpy(dst + (size_t)fx * in_c, in_b + ((size_t)iy * in_w + ix) * in_c, (size_t)in_c);
                }
            }
        }
        dst += run;
    }
    return stg;
}

/* acc[2c + x] += sum_i field_x[i] * w_c[i] over i < k (raw int8 inputs: the input offset comes
 * in through w_offset_sum), for fields xa, xb and the filter rows w0, w0 + k. */
static void dsp_tile_2x2(const int8_t *xa, const int8_t *xb, const int8_t *w0, int32_t k, int32_t *acc)
{
    const int8_t *w1 = w0 + k;
    const int8_t *const end = xa + (k & ~3);
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3]; /* a<channel><pixel> */
    int32_t i;
    if (xa < end) {
        uint32_t va, vb, al, bl, wl, wh;
        /* 14 registers: 4 accumulators, 4 pointers, 6 temporaries; the end pointer is reloaded
         * from memory into a free temporary. */
        __asm__ volatile(
            "1:\n\t"
            "ldr %[va], [%[xa]], #4\n\t"
            "ldr %[vb], [%[xb]], #4\n\t"
            "ldr %[wl], [%[w0]], #4\n\t"
            "sxtb16 %[al], %[va]\n\t"
            "sxtb16 %[va], %[va], ror #8\n\t"
            "sxtb16 %[bl], %[vb]\n\t"
            "sxtb16 %[vb], %[vb], ror #8\n\t"
            "sxtb16 %[wh], %[wl], ror #8\n\t"
            "sxtb16 %[wl], %[wl]\n\t"
            "smlad %[a00], %[al], %[wl], %[a00]\n\t"
            "smlad %[a00], %[va], %[wh], %[a00]\n\t"
            "smlad %[a01], %[bl], %[wl], %[a01]\n\t"
            "smlad %[a01], %[vb], %[wh], %[a01]\n\t"
            "ldr %[wl], [%[w1]], #4\n\t"
            "sxtb16 %[wh], %[wl], ror #8\n\t"
            "sxtb16 %[wl], %[wl]\n\t"
            "smlad %[a10], %[al], %[wl], %[a10]\n\t"
            "smlad %[a10], %[va], %[wh], %[a10]\n\t"
            "smlad %[a11], %[bl], %[wl], %[a11]\n\t"
            "smlad %[a11], %[vb], %[wh], %[a11]\n\t"
            "ldr %[wl], %[end]\n\t"
            "cmp %[xa], %[wl]\n\t"
            "bne 1b\n\t"
            : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [xa] "+r"(xa), [xb] "+r"(xb),
              [w0] "+r"(w0), [w1] "+r"(w1), [va] "=&r"(va), [vb] "=&r"(vb), [al] "=&r"(al), [bl] "=&r"(bl),
              [wl] "=&r"(wl), [wh] "=&r"(wh)
            : [end] "m"(end)
            : "cc");
    }
    for (i = 0; i < (k & 3); ++i) {
        a00 += xa[i] * w0[i];
        a01 += xb[i] * w0[i];
        a10 += xa[i] * w1[i];
        a11 += xb[i] * w1[i];
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* One field, one channel (raw inputs, as above). */
static int32_t dsp_dot(const int8_t *x, const int8_t *w, int32_t k, int32_t a)
{
    const int8_t *const end = x + (k & ~3);
    int32_t i;
    while (x < end) {
        const uint32_t v = evo_ld32(x), wv = evo_ld32(w);
        a = evo_smlad(evo_sxtb16(v), evo_sxtb16(wv), a);
        a = evo_smlad(evo_sxtb16_ror8(v), evo_sxtb16_ror8(wv), a);
        x += 4;
        w += 4;
    }
    for (i = 0; i < (k & 3); ++i) {
        a += x[i] * w[i];
    }
    return a;
}

/* All output channels of one or two pixels (fields xa and xb; xb NULL: one pixel). Every sum
 * starts from w_offset_sum[oc] = input_offset * sum(w): with raw inputs (padding = the zero
 * point) that adds input_offset to every tap, in exact int32 arithmetic. */
static void dsp_pixels(const evo_conv2d_s8_params_t *p, const int8_t *xa, const int8_t *xb, const int8_t *filter,
                       const int32_t *bias, int8_t *out)
{
    const int32_t out_c = p->out.c;
    const int32_t k = p->kh * p->kw * p->in.c;
    const int32_t *const wsum = p->w_offset_sum;
    int32_t acc[4];
    int32_t oc;
    for (oc = 0; oc + 2 <= out_c; oc += 2) {
        const int8_t *w = filter + (size_t)oc * k;
        acc[0] = acc[1] = wsum[oc];
        acc[2] = acc[3] = wsum[oc + 1];
        dsp_tile_2x2(xa, xb != NULL ? xb : xa, w, k, acc);
        out[oc] = conv_finish(p, bias, oc, acc[0]);
        out[oc + 1] = conv_finish(p, bias, oc + 1, acc[2]);
        if (xb != NULL) {
            out[out_c + oc] = conv_finish(p, bias, oc, acc[1]);
            out[out_c + oc + 1] = conv_finish(p, bias, oc + 1, acc[3]);
        }
    }
    if (oc < out_c) {
        const int8_t *w = filter + (size_t)oc * k;
        out[oc] = conv_finish(p, bias, oc, dsp_dot(xa, w, k, wsum[oc]));
        if (xb != NULL) {
            out[out_c + oc] = conv_finish(p, bias, oc, dsp_dot(xb, w, k, wsum[oc]));
        }
    }
}

static void dsp_conv(const evo_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter, const int32_t *bias,
                     int8_t *output, int8_t *stg)
{
    const int32_t out_w = p->out.w, out_c = p->out.c;
    const int32_t k = p->kh * p->kw * p->in.c;
    const int32_t pixels = p->out.h * out_w;
    const size_t stage = (size_t)((k + 3) & ~3);
    int32_t b, q;

    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * p->in.h * p->in.w * p->in.c;
        for (q = 0; q < pixels; q += 2) {
            const int32_t ya = q / out_w, xa_ = q - ya * out_w;
            const int8_t *fa = dsp_field(p, in_b, ya, xa_, stg);
            const int8_t *fb = NULL;
            if (q + 1 < pixels) {
                const int32_t yb = xa_ + 1 < out_w ? ya : ya + 1, xb_ = xa_ + 1 < out_w ? xa_ + 1 : 0;
                fb = dsp_field(p, in_b, yb, xb_, stg != NULL ? stg + stage : NULL);
                if (fb == NULL) {
                    ref_pixel(p, in_b, yb, xb_, filter, bias, output + out_c);
                }
            }
            if (fa == NULL) {
                ref_pixel(p, in_b, ya, xa_, filter, bias, output);
                if (fb != NULL) {
                    dsp_pixels(p, fb, NULL, filter, bias, output + out_c);
                }
            } else {
                dsp_pixels(p, fa, fb, filter, bias, output);
            }
            output += q + 1 < pixels ? 2 * out_c : out_c;
        }
    }
}
#endif


evo_status_t evo_conv2d_s8(const evo_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output, void *scratch)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w, out_c = p->out.c;
    const int32_t kh = p->kh, kw = p->kw;
    const int32_t dil_h = p->dil_h, dil_w = p->dil_w;
    const int32_t in_off = p->input_offset;
    const int32_t k = kh * kw * in_c;
    const int32_t kp = (k + 7) & ~7;
    int16_t *patch = (int16_t *)scratch;
    int32_t b, oy, ox, fy, fx, c, i;

    if (p->in.n != p->out.n || p->stride_h < 1 || p->stride_w < 1 || dil_h < 1 || dil_w < 1) {
        return EVO_ERR_ARG;
    }
#if defined(__ARM_FEATURE_DSP)
    if (in_off >= -127 && in_off <= 128 && p->w_offset_sum != NULL) {
        dsp_conv(p, input, filter, bias, output,
                 (scratch != NULL && p->patch_bytes >= dsp_stage_need(k)) ? (int8_t *)scratch : NULL);
        return EVO_OK;
    }
#endif
#if EVO_VECTOR_LOOPS
    /* The per-block set-up (requantisation constants, widened filter rows, the field gathered once
     * per block) pays for itself over several pixels; the row-streaming wrapper may call with rows
     * of one pixel, which the loops below handle better. */
    if (in_off >= -32000 && in_off <= 32000 && p->out.n * p->out.h * p->out.w >= 4) {
        conv_portable(p, input, filter, bias, output, (patch != NULL && p->patch_bytes >= kp * 2) ? patch : NULL, kp);
        return EVO_OK;
    }
#endif
    if (patch == NULL || p->patch_bytes < kp * 2 || in_off < -32000 || in_off > 32000) {
        conv_reference(p, input, filter, bias, output);
        return EVO_OK;
    }
    for (i = k; i < kp; ++i) {
        patch[i] = 0;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int16_t *dst = patch;
                for (fy = 0; fy < kh; ++fy) {
                    const int32_t iy = iy0 + fy * dil_h;
                    if (iy < 0 || iy >= in_h) {
                        for (i = 0; i < kw * in_c; ++i) {
                            dst[i] = 0;
                        }
                        dst += kw * in_c;
                        continue;
                    }
                    {
                        const int8_t *in_row = in_b + (size_t)iy * in_w * in_c;
                        if (dil_w == 1 && ix0 >= 0 && ix0 + kw <= in_w) {
                            /* whole row of taps is one contiguous run of kw * in_c bytes */
                            const int8_t *src = in_row + (size_t)ix0 * in_c;
                            const int32_t n = kw * in_c;
                            for (i = 0; i < n; ++i) {
                                dst[i] = (int16_t)(src[i] + in_off);
                            }
                            dst += n;
                        } else {
                            for (fx = 0; fx < kw; ++fx) {
                                const int32_t ix = ix0 + fx * dil_w;
                                if (ix < 0 || ix >= in_w) {
                                    for (c = 0; c < in_c; ++c) {
                                        dst[c] = 0;
                                    }
                                } else {
                                    const int8_t *src = in_row + (size_t)ix * in_c;
                                    for (c = 0; c < in_c; ++c) {
                                        dst[c] = (int16_t)(src[c] + in_off);
                                    }
                                }
                                dst += in_c;
                            }
                        }
                    }
                }
                conv_pixel(p, patch, k, kp, filter, bias, output);
                output += out_c;
            }
        }
    }
    return EVO_OK;
}
