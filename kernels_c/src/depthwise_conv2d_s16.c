/* DEPTHWISE_CONV_2D, 16x8: int16 input, int8 filter [1, KH, KW, IC * M], int64 bias, int16
 * output; output channel oc = ic * M + m. Bit-exact with TFLite Micro's reference
 * DepthwiseConvPerChannel for int16 inputs (evo/conv_s16.h). */
#include "evo/conv.h"
#include "evo/conv_s16.h"

evo_status_t evo_depthwise_conv2d_s16(const evo_depthwise_conv2d_s16_params_t *p, const int16_t *input,
                                      const int8_t *filter, const int64_t *bias, int16_t *output)
{
    const evo_conv_s16_geom_t g = EVO_CONV_S16_GEOM(p);
    const int32_t iw = p->in.w, ic_n = p->in.c, oc_n = p->out.c, m_n = p->depth_multiplier;
    evo_conv_s16_window_t w;
    int32_t ic, m, ky, kx, more;
    if (ic_n <= 0 || m_n <= 0 || oc_n != ic_n * m_n) {
        return EVO_ERR_ARG;
    }
    for (more = evo_conv_s16_window_first(&g, &w); more; more = evo_conv_s16_window_next(&g, &w)) {
        const int16_t *in_b = input + w.batch;
        int16_t *out = output + w.pix * oc_n;
        for (ic = 0; ic < ic_n; ++ic) {
            for (m = 0; m < m_n; ++m) {
                const int32_t oc = ic * m_n + m;
                int64_t acc = 0;
                for (ky = w.ky_lo; ky < w.ky_hi; ++ky) {
                    const int16_t *row = in_b + (size_t)(w.y0 + ky * p->dil_h) * iw * ic_n;
                    for (kx = w.kx_lo; kx < w.kx_hi; ++kx) {
                        const int32_t x = row[(size_t)(w.x0 + kx * p->dil_w) * ic_n + ic];
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
    return EVO_OK;
}
