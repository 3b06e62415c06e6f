/* DEPTHWISE_CONV_2D, 16x8: int16 input, int8 filter [1, KH, KW, IC * M], int64 bias, int16
 * output; output channel oc = ic * M + m. Bit-exact with TFLite Micro's reference
 * DepthwiseConvPerChannel for int16 inputs (evo/conv_s16.h). */
#include "evo/conv.h"
#include "evo/conv_s16.h"

evo_status_t evo_depthwise_conv2d_s16(const evo_depthwise_conv2d_s16_params_t *p, const int16_t *input,
                                      const int8_t *filter, const int64_t *bias, int16_t *output)
{
    const int32_t ih = p->in.h, iw = p->in.w, ic_n = p->in.c, oc_n = p->out.c, m_n = p->depth_multiplier;
    int32_t b, oy, ox, ic, m, ky, kx;
    if (ic_n <= 0 || m_n <= 0 || oc_n != ic_n * m_n) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int16_t *in_b = input + (size_t)b * ih * iw * ic_n;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t ky_lo, ky_hi;
            evo_conv_tap_range(y0, p->dil_h, ih, p->kh, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int16_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * oc_n;
                int32_t kx_lo, kx_hi;
                evo_conv_tap_range(x0, p->dil_w, iw, p->kw, &kx_lo, &kx_hi);
                for (ic = 0; ic < ic_n; ++ic) {
                    for (m = 0; m < m_n; ++m) {
                        const int32_t oc = ic * m_n + m;
                        int64_t acc = 0;
                        for (ky = ky_lo; ky < ky_hi; ++ky) {
                            const int16_t *row = in_b + (size_t)(y0 + ky * p->dil_h) * iw * ic_n;
                            for (kx = kx_lo; kx < kx_hi; ++kx) {
                                const int32_t x = row[(size_t)(x0 + kx * p->dil_w) * ic_n + ic];
                                acc += x * filter[((size_t)ky * p->kw + kx) * oc_n + oc];
                            }
                        }
                        if (bias != NULL) {
                            acc += bias[oc];
                        }
                        out[oc] = evo_clamp_s16(evo_requantize_s64(acc, p->multiplier[oc], p->shift[oc]), p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    return EVO_OK;
}
