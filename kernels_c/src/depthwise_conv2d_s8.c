/* DEPTHWISE_CONV_2D, int8 activations and weights (per-channel or per-tensor), int32 bias.
 * Output channel oc = ic * depth_multiplier + m. Bit-exact with TFLite Micro's reference
 * DepthwiseConvPerChannel.
 *
 * depth_multiplier == 1 (the common case): for each output pixel, channels are processed in
 * chunks of EVO_DW_CHUNK with an int32 accumulator array; every in-image tap adds
 * (input + input_offset) * weight over a contiguous run of channels (input and filter are both
 * channel-innermost), which gcc -O3 vectorises. Taps outside the image are skipped, exactly as
 * in the reference. Other multipliers use the straightforward loop. */
#include "evo/conv.h"
#include "evo/fixedpoint.h"
#include "evo/requant_block.h"
#if defined(__ARM_FEATURE_DSP)
#include "evo/arm_dsp.h"
#define EVO_REQUANTIZE evo_requantize_dsp /* same results, fewer instructions (evo/arm_dsp.h) */
#else
#define EVO_REQUANTIZE evo_requantize
#endif

#define EVO_DW_CHUNK 64

static int8_t dw_finish(const evo_depthwise_conv2d_s8_params_t *p, const int32_t *bias, int32_t oc, int32_t acc)
{
    int32_t out;
    if (bias != NULL) {
        acc += bias[oc];
    }
    out = EVO_REQUANTIZE(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
    out = EVO_CLAMP(out, p->act_min, p->act_max);
    return (int8_t)out;
}

static void dw_mult1(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                     const int32_t *bias, int8_t *output)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, ch = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w;
    const int32_t kh = p->kh, kw = p->kw;
    const int16_t in_off = (int16_t)p->input_offset;
    int32_t acc[EVO_DW_CHUNK];
    int32_t b, oy, ox, fy, fx, c0, c;

    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * ch;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int32_t fy_lo, fy_hi;
            evo_conv_tap_range(iy0, p->dil_h, in_h, kh, &fy_lo, &fy_hi);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t fx_lo, fx_hi;
                evo_conv_tap_range(ix0, p->dil_w, in_w, kw, &fx_lo, &fx_hi);
                for (c0 = 0; c0 < ch; c0 += EVO_DW_CHUNK) {
                    const int32_t n = (ch - c0) < EVO_DW_CHUNK ? (ch - c0) : EVO_DW_CHUNK;
                    for (c = 0; c < n; ++c) {
                        acc[c] = 0;
                    }
                    for (fy = fy_lo; fy < fy_hi; ++fy) {
                        const int8_t *in_row = in_b + (size_t)(iy0 + fy * p->dil_h) * in_w * ch + c0;
                        const int8_t *w_row = filter + (size_t)fy * kw * ch + c0;
                        for (fx = fx_lo; fx < fx_hi; ++fx) {
                            const int8_t *xp = in_row + (size_t)(ix0 + fx * p->dil_w) * ch;
                            const int8_t *wp = w_row + (size_t)fx * ch;
                            for (c = 0; c < n; ++c) {
                                const int16_t x = (int16_t)(xp[c] + in_off);
                                acc[c] += (int32_t)x * (int32_t)wp[c];
                            }
                        }
                    }
                    for (c = 0; c < n; ++c) {
                        output[c0 + c] = dw_finish(p, bias, c0 + c, acc[c]);
                    }
                }
                output += ch;
            }
        }
    }
}

#if defined(__ARM_FEATURE_DSP)
/* Cortex-M DSP path, depth_multiplier 1: four channels per word. Per in-image tap, one load of
 * four inputs widened with SXTAB16 (adding input_offset), one load of four weights widened with
 * SXTB16, and four SMLABB/SMLATT into the four channel accumulators (reordered pairs: (c0, c2),
 * (c1, c3)). Taps outside the image are skipped, as in the reference. */
