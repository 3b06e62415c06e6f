/* LceBMaxPool2d: bitwise AND of the packed words over the in-bounds window. */
#include "evo/bnn.h"

evo_status_t evo_bmaxpool2d(const evo_bmaxpool2d_params_t *p, const int32_t *input, int32_t *output)
{
    const int32_t ih = p->in.h, iw = p->in.w, c = p->in.c;
    int32_t b, oy, ox, ch, fy, fx;
    for (b = 0; b < p->in.n; ++b) {
        const int32_t *in_b = input + (size_t)b * ih * iw * c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = EVO_MAX(0, -y0), fy1 = EVO_MIN(p->filter_h, ih - y0);
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = EVO_MAX(0, -x0), fx1 = EVO_MIN(p->filter_w, iw - x0);
                int32_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * c;
                for (ch = 0; ch < c; ++ch) {
                    uint32_t m = 0xFFFFFFFFu;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const int32_t *row = in_b + ((size_t)(y0 + fy) * iw + x0) * c + ch;
                        for (fx = fx0; fx < fx1; ++fx) {
                            m &= (uint32_t)row[(size_t)fx * c];
                        }
                    }
                    out[ch] = (int32_t)m;
                }
            }
        }
    }
    return EVO_OK;
}
