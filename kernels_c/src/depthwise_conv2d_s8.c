/* DEPTHWISE_CONV_2D, int8 activations and weights (per-channel or per-tensor), int32 bias.
 * Output channel oc = ic * depth_multiplier + m. Bit-exact with TFLite Micro's reference
 * DepthwiseConvPerChannel. */
#include "evo/conv.h"
#include "evo/fixedpoint.h"

evo_status_t evo_depthwise_conv2d_s8(const evo_depthwise_conv2d_s8_params_t *p, const int8_t *input,
                                     const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w, out_c = p->out.c;
    const int32_t kh = p->kh, kw = p->kw, mult = p->depth_multiplier;
    const int32_t in_off = p->input_offset;
    int32_t b, oy, ox, ic, m, fy, fx;

    if (p->in.n != p->out.n || mult < 1 || in_c * mult != out_c || p->stride_h < 1 || p->stride_w < 1 ||
        p->dil_h < 1 || p->dil_w < 1) {
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
                for (ic = 0; ic < in_c; ++ic) {
                    for (m = 0; m < mult; ++m) {
                        const int32_t oc = ic * mult + m;
                        int32_t acc = 0;
                        int32_t out;
                        for (fy = fy_lo; fy < fy_hi; ++fy) {
                            const int8_t *xp = in_b + ((size_t)(iy0 + fy * p->dil_h) * in_w) * in_c + ic;
                            const int8_t *wp = filter + (size_t)fy * kw * out_c + oc;
                            if (full) {
                                for (fx = fx_lo; fx < fx_hi; ++fx) {
                                    acc += (int32_t)xp[(size_t)(ix0 + fx * p->dil_w) * in_c] * (int32_t)wp[(size_t)fx * out_c];
                                }
                            } else {
                                for (fx = fx_lo; fx < fx_hi; ++fx) {
                                    acc += ((int32_t)xp[(size_t)(ix0 + fx * p->dil_w) * in_c] + in_off) *
                                           (int32_t)wp[(size_t)fx * out_c];
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
                        output[oc] = (int8_t)out;
                    }
                }
                output += out_c;
            }
        }
    }
    return EVO_OK;
}