static void dw_dsp(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                   const int32_t *bias, int8_t *output)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, ch = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w;
    const int32_t kw = p->kw;
    const int32_t in_off = p->input_offset;
    const uint32_t off2 = evo_pack_off16(in_off);
    const size_t tap_x = (size_t)p->dil_w * ch;
    const size_t row_x = (size_t)p->dil_h * in_w * ch;
    const size_t row_w = (size_t)kw * ch;
    int32_t b, oy, ox, fy, fx, c;

    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * ch;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int32_t fy_lo, fy_hi;
            evo_conv_tap_range(iy0, p->dil_h, in_h, p->kh, &fy_lo, &fy_hi);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t fx_lo, fx_hi;
                const int8_t *x0, *w0;
                evo_conv_tap_range(ix0, p->dil_w, in_w, kw, &fx_lo, &fx_hi);
                x0 = in_b + ((size_t)(iy0 + fy_lo * p->dil_h) * in_w + (ix0 + fx_lo * p->dil_w)) * ch;
                w0 = filter + ((size_t)fy_lo * kw + fx_lo) * ch;
                for (c = 0; c + 4 <= ch; c += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    const int8_t *xr = x0 + c, *wr = w0 + c;
                    for (fy = fy_lo; fy < fy_hi; ++fy) {
                        const int8_t *xp = xr, *wp = wr;
                        for (fx = fx_lo; fx < fx_hi; ++fx) {
                            const uint32_t xv = evo_ld32(xp), wv = evo_ld32(wp);
                            const uint32_t xl = evo_sxtab16(off2, xv), xh = evo_sxtab16_ror8(off2, xv);
                            const uint32_t wl = evo_sxtb16(wv), wh = evo_sxtb16_ror8(wv);
                            a0 = evo_smlabb(xl, wl, a0);
                            a2 = evo_smlatt(xl, wl, a2);
                            a1 = evo_smlabb(xh, wh, a1);
                            a3 = evo_smlatt(xh, wh, a3);
                            xp += tap_x;
                            wp += ch;
                        }
                        xr += row_x;
                        wr += row_w;
                    }
                    output[c] = dw_finish(p, bias, c, a0);
                    output[c + 1] = dw_finish(p, bias, c + 1, a1);
                    output[c + 2] = dw_finish(p, bias, c + 2, a2);
                    output[c + 3] = dw_finish(p, bias, c + 3, a3);
                }
                for (; c < ch; ++c) {
                    int32_t acc = 0;
                    const int8_t *xr = x0 + c, *wr = w0 + c;
                    for (fy = fy_lo; fy < fy_hi; ++fy) {
                        for (fx = 0; fx < fx_hi - fx_lo; ++fx) {
                            acc += (xr[(size_t)fx * tap_x] + in_off) * wr[(size_t)fx * ch];
                        }
                        xr += row_x;
                        wr += row_w;
                    }
                    output[c] = dw_finish(p, bias, c, acc);
                }
                output += ch;
            }
        }
    }
}
#endif

static void dw_general(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w, out_c = p->out.c;
    const int32_t kh = p->kh, kw = p->kw, mult = p->depth_multiplier;
    const int32_t in_off = p->input_offset;
    int32_t b, oy, ox, ic, m, fy, fx;

    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int32_t fy_lo, fy_hi;
            evo_conv_tap_range(iy0, p->dil_h, in_h, kh, &fy_lo, &fy_hi);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t fx_lo, fx_hi;
                evo_conv_tap_range(ix0, p->dil_w, in_w, kw, &fx_lo, &fx_hi);
                for (ic = 0; ic < in_c; ++ic) {
                    for (m = 0; m < mult; ++m) {
                        const int32_t oc = ic * mult + m;
                        int32_t acc = 0;
                        for (fy = fy_lo; fy < fy_hi; ++fy) {
                            const int8_t *xp = in_b + ((size_t)(iy0 + fy * p->dil_h) * in_w) * in_c + ic;
                            const int8_t *wp = filter + (size_t)fy * kw * out_c + oc;
                            for (fx = fx_lo; fx < fx_hi; ++fx) {
                                acc += ((int32_t)xp[(size_t)(ix0 + fx * p->dil_w) * in_c] + in_off) *
                                       (int32_t)wp[(size_t)fx * out_c];
                            }
                        }
                        output[oc] = dw_finish(p, bias, oc, acc);
                    }
                }
                output += out_c;
            }
        }
    }
}

