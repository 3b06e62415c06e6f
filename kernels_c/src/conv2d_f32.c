/* CONV_2D, float32. Same loop structure as TFLite's reference Conv (taps outside the image are
 * skipped, bias added after the dot product, then the activation clamp). */
#include "evo/conv.h"

evo_status_t evo_conv2d_f32(const evo_conv2d_f32_params_t *p, const float *input, const float *filter,
                            const float *bias, float *output, void *scratch)
{
    (void)scratch;
    const int32_t in_h = p->in.h, in_w = p->in.w, in_c = p->in.c;
    const int32_t out_h = p->out.h, out_w = p->out.w, out_c = p->out.c;
    const int32_t kh = p->kh, kw = p->kw;
    const int32_t filter_oc_stride = kh * kw * in_c;
    int32_t b, oy, ox, oc, fy, fx, c;

    if (p->in.n != p->out.n || p->stride_h < 1 || p->stride_w < 1 || p->dil_h < 1 || p->dil_w < 1) {
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
                for (oc = 0; oc < out_c; ++oc) {
                    const float *w_oc = filter + (size_t)oc * filter_oc_stride;
                    float acc = 0.0f;
                    for (fy = fy_lo; fy < fy_hi; ++fy) {
                        const float *in_row = in_b + (size_t)(iy0 + fy * p->dil_h) * in_w * in_c;
                        const float *w_row = w_oc + (size_t)fy * kw * in_c;
                        for (fx = fx_lo; fx < fx_hi; ++fx) {
                            const float *xp = in_row + (size_t)(ix0 + fx * p->dil_w) * in_c;
                            const float *wp = w_row + (size_t)fx * in_c;
                            for (c = 0; c < in_c; ++c) {
                                acc += xp[c] * wp[c];
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    *output++ = EVO_MIN(EVO_MAX(acc, p->act_min), p->act_max);
                }
            }
        }
    }
    return EVO_OK;
}
