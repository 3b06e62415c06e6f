/* CONV_2D, int8 activations and weights (per-channel or broadcast per-tensor), int32 bias.
 * Bit-exact with TFLite Micro's reference ConvPerChannel. */
#include "evo/conv.h"
#include "evo/fixedpoint.h"

evo_status_t evo_conv2d_s8(const evo_conv2d_s8_params_t *p, const int8_t *input, const int8_t *filter,
                           const int32_t *bias, int8_t *output)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w, out_c = p->out.c;
    const int32_t kh = p->kh, kw = p->kw;
    const int32_t in_off = p->input_offset;
    const int32_t filter_oc_stride = kh * kw * in_c;
    int32_t b, oy, ox, oc, fy, fx, c;

    if (p->in.n != p->out.n || p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int8_t *in_b = input + (size_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t iy0 = oy * p->stride_h - p->pad_h;
            int32_t fy_lo, fy_hi;
            evo_conv_tap_range(iy0, p->dil_h, in_h, kh, &fy_lo, &fy_hi);
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t ix0 = ox * p->stride_w - p->pad_w;
                int32_t fx_lo, fx_hi;
                int full;
                evo_conv_tap_range(ix0, p->dil_w, in_w, kw, &fx_lo, &fx_hi);
                full = fy_lo == 0 && fy_hi == kh && fx_lo == 0 && fx_hi == kw;
                for (oc = 0; oc < out_c; ++oc) {
                    const int8_t *w_oc = filter + (size_t)oc * filter_oc_stride;
                    int32_t acc = 0;
                    int32_t out;
                    for (fy = fy_lo; fy < fy_hi; ++fy) {
                        const int32_t iy = iy0 + fy * p->dil_h;
                        const int8_t *in_row = in_b + (size_t)iy * in_w * in_c;
                        const int8_t *w_row = w_oc + (size_t)fy * kw * in_c;
                        for (fx = fx_lo; fx < fx_hi; ++fx) {
                            const int8_t *xp = in_row + (size_t)(ix0 + fx * p->dil_w) * in_c;
                            const int8_t *wp = w_row + (size_t)fx * in_c;
                            if (full) {
                                for (c = 0; c < in_c; ++c) {
                                    acc += (int32_t)xp[c] * (int32_t)wp[c];
                                }
                            } else {
                                for (c = 0; c < in_c; ++c) {
                                    acc += ((int32_t)xp[c] + in_off) * (int32_t)wp[c];
                                }
                            }
                        }
                    }
                    if (full) {
                        acc += p->w_offset_sum[oc];
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    out = evo_requantize(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
                    out = EVO_CLAMP(out, p->act_min, p->act_max);
                    *output++ = (int8_t)out;
                }
            }
        }
    }
    return EVO_OK;
}