#if EVO_VECTOR_LOOPS
/* ---------------------------------------------------------------- vector-unit path (hosts, NEON)
 * Loop shapes a compiler vectorises well; Cortex-M builds keep the loops above. */

/* Output pixel (oy, ox) for channels [c0, c0 + n), any position: per in-image tap,
 * acc[j] += (input + input_offset) * weight over n contiguous channels (taps outside the image
 * are skipped, as in the reference). With |input + offset| <= 255 every product fits in int16,
 * which lets the compiler use 16-bit vector multiplies. */
static void dw_pixel(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *in_b, const int8_t *filter, int32_t oy,
                     int32_t ox, int32_t c0, int32_t n, int32_t *acc)
{
    const int32_t in_w = p->in.w, ch = p->in.c, kw = p->kw;
    const int16_t in_off = (int16_t)p->input_offset;
    const int32_t iy0 = oy * p->stride_h - p->pad_h;
    const int32_t ix0 = ox * p->stride_w - p->pad_w;
    int32_t fy_lo, fy_hi, fx_lo, fx_hi, fy, fx, j;
    evo_conv_tap_range(iy0, p->dil_h, p->in.h, p->kh, &fy_lo, &fy_hi);
    evo_conv_tap_range(ix0, p->dil_w, in_w, kw, &fx_lo, &fx_hi);
    for (fy = fy_lo; fy < fy_hi; ++fy) {
        const int8_t *in_row = in_b + (size_t)(iy0 + fy * p->dil_h) * in_w * ch + c0;
        const int8_t *w_row = filter + (size_t)fy * kw * ch + c0;
        for (fx = fx_lo; fx < fx_hi; ++fx) {
            const int8_t *xp = in_row + (size_t)(ix0 + fx * p->dil_w) * ch;
            const int8_t *wp = w_row + (size_t)fx * ch;
            for (j = 0; j < n; ++j) {
                acc[j] += (int16_t)((int16_t)(xp[j] + in_off) * (int16_t)wp[j]);
            }
        }
    }
}

#define EVO_DW_WIDE 256 /* int16 entries of the widened filter block on the stack */

/* Output pixel (oy, ox) whose window lies inside the image, channels [c0, c0 + n), with the
 * block's weights already widened to int16 (wide[tap * n + j]): no bounds, no widening of
 * weights in the loop. */
static void dw_inner(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *in_b, const int16_t *wide, int32_t iy0,
                     int32_t ix0, int32_t c0, int32_t n, int32_t *acc)
{
    const int32_t in_w = p->in.w, ch = p->in.c, kw = p->kw;
    const int16_t in_off = (int16_t)p->input_offset;
    const size_t tap_x = (size_t)p->dil_w * ch, row_x = (size_t)p->dil_h * in_w * ch;
    const int8_t *x_row = in_b + ((size_t)iy0 * in_w + ix0) * ch + c0;
    int32_t fy, fx, j;
    for (fy = 0; fy < p->kh; ++fy) {
        const int8_t *xp = x_row;
        for (fx = 0; fx < kw; ++fx) {
            for (j = 0; j < n; ++j) {
                acc[j] += (int16_t)((int16_t)(xp[j] + in_off) * wide[j]);
            }
            xp += tap_x;
            wide += n;
        }
        x_row += row_x;
    }
}

/* depth_multiplier 1: channel blocks outermost, so each block's requantisation constants (and
 * its int16 weights, when they fit) are set up once per call and reused for every pixel.
 * Fewer channels than a block with stride 1 (e.g. 8): `group` neighbouring output pixels go
 * through the vector loop together - their inputs are one contiguous run of group * ch bytes -
 * with the weights and requantisation constants repeated per pixel, so the lanes stay full. */
