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
#include "evo/fixedpoint.h"


static int8_t conv_finish(const evo_conv2d_s8_params_t *p, const int32_t *bias, int32_t oc, int32_t acc)
{
    int32_t out;
    if (bias != NULL) {
        acc += bias[oc];
    }
    out = evo_requantize(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
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

static void conv_reference(const evo_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w, out_c = p->out.c;
    const int32_t kh = p->kh, kw = p->kw;
    const int32_t in_off = p->input_offset;
    const int32_t filter_oc_stride = kh * kw * in_c;
    int32_t b, oy, ox, oc, fy, fx, c;

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
                for (oc = 0; oc < out_c; ++oc) {
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
                    *output++ = conv_finish(p, bias, oc, acc);
                }
            }
        }
    }
}

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
