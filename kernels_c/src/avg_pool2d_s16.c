/* AVERAGE_POOL_2D, int16 (16x8 mode), the int8 kernel's arithmetic: window sum divided by the
 * number of in-bounds elements, rounded half away from zero, clamped to the activation range
 * (TFLM reference_integer_ops). */
#include "evo/pool.h"

evo_status_t evo_avg_pool2d_s16(const evo_avg_pool2d_params_t *p, const int16_t *input, int16_t *output)
{
    const int32_t ih = p->in.h, iw = p->in.w, c = p->in.c;
    int32_t b, oy, ox, ch, fy, fx;
    for (b = 0; b < p->in.n; ++b) {
        const int16_t *in_b = input + (size_t)b * ih * iw * c;
        for (oy = 0; oy < p->out.h; ++oy) {
            const int32_t y_origin = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = EVO_MAX(0, -y_origin);
            const int32_t fy1 = EVO_MIN(p->filter_h, ih - y_origin);
            for (ox = 0; ox < p->out.w; ++ox) {
                const int32_t x_origin = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = EVO_MAX(0, -x_origin);
                const int32_t fx1 = EVO_MIN(p->filter_w, iw - x_origin);
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                int16_t *out = output + (((size_t)b * p->out.h + oy) * p->out.w + ox) * c;
                if (fy1 <= fy0 || fx1 <= fx0) {
                    return EVO_ERR_ARG;
                }
                for (ch = 0; ch < c; ++ch) {
                    int32_t acc = 0;
                    for (fy = fy0; fy < fy1; ++fy) {
                        const int16_t *row = in_b + ((size_t)(y_origin + fy) * iw + x_origin) * c + ch;
                        for (fx = fx0; fx < fx1; ++fx) {
                            acc += row[(size_t)fx * c];
                        }
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    out[ch] = (int16_t)EVO_CLAMP(acc, p->act_min, p->act_max);
                }
            }
        }
    }
    return EVO_OK;
}
