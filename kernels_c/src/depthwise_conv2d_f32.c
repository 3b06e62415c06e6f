/* DEPTHWISE_CONV_2D, float32. Output channel oc = ic * depth_multiplier + m. */
#include "evo/conv.h"

evo_status_t evo_depthwise_conv2d_f32(const evo_depthwise_conv2d_f32_params_t *p, const float *input,
                                      const float *filter, const float *bias, float *output, void *scratch)
{
    (void)scratch;
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w, out_c = p->out.c;
    const int32_t kh = p->kh, kw = p->kw, mult = p->depth_multiplier;
    int32_t b, oy, ox, ic, m, fy, fx;

    if (p->in.n != p->out.n || mult < 1 || in_c * mult != out_c || p->stride_h < 1 || p->stride_w < 1 ||
        p->dil_h < 1 || p->dil_w < 1) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const float *in_b = input + (size_t)b * in_h * in_w * in_c;
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
                        float acc = 0.0f;
                        for (fy = fy_lo; fy < fy_hi; ++fy) {
                            const float *xp = in_b + ((size_t)(iy0 + fy * p->dil_h) * in_w) * in_c + ic;
                            const float *wp = filter + (size_t)fy * kw * out_c + oc;
                            for (fx = fx_lo; fx < fx_hi; ++fx) {
                                acc += xp[(size_t)(ix0 + fx * p->dil_w) * in_c] * wp[(size_t)fx * out_c];
                            }
                        }
                        if (bias != NULL) {
                            acc += bias[oc];
                        }
                        output[oc] = EVO_MIN(EVO_MAX(acc, p->act_min), p->act_max);
                    }
                }
                output += out_c;
            }
        }
    }
    return EVO_OK;
}