static void dw_blocks(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                     const int32_t *bias, int8_t *output)
{
    const int32_t ch = p->in.c, out_w = p->out.w, taps = p->kh * p->kw;
    const int32_t kh_span = (p->kh - 1) * p->dil_h + 1, kw_span = (p->kw - 1) * p->dil_w + 1;
    const int32_t group = (ch < EVO_RQ_LANES && p->stride_w == 1) ? EVO_RQ_LANES / ch : 1;
    const size_t in_img = (size_t)p->in.h * p->in.w * ch;
    int16_t wide[EVO_DW_WIDE];
    int32_t acc[EVO_RQ_LANES], mult[EVO_RQ_LANES], shift[EVO_RQ_LANES], lane_bias[EVO_RQ_LANES];
    evo_rq_block_t rq;
    int32_t c0, b, oy, ox, j, t, g;

    for (c0 = 0; c0 < ch; c0 += EVO_RQ_LANES) {
        const int32_t n = (ch - c0) < EVO_RQ_LANES ? (ch - c0) : EVO_RQ_LANES;
        const int32_t lanes = n * group; /* group > 1 only when n == ch */
        const int widened = taps * lanes <= EVO_DW_WIDE;
        for (g = 0; g < lanes; g += n) { /* lane g + j holds channel c0 + j */
            for (j = 0; j < n; ++j) {
                mult[g + j] = p->multiplier[c0 + j];
                shift[g + j] = p->shift[c0 + j];
                lane_bias[g + j] = bias != NULL ? bias[c0 + j] : 0;
            }
        }
        if (!evo_rq_block_init(&rq, mult, shift, lanes)) {
            dw_general(p, input, filter, bias, output);
            return;
        }
        if (widened) {
            for (t = 0; t < taps; ++t) {
                for (g = 0; g < lanes; g += n) {
                    for (j = 0; j < n; ++j) {
                        wide[t * lanes + g + j] = filter[(size_t)t * ch + c0 + j];
                    }
                }
            }
        }
        for (b = 0; b < p->in.n; ++b) {
            const int8_t *in_b = input + (size_t)b * in_img;
            for (oy = 0; oy < p->out.h; ++oy) {
                const int32_t iy0 = oy * p->stride_h - p->pad_h;
                const int rows_in = widened && iy0 >= 0 && iy0 + kh_span <= p->in.h;
                int8_t *o = output + (((size_t)b * p->out.h + oy) * out_w) * ch + c0;
                for (ox = 0; ox < out_w;) {
                    const int32_t ix0 = ox * p->stride_w - p->pad_w;
                    /* all `group` pixels inside the image (stride 1: the last one ends group - 1 later) */
                    const int inner = rows_in && ix0 >= 0 && ix0 + kw_span + (group - 1) <= p->in.w && ox + group <= out_w;
                    const int32_t count = inner ? lanes : n;
                    for (j = 0; j < count; ++j) {
                        acc[j] = lane_bias[j];
                    }
                    if (inner) {
                        dw_inner(p, in_b, wide, iy0, ix0, c0, lanes, acc);
                        ox += group;
                    } else {
                        dw_pixel(p, in_b, filter, oy, ox, c0, n, acc);
                        ++ox;
                    }
                    evo_rq_block_s8(&rq, acc, count, p->output_offset, p->act_min, p->act_max, o + (size_t)(ox - count / n) * ch);
                }
            }
        }
    }
}
#endif

evo_status_t evo_depthwise_conv2d_s8(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                     const int8_t *filter, const int32_t *bias, int8_t *output, void *scratch)
{
    (void)scratch;
    const int32_t mult = p->depth_multiplier;

    if (p->in.n != p->out.n || mult < 1 || p->in.c * mult != p->out.c || p->stride_h < 1 || p->stride_w < 1 ||
        p->dil_h < 1 || p->dil_w < 1) {
        return EVO_ERR_ARG;
    }
#if defined(__ARM_FEATURE_DSP)
    if (mult == 1 && p->input_offset >= -32000 && p->input_offset <= 32000) {
        dw_dsp(p, input, filter, bias, output);
        return EVO_OK;
    }
#endif
#if EVO_VECTOR_LOOPS
    /* The per-block set-up pays for itself over several pixels; the row-streaming wrapper may
     * call with rows of one pixel, which the loop below handles better. */
    if (mult == 1 && p->input_offset >= -127 && p->input_offset <= 128 && p->out.n * p->out.h * p->out.w >= 4) {
        dw_blocks(p, input, filter, bias, output);
        return EVO_OK;
    }
#endif
    if (mult == 1 && p->input_offset >= -32000 && p->input_offset <= 32000) {
        dw_mult1(p, input, filter, bias, output);
    } else {
        dw_general(p, input, filter, bias, output);
    }
    return EVO_OK;
}
