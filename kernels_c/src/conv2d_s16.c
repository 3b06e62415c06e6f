/* CONV_2D, 16x8: int16 input, int8 filter [OC, KH, KW, IC], int64 bias, int16 output.
 * Bit-exact with TFLite Micro's reference ConvPerChannel for int16 inputs (evo/conv_s16.h). */
#include "evo/conv.h"
#include "evo/conv_s16.h"

evo_status_t evo_conv2d_s16(const evo_conv2d_s16_params_t *p, const int16_t *input, const int8_t *filter,
                            const int64_t *bias, int16_t *output)
{
    const int32_t ih = p->in.h, iw = p->in.w, ic = p->in.c, oc_n = p->out.c;
    int32_t b, oy, ox, oc, ky, kx, c;
    if (p->in.c <= 0 || p->out.c <= 0 || p->kh <= 0 || p->kw <= 0) {
        return EVO_ERR_ARG;
    }
    for (b = 0; b < p->in.n; ++b) {
        const int16_t *in_b = input + (size_t)b * ih * iw * ic;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t ky_lo, ky_hi;
            evo_conv_tap_range(y0, p->dil_h, ih, p->kh, &ky_lo, &ky_hi);
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int16_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * oc_n;
                int32_t kx_lo, kx_hi;
                evo_conv_tap_range(x0, p->dil_w, iw, p->kw, &kx_lo, &kx_hi);
                for (oc = 0; oc < oc_n; ++oc) {
                    const int8_t *f_oc = filter + (size_t)oc * p->kh * p->kw * ic;
                    int64_t acc = 0;
                    for (ky = ky_lo; ky < ky_hi; ++ky) {
                        const int16_t *row = in_b + (size_t)(y0 + ky * p->dil_h) * iw * ic;
                        for (kx = kx_lo; kx < kx_hi; ++kx) {
                            const int16_t *px = row + (size_t)(x0 + kx * p->dil_w) * ic;
                            const int8_t *f = f_oc + ((size_t)ky * p->kw + kx) * ic;
                            /* int16 x int8 products summed in int32 per pixel: at most
                             * ic * 2^22, safe for ic < 512; wider inputs go through int64. */
                            if (ic < 512) {
                                int32_t part = 0;
                                for (c = 0; c < ic; ++c) {
                                    part += (int32_t)px[c] * f[c];
                                }
                                acc += part;
                            } else {
                                for (c = 0; c < ic; ++c) {
                                    acc += (int32_t)px[c] * f[c];
                                }
                            }
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
    return EVO_OK;
}
