/* CONV_2D, 16x8: int16 input, int8 filter [OC, KH, KW, IC], int64 bias, int16 output.
 * Bit-exact with TFLite Micro's reference ConvPerChannel for int16 inputs (evo/conv_s16.h). */
#include "evo/conv.h"
#include "evo/conv_s16.h"

evo_status_t evo_conv2d_s16(const evo_conv2d_s16_params_t *p, const int16_t *input, const int8_t *filter,
                            const int64_t *bias, int16_t *output)
{
    const evo_conv_s16_geom_t g = EVO_CONV_S16_GEOM(p);
    const int32_t iw = p->in.w, ic = p->in.c, oc_n = p->out.c;
    evo_conv_s16_window_t w;
    int32_t oc, ky, kx, c, more;
    if (p->in.c <= 0 || p->out.c <= 0 || p->kh <= 0 || p->kw <= 0) {
        return EVO_ERR_ARG;
    }
    for (more = evo_conv_s16_window_first(&g, &w); more; more = evo_conv_s16_window_next(&g, &w)) {
        const int16_t *in_b = input + w.batch;
        int16_t *out = output + w.pix * oc_n;
        for (oc = 0; oc < oc_n; ++oc) {
            const int8_t *f_oc = filter + (size_t)oc * p->kh * p->kw * ic;
            int64_t acc = 0;
            for (ky = w.ky_lo; ky < w.ky_hi; ++ky) {
                const int16_t *row = in_b + (size_t)(w.y0 + ky * p->dil_h) * iw * ic;
                for (kx = w.kx_lo; kx < w.kx_hi; ++kx) {
                    const int16_t *px = row + (size_t)(w.x0 + kx * p->dil_w) * ic;
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
    return EVO_OK;
}
